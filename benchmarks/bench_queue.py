"""Job queue benchmark: the spool queue side by side with huey's FileHuey and persist-queue.

    python benchmarks/bench_queue.py [--jobs 10000] [--fsync-jobs 2000] [--out benchmarks/out/queue.json]
    python benchmarks/bench_queue.py --postgres [--local] [--pg-jobs 10000] [--pg-rounds 1]

Measures, for small jobs ({"i": n}): enqueue rate; claim+ack rate in one process; drain rate of a
pre-filled queue by 1 and 2 worker processes; end-to-end rate (a producer enqueueing while 1 or 2
worker processes run the jobs, from the first enqueue to the last job done); enqueue→start latency
of an idle worker (p50, p90). Spool runs without and with fsync (fsync runs use --fsync-jobs jobs:
their rate is bound by the disk's flush latency, not by the count). FileHuey and persist-queue are
measured in one process (enqueue, then dequeue+execute / get+ack): neither has leases or
exactly-once claims across processes. huey and persist-queue are dev-only dependencies.

``--postgres`` measures the team tier's ``PostgresQueue`` against pgqueuer on one throwaway
PostgreSQL server (see ``queue_pg.py``); add ``--local`` to run the local backends as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mdstore.queue import Job, JobState, SpoolQueue, Worker

HERE = Path(__file__).resolve()


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


# -- child processes ------------------------------------------------------------------------------


def child_worker(root: str, fsync: str, mode: str) -> None:
    """A worker process: waits for ``<root>/go`` (so start-up is not timed), then works and at
    exit prints when it ran its last job. ``drain``: until the queue is empty. ``serve``: until SIGTERM,
    writing each job's enqueue→start latency to ``<root>/latency.<pid>``."""
    queue = SpoolQueue(root, "bench", fsync=fsync == "1", poll_interval=0.02)
    worker = Worker(queue, shutdown_timeout=5)
    latencies: list[float] = []
    last = [0.0]

    @worker.handler("noop")
    def noop(job: Job) -> None:
        last[0] = time.time()
        if mode == "serve":
            latencies.append(last[0] - job.created_at)

    print("ready", flush=True)
    go = Path(root) / "go"
    while not go.exists():
        time.sleep(0.001)
    worker.run(burst=mode == "drain")
    if latencies:
        Path(root, f"latency.{os.getpid()}").write_text(json.dumps(latencies))
    # When its last job ran (the ack after it is one rename): the end of the timed work.
    print(f"{last[0]!r}", flush=True)
    queue.close()


def start_workers(root: Path, count: int, fsync: bool, mode: str) -> list[subprocess.Popen[str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE), "child", str(root), "1" if fsync else "0", mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return procs


def finish(procs: list[subprocess.Popen[str]]) -> list[float]:
    ends = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        ends.append(float(out.strip().splitlines()[-1]))
    return ends


# -- spool ----------------------------------------------------------------------------------------


def bench_spool(base: Path, jobs: int, fsync: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": f"spool (fsync {'on' if fsync else 'off'})", "jobs": jobs}
    root = base / f"spool-{int(fsync)}"
    queue = SpoolQueue(root, "bench", fsync=fsync)
    start = time.perf_counter()
    for n in range(jobs):
        queue.enqueue("noop", {"i": n})
    result["enqueue_per_s"] = rate(jobs, time.perf_counter() - start)
    start = time.perf_counter()
    done = 0
    while (job := queue.claim()) is not None:
        queue.ack(job)
        done += 1
    assert done == jobs
    result["claim_ack_per_s"] = rate(jobs, time.perf_counter() - start)
    queue.purge(JobState.DONE)  # each phase starts from an empty queue

    for workers in (1, 2):
        # Drain: a pre-filled queue (filled without fsync: only the consuming is timed).
        filler = SpoolQueue(root, "bench", fsync=False)
        for n in range(jobs):
            filler.enqueue("noop", {"i": n})
        filler.close()
        procs = start_workers(root, workers, fsync, "drain")
        (root / "go").touch()
        start = time.time()
        end = max(finish(procs))
        (root / "go").unlink()
        assert queue.stats().done == jobs, queue.stats()
        result[f"drain_{workers}w_per_s"] = rate(jobs, end - start)
        queue.purge(JobState.DONE)

        # End-to-end: idle workers, then a producer enqueues every job.
        procs = start_workers(root, workers, fsync, "serve")
        (root / "go").touch()
        time.sleep(0.2)
        start = time.time()
        for n in range(jobs):
            queue.enqueue("noop", {"i": n})
        while len(os.listdir(root / "bench" / "done")) < jobs:
            time.sleep(0.1)  # a cheap, rare check: the workers report when they ran the last job
        for proc in procs:
            proc.terminate()
        end = max(finish(procs))
        (root / "go").unlink()
        for path in root.glob("latency.*"):
            path.unlink()
        result[f"end_to_end_{workers}w_per_s"] = rate(jobs, end - start)
        queue.purge(JobState.DONE)

    # Latency: one idle worker, one job every 20 ms.
    procs = start_workers(root, 1, fsync, "serve")
    (root / "go").touch()
    time.sleep(0.3)
    for n in range(100):
        queue.enqueue("noop", {"i": n})
        time.sleep(0.02)
    while queue.stats().done < 100:
        time.sleep(0.01)
    for proc in procs:
        proc.terminate()
    finish(procs)
    lat = sorted(x for path in root.glob("latency.*") for x in json.loads(path.read_text()))
    result["latency_p50_ms"] = round(statistics.median(lat) * 1000, 2)
    result["latency_p90_ms"] = round(lat[int(len(lat) * 0.9)] * 1000, 2)
    queue.close()
    return result


# -- others ---------------------------------------------------------------------------------------


def bench_huey(base: Path, jobs: int) -> dict[str, Any]:
    from huey import FileHuey

    huey = FileHuey("bench", path=str(base / "huey"), results=False)

    @huey.task()
    def noop(i: int) -> None:
        pass

    start = time.perf_counter()
    for n in range(jobs):
        noop(n)
    enqueue = time.perf_counter() - start
    start = time.perf_counter()
    done = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        done += 1
    assert done == jobs
    return {
        "backend": "huey FileHuey",
        "jobs": jobs,
        "enqueue_per_s": rate(jobs, enqueue),
        "claim_ack_per_s": rate(jobs, time.perf_counter() - start),
    }


def bench_persist_queue(base: Path, jobs: int) -> dict[str, Any]:
    import persistqueue

    queue = persistqueue.Queue(str(base / "pq"), tempdir=str(base))
    start = time.perf_counter()
    for n in range(jobs):
        queue.put({"kind": "noop", "payload": {"i": n}})
    enqueue = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(jobs):
        queue.get(block=False)
        queue.task_done()
    return {
        "backend": "persist-queue Queue",
        "jobs": jobs,
        "enqueue_per_s": rate(jobs, enqueue),
        "claim_ack_per_s": rate(jobs, time.perf_counter() - start),
    }


# -- report ---------------------------------------------------------------------------------------

COLUMNS = [
    ("backend", "backend"),
    ("jobs", "jobs"),
    ("enqueue_per_s", "enqueue/s"),
    ("claim_ack_per_s", "claim+ack/s (1 proc)"),
    ("drain_1w_per_s", "drain 1 worker/s"),
    ("drain_2w_per_s", "drain 2 workers/s"),
    ("end_to_end_1w_per_s", "end-to-end 1 worker/s"),
    ("end_to_end_2w_per_s", "end-to-end 2 workers/s"),
    ("latency_p50_ms", "enqueue→start p50 ms"),
    ("latency_p90_ms", "p90 ms"),
]


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]] = COLUMNS) -> str:
    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row.get(key, "—") for key, _ in columns]
        lines.append(
            "| "
            + " | ".join(f"{c:,.0f}" if isinstance(c, float) and c > 100 else str(c) for c in cells)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--fsync-jobs", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=HERE.parent / "out" / "queue.json")
    parser.add_argument(
        "--postgres", action="store_true", help="PostgresQueue vs pgqueuer on a throwaway server"
    )
    parser.add_argument("--local", action="store_true", help="with --postgres: the local backends too")
    parser.add_argument("--pg-jobs", type=int, default=10_000)
    parser.add_argument(
        "--pg-rounds", type=int, default=1, help="with --postgres: repeat the backends, alternating"
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="mdstore-bench-queue-", dir=os.environ.get("BENCH_TMP")))
    rows: list[dict[str, Any]] = []
    pg_rows: list[dict[str, Any]] = []
    try:
        if args.local or not args.postgres:
            rows = [
                bench_spool(base, args.jobs, fsync=False),
                bench_spool(base, args.fsync_jobs, fsync=True),
                bench_huey(base, args.jobs),
                bench_persist_queue(base, args.jobs),
            ]
        if args.postgres:
            sys.path.insert(0, str(HERE.parent))
            from queue_pg import COLUMNS as PG_COLUMNS
            from queue_pg import bench_postgres

            pg_rows = bench_postgres(args.pg_jobs, base, args.pg_rounds)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load": os.getloadavg(),
    }
    out = args.out if not args.postgres or args.local else args.out.with_name("queue-postgres.json")
    out.write_text(json.dumps({"meta": meta, "rows": rows + pg_rows}, indent=2))
    if rows:
        print(table(rows))
    if pg_rows:
        print(table(pg_rows, PG_COLUMNS))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_worker(*sys.argv[2:5])
    else:
        main()
