"""Postgres queues for ``bench_queue.py --postgres``: mdstore's ``PostgresQueue`` and pgqueuer
(PyPI ``pgqueuer``, MIT, a dev-only dependency) side by side on one throwaway PostgreSQL server
started for the run (``tests/pgcluster.py``), so both have the same durability settings.

Three rows: PostgresQueue with the ``Worker``'s defaults (batch claims of 10, acks buffered up to
10 ms), PostgresQueue driven one job per round trip (``claim_batch=1, ack_delay=0``: one claim and
one ack statement per job, as before batches existed), and pgqueuer with its defaults. ``rounds``
repeats the three, alternating, on a machine too noisy for one run.

For each: enqueue rate one at a time and in batches of 500 (one process); end-to-end rate with 1, 2
and 4 worker processes (idle workers, then one producer enqueues every job in batches of 100; from
the first enqueue to the last job run); enqueue→start latency p50/p99 (one idle worker, one job every
10 ms, handler start − enqueue time in the payload).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
BATCH = 500
E2E_BATCH = 100
LATENCY_JOBS = 200


def cluster() -> Any:
    spec = importlib.util.spec_from_file_location("pgcluster", REPO / "tests" / "pgcluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PgCluster()


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


# -- children: one worker process each ------------------------------------------------------------


def child(kind: str, url: str, out: str) -> None:
    """A worker of ``kind`` (mdstore | mdstore-single | pgqueuer): prints "ready", works until
    SIGTERM, then writes the time its last job ran and each job's enqueue→start latency to ``out``."""
    seen: list[float] = []
    if kind.startswith("mdstore"):
        from mdstore.queue import Job, PostgresQueue, Worker

        queue = PostgresQueue(url, "bench")
        single = {"claim_batch": 1, "ack_delay": 0.0} if kind == "mdstore-single" else {}
        worker = Worker(queue, shutdown_timeout=5, **single)  # type: ignore[arg-type]

        @worker.handler("noop")
        def noop(job: Job) -> None:
            seen.append(time.time())
            seen.append(seen[-1] - job.payload["t"])

        print("ready", flush=True)
        worker.run()
        queue.close()
    else:
        asyncio.run(_pgqueuer_worker(url, seen))
    Path(out).write_text(json.dumps({"last": seen[-2] if seen else 0.0, "latency": seen[1::2]}))


async def _pgqueuer_worker(url: str, seen: list[float]) -> None:
    import psycopg
    from pgqueuer import PsycopgDriver, QueueManager
    from pgqueuer.queries import Queries

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    qm = QueueManager(Queries(PsycopgDriver(conn)))

    @qm.entrypoint("noop")
    async def noop(job: Any) -> None:
        seen.append(time.time())
        seen.append(seen[-1] - json.loads(job.payload)["t"])

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, qm.shutdown.set)
    print("ready", flush=True)
    await qm.run()
    await conn.close()


def start(kind: str, url: str, count: int, base: Path) -> list[tuple[subprocess.Popen[str], Path]]:
    procs = []
    for n in range(count):
        out = base / f"{kind}-{n}-{time.monotonic_ns()}.json"
        proc = subprocess.Popen(
            [sys.executable, str(HERE), kind, url, str(out)], stdout=subprocess.PIPE, text=True
        )
        procs.append((proc, out))
    for proc, _ in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return procs


def stop(procs: list[tuple[subprocess.Popen[str], Path]]) -> tuple[float, list[float]]:
    last, latency = 0.0, []
    for proc, _ in procs:
        proc.terminate()
    for proc, out in procs:
        proc.communicate(timeout=120)
        data = json.loads(out.read_text())
        last = max(last, data["last"])
        latency.extend(data["latency"])
    return last, latency


# -- producers ------------------------------------------------------------------------------------


class MdstoreProducer:
    def __init__(self, url: str) -> None:
        from mdstore.queue import PostgresQueue

        self.queue = PostgresQueue(url, "bench")

    def one(self, n: int) -> None:
        self.queue.enqueue("noop", {"i": n, "t": time.time()})

    def many(self, first: int, count: int) -> None:
        t = time.time()
        self.queue.enqueue_many([("noop", {"i": n, "t": t}, None, None) for n in range(first, first + count)])

    def done(self) -> int:
        return self.queue.stats().done

    def reset(self) -> None:
        from mdstore.queue import JobState

        self.queue.purge(JobState.NEW)
        self.queue.purge(JobState.DONE)

    def close(self) -> None:
        self.queue.close()


class PgqueuerProducer:
    """pgqueuer's enqueue, driven from sync code through one event loop."""

    def __init__(self, url: str) -> None:
        import psycopg
        from pgqueuer import PsycopgDriver
        from pgqueuer.queries import Queries

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(psycopg.AsyncConnection.connect(url, autocommit=True))
        self.queries = Queries(PsycopgDriver(self.conn))
        self.total = 0
        self.sync = psycopg.connect(url, autocommit=True)

    def install(self) -> None:
        self.loop.run_until_complete(self.queries.install())

    def one(self, n: int) -> None:
        payload = json.dumps({"i": n, "t": time.time()}).encode()
        self.loop.run_until_complete(self.queries.enqueue("noop", payload))
        self.total += 1

    def many(self, first: int, count: int) -> None:
        t = time.time()
        payloads: list[bytes | None] = [
            json.dumps({"i": n, "t": t}).encode() for n in range(first, first + count)
        ]
        self.loop.run_until_complete(self.queries.enqueue(["noop"] * count, payloads, [0] * count))
        self.total += count

    def done(self) -> int:
        row = self.sync.execute("SELECT count(*) FROM pgqueuer").fetchone()
        return self.total - int(row[0] if row else 0)

    def reset(self) -> None:
        self.sync.execute("DELETE FROM pgqueuer")
        self.total = 0

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()
        self.sync.close()


# -- one backend ----------------------------------------------------------------------------------


def bench(kind: str, url: str, jobs: int, base: Path) -> dict[str, Any]:
    producer: Any = MdstoreProducer(url) if kind.startswith("mdstore") else PgqueuerProducer(url)
    if kind == "pgqueuer":
        producer.install()
    name = {
        "mdstore": "PostgresQueue (batches of 10, buffered acks)",
        "mdstore-single": "PostgresQueue (one job per round trip)",
        "pgqueuer": "pgqueuer 1.6",
    }[kind]
    result: dict[str, Any] = {"backend": name, "jobs": jobs}
    t0 = time.perf_counter()
    for n in range(jobs):
        producer.one(n)
    result["enqueue_per_s"] = rate(jobs, time.perf_counter() - t0)
    producer.reset()
    t0 = time.perf_counter()
    for first in range(0, jobs, BATCH):
        producer.many(first, min(BATCH, jobs - first))
    result["enqueue_batched_per_s"] = rate(jobs, time.perf_counter() - t0)
    producer.reset()
    for workers in (1, 2, 4):
        procs = start(kind, url, workers, base)
        time.sleep(0.3)
        began = time.time()
        for first in range(0, jobs, E2E_BATCH):
            producer.many(first, min(E2E_BATCH, jobs - first))
        while producer.done() < jobs:
            time.sleep(0.05)
        last, _ = stop(procs)
        result[f"end_to_end_{workers}w_per_s"] = rate(jobs, last - began)
        producer.reset()
    procs = start(kind, url, 1, base)
    time.sleep(0.5)
    for n in range(LATENCY_JOBS):
        producer.one(n)
        time.sleep(0.01)
    while producer.done() < LATENCY_JOBS:
        time.sleep(0.02)
    _, latency = stop(procs)
    latency.sort()
    result["latency_p50_ms"] = round(statistics.median(latency) * 1000, 2)
    result["latency_p99_ms"] = round(latency[int(len(latency) * 0.99) - 1] * 1000, 2)
    producer.reset()
    producer.close()
    return result


def bench_postgres(jobs: int, base: Path, rounds: int = 1) -> list[dict[str, Any]]:
    pg = cluster()
    try:
        rows = []
        for n in range(rounds):
            for kind in ("mdstore", "pgqueuer", "mdstore-single"):
                url = pg.url(pg.create_database())
                row = bench(kind, url, jobs, base)
                row["round"] = n + 1
                row["load"] = round(os.getloadavg()[0], 1)
                rows.append(row)
        return rows
    finally:
        pg.close()


COLUMNS = [
    ("round", "round"),
    ("load", "load (1 min)"),
    ("backend", "backend"),
    ("jobs", "jobs"),
    ("enqueue_per_s", "enqueue/s (one at a time)"),
    ("enqueue_batched_per_s", f"enqueue/s (batches of {BATCH})"),
    ("end_to_end_1w_per_s", "end-to-end 1 worker/s"),
    ("end_to_end_2w_per_s", "end-to-end 2 workers/s"),
    ("end_to_end_4w_per_s", "end-to-end 4 workers/s"),
    ("latency_p50_ms", "enqueue→start p50 ms"),
    ("latency_p99_ms", "p99 ms"),
]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    child(*sys.argv[1:4])
