"""The Postgres queue under faults, against a real server: stopped and killed workers, a server
restart while workers wait, payloads the database refuses."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdstore.errors import QueueError
from mdstore.queue import Job, JobState, PostgresQueue, Worker

from .conftest import FAST, HERE, PYTHON
from .test_crash import logged, wait_for

PROCS = str(HERE / "procs.py")


_OPENED: list[PostgresQueue] = []


def open_pg(url: str, **options: object) -> PostgresQueue:
    queue = PostgresQueue(url, **{**FAST, **options})  # type: ignore[arg-type]
    _OPENED.append(queue)
    return queue


@pytest.fixture(autouse=True)
def _close_queues() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def start_worker(url: str, logs: Path, lease: str, mode: str = "burst") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [PYTHON, PROCS, "worker", url, str(logs), lease, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def finish(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> str:
    """Stop a process; its stderr."""
    if proc.poll() is None:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return err


def test_a_stopped_worker_loses_its_claim_and_cannot_ack(pg_url: str, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = open_pg(pg_url)
    job = queue.enqueue("nap", 1.0)
    proc = start_worker(pg_url, logs, "0.5", "serve")
    wait_for(lambda: (logs / "started").exists())
    os.kill(proc.pid, signal.SIGSTOP)  # its handler and its lease heartbeat both freeze
    try:
        other = open_pg(pg_url)
        deadline = time.monotonic() + 20
        while (again := other.claim()) is None:
            assert time.monotonic() < deadline, "the stopped worker's lease never expired"
            other.wait(0.1)
        assert again.id == job.id and again.attempts == 1 and "lease expired" in (again.last_error or "")
        other.ack(again)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    # The woken worker finishes its handler; its ack is refused (the claim is no longer its own).
    wait_for(lambda: len(logged(logs)) == 1)
    err = finish(proc, signal.SIGTERM)
    assert "lost its claim" in err
    done = queue.get(job.id)
    assert done is not None and done.state is JobState.DONE and done.attempts == 1
    assert queue.stats().done == 1 and queue.stats().claimed == 0


def test_an_old_claim_can_neither_extend_fail_nor_release(pg_url: str) -> None:
    first, second = open_pg(pg_url), open_pg(pg_url)
    first.enqueue("x", "payload")
    old = first.claim(lease=0.1)
    assert old is not None
    deadline = time.monotonic() + 10
    while (current := second.claim()) is None:
        assert time.monotonic() < deadline
        second.wait(0.05)
    for attempt in (lambda: first.extend(old), lambda: first.fail(old, "late"), lambda: first.release(old)):
        with pytest.raises(QueueError, match="lost its claim"):
            attempt()
    second.extend(current, 5)
    second.ack(current)
    assert second.stats().done == 1


def drain_size() -> int:
    return int(os.environ.get("MDSTORE_QUEUE_FAULT_JOBS", "2000"))


def _kill_workers_while_draining(url: str, tmp_path: Path, total: int) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = open_pg(url, max_attempts=20)
    batch = 500
    for start in range(0, total, batch):
        queue.enqueue_many([("n", n, str(n), None) for n in range(start, min(total, start + batch))])
    rng = random.Random(13)
    workers = [start_worker(url, logs, "1.0") for _ in range(4)]
    kills = 0
    while kills < 8 and queue.stats().done < total * 0.8:
        time.sleep(rng.uniform(0.05, 0.4))
        victim = rng.randrange(len(workers))
        finish(workers[victim])
        kills += 1
        workers[victim] = start_worker(url, logs, "1.0")
    for proc in workers:
        proc.wait(timeout=600)
        finish(proc)
    # What the killed workers held comes back once their leases end; a local worker takes it.
    local = Worker(queue)

    @local.handler("n")
    def count(job: Job) -> None:
        with (logs / "local.log").open("a") as log:
            log.write(f"{job.id} {job.payload}\n")

    deadline = time.monotonic() + 120
    while queue.stats().done < total:
        assert time.monotonic() < deadline, queue.stats()
        local.run(burst=True, install_signals=False)
        queue.wait(0.2)
    stats = queue.stats()
    assert stats.done == total and stats.dead == stats.claimed == stats.waiting == 0
    runs = Counter(line.split()[1] for line in logged(logs))
    assert set(runs) == {str(n) for n in range(total)}
    # A job runs twice only when its worker died between the handler and the durable ack: a
    # worker's buffered acks (at most one batch, written before it claims more) die with it.
    assert sum(c - 1 for c in runs.values()) <= kills * Worker(queue).claim_batch
    assert len({job.id for job in queue.jobs(JobState.DONE)}) == total


def test_kill_9_workers_at_random_while_four_drain(pg_url: str, tmp_path: Path) -> None:
    _kill_workers_while_draining(pg_url, tmp_path, drain_size())


@pytest.mark.slow
def test_kill_9_workers_at_random_while_four_drain_20k(pg_url: str, tmp_path: Path) -> None:
    _kill_workers_while_draining(pg_url, tmp_path, 20_000)


def test_workers_carry_on_after_a_server_restart(pg_cluster, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = open_pg(pg_url)
    proc = start_worker(pg_url, logs, "5", "serve")
    try:
        queue.enqueue("n", "before")
        wait_for(lambda: len(logged(logs)) == 1)
        # A fast restart: the test server runs with synchronous_commit=off, so an immediate stop
        # would also lose the last commits (a durability setting of that server, not of the queue).
        pg_cluster.restart()
        for n in range(5):
            queue.enqueue("n", f"after-{n}")  # reconnects
        wait_for(lambda: len(logged(logs)) == 6, timeout=60)
    finally:
        finish(proc, signal.SIGTERM)
    assert queue.stats().done == 6


def test_payloads_json_or_the_database_refuse_are_one_queue_error(pg_url: str) -> None:
    queue = open_pg(pg_url)
    for bad in ({"when": object()}, {"x": float("nan")}, "nul \x00 char", {1j: 2}):
        with pytest.raises(QueueError, match="payload"):
            queue.enqueue("x", bad)
    with pytest.raises(QueueError):
        queue.enqueue_many([("ok", 1, None, None), ("bad", object(), None, None)])
    assert queue.length() == 0


def test_enqueue_many_keeps_order_and_returns_waiting_jobs(pg_url: str) -> None:
    queue = open_pg(pg_url)
    first = queue.enqueue("n", "already", key="k1")
    jobs = queue.enqueue_many([("n", n, f"k{n}", None) for n in range(5)] + [("n", "again", "k3", None)])
    assert [j.payload for j in jobs] == [0, "already", 2, 3, 4, 3]
    assert jobs[1].id == first.id and jobs[3].id == jobs[5].id and queue.length() == 5
    order = []
    while (job := queue.claim()) is not None:
        order.append(job.payload)
        queue.ack(job)
    assert order == ["already", 0, 2, 3, 4]
