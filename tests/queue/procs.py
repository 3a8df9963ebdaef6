"""Programs the crash and concurrency tests run as real processes: ``python procs.py MODE ARGS``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mdstore.queue import Job, PostgresQueue, QueueBackend, SpoolQueue, Worker


def open_queue(spool: str, **options: object) -> QueueBackend:
    """The spool in folder ``spool``, or the Postgres queue when ``spool`` is a postgresql:// URL."""
    settings: dict[str, object] = {
        "fsync": False,
        "backoff": 0.01,
        "backoff_max": 0.05,
        "poll_interval": 0.005,
    }
    settings.update(options)
    if spool.startswith("postgresql://"):
        return PostgresQueue(spool, "default", **settings)  # type: ignore[arg-type]
    return SpoolQueue(spool, "default", **settings)  # type: ignore[arg-type]


def record(logdir: Path, job: Job) -> None:
    # One O_APPEND write per job: lines from concurrent processes never interleave.
    fd = os.open(logdir / f"{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{job.id} {job.payload}\n".encode())
    finally:
        os.close(fd)


def worker(spool: str, logdir: str, lease: str, mode: str = "burst") -> None:
    """Work in burst mode (or until SIGTERM with ``serve``); ``slow`` jobs announce themselves and
    then hang (to be killed); a ``nap`` job sleeps its payload's seconds and then finishes."""
    queue = open_queue(spool, lease=float(lease))
    logs = Path(logdir)
    w = Worker(queue, concurrency=1)

    @w.handler("n")
    def count(job: Job) -> None:
        record(logs, job)

    @w.handler("slow")
    def slow(job: Job) -> None:
        record(logs, job)
        (logs / "started").write_text(str(os.getpid()))
        time.sleep(120)

    @w.handler("nap")
    def nap(job: Job) -> None:
        (logs / "started").write_text(str(os.getpid()))
        time.sleep(float(job.payload))
        record(logs, job)

    print("ready", flush=True)
    w.run(burst=mode == "burst")
    queue.close()


def enqueue(spool: str, count: str, fsync: str) -> None:
    queue = open_queue(spool, fsync=fsync == "1")
    for n in range(int(count)):
        queue.enqueue("n", {"n": n, "pad": "x" * 2000}, key=str(n))
        if n == 20:
            print("ready", flush=True)


def ack(spool: str) -> None:
    """Claim and ack as fast as possible (the test kills it mid-way)."""
    queue = open_queue(spool, fsync=True)
    print("ready", flush=True)
    while (job := queue.claim()) is not None:
        queue.ack(job)


def backwards_clock(spool: str, first: str, count: str) -> None:
    """Enqueue while the wall clock runs backwards (an hour per reading), as after a bad NTP step."""
    fake = [time.time()]

    def clock() -> float:
        fake[0] -= 3600
        return fake[0]

    time.time = clock
    queue = open_queue(spool)
    for n in range(int(first), int(first) + int(count)):
        queue.enqueue("n", n)


def outbox(vault: str, start: str) -> None:
    """Write notes the way a writer with an outbox does: intent, note, publish; until killed."""
    from mdstore.queue.outbox import Outbox

    root = Path(vault)
    box = Outbox(root / ".mdstore", durable=False)
    queue = open_queue(str(root / ".mdstore" / "queue"))
    n = int(start)
    while True:
        intent = box.record("touch", {"path": f"n{n}.md"})
        tmp = root / f".n{n}.md.tmp"
        tmp.write_text(f"# note {n}\n")
        os.replace(tmp, root / f"n{n}.md")
        box.publish(queue, intent)
        if n == int(start):
            print("ready", flush=True)
        n += 1


if __name__ == "__main__":
    modes = {"worker": worker, "enqueue": enqueue, "ack": ack, "clock": backwards_clock, "outbox": outbox}
    modes[sys.argv[1]](*sys.argv[2:])
