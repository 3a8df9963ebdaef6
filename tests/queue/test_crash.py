"""Crash and concurrency tests with real processes and ``kill -9``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from mdstore.queue import Job, JobState, SpoolQueue, Worker

from .conftest import FAST, HERE, PYTHON

PROCS = str(HERE / "procs.py")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([PYTHON, PROCS, *args], stdout=subprocess.DEVNULL, text=True)


def spawn_ready(*args: str) -> subprocess.Popen[str]:
    """Start a process and wait until it says it is in its loop."""
    proc = subprocess.Popen([PYTHON, PROCS, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def job_files(spool: Path) -> dict[str, list[str]]:
    """Every job file, by state folder."""
    root = spool / "default"
    return {s.value: sorted(os.listdir(root / s.value)) for s in JobState}


def ids_by_file(spool: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for state, names in job_files(spool).items():
        for name in names:
            parts = name.split(".")
            found[parts[3] if state == "delayed" else parts[2]] += 1
    return found


def logged(logdir: Path) -> list[str]:
    lines: list[str] = []
    for path in logdir.glob("*.log"):
        lines.extend(path.read_text().splitlines())
    return lines


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_killed_worker_mid_job_runs_again_once(spool_dir: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = SpoolQueue(spool_dir, fsync=False, **FAST)
    job = queue.enqueue("slow", "payload")
    proc = spawn("worker", str(spool_dir), str(logs), "2.0")
    wait_for(lambda: (logs / "started").exists())
    kill(proc)
    assert len(job_files(spool_dir)["claimed"]) == 1

    ran: list[Job] = []
    w = Worker(queue, lease=2.0)
    w.handler("slow")(ran.append)
    w.run(burst=True, install_signals=False)
    assert [j.id for j in ran] == [job.id]
    assert ran[0].attempts == 1 and "died" in (ran[0].last_error or "")
    files = job_files(spool_dir)
    assert sum(len(v) for v in files.values()) == 1 and len(files["done"]) == 1
    queue.close()


def test_hung_worker_loses_its_job_after_the_lease(spool_dir: Path) -> None:
    hung = SpoolQueue(spool_dir, fsync=False, **FAST)
    hung.enqueue("slow")
    job = hung.claim(lease=0.3)
    assert job is not None
    other = SpoolQueue(spool_dir, fsync=False, **FAST)
    ran: list[Job] = []
    w = Worker(other, lease=5.0)
    w.handler("slow")(ran.append)
    started = time.monotonic()
    thread = threading.Thread(target=w.run, kwargs={"install_signals": False})
    thread.start()
    wait_for(lambda: len(ran) == 1)
    w.stop()
    thread.join()
    assert [j.id for j in ran] == [job.id] and time.monotonic() - started >= 0.2
    assert ids_by_file(spool_dir) == Counter({job.id: 1})
    hung.close()
    other.close()


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
def test_kill_during_enqueue_leaves_no_half_job(spool_dir: Path, delay: float) -> None:
    proc = spawn_ready("enqueue", str(spool_dir), "100000", "1")
    time.sleep(delay)
    kill(proc)
    queue = SpoolQueue(spool_dir, fsync=False, **FAST)
    waiting = queue.length()
    assert waiting > 20
    claimed = 0
    while (job := queue.claim()) is not None:
        assert job.payload["pad"] == "x" * 2000
        queue.ack(job)
        claimed += 1
    assert claimed == waiting and queue.stats().corrupt == 0
    queue.prune()  # the dead writer's temp file (if it left one) goes
    assert os.listdir(spool_dir / "default" / "tmp") == []
    queue.close()


@pytest.mark.parametrize("delay", [0.05, 0.2])
def test_kill_during_ack_keeps_every_job_in_one_state(spool_dir: Path, delay: float) -> None:
    queue = SpoolQueue(spool_dir, fsync=False, **FAST)
    ids = {queue.enqueue("n", n).id for n in range(3000)}
    proc = spawn_ready("ack", str(spool_dir))
    time.sleep(delay)
    kill(proc)
    assert set(ids_by_file(spool_dir)) == ids and max(ids_by_file(spool_dir).values()) == 1
    w = Worker(queue)
    w.handler("n")(lambda job: None)
    w.run(burst=True, install_signals=False)
    files = job_files(spool_dir)
    assert len(files["done"]) == 3000 and files["new"] == files["claimed"] == []
    assert queue.stats().corrupt == 0
    queue.close()


def test_four_worker_processes_do_each_job_exactly_once(spool_dir: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = SpoolQueue(spool_dir, fsync=False, **FAST)
    ids = {queue.enqueue("n", n).id for n in range(2000)}
    procs = [spawn("worker", str(spool_dir), str(logs), "30") for _ in range(4)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    lines = logged(logs)
    done = Counter(line.split()[0] for line in lines)
    assert len(lines) == 2000 and set(done) == ids and max(done.values()) == 1
    assert len(list(logs.glob("*.log"))) >= 2  # the work was really shared
    assert len(job_files(spool_dir)["done"]) == 2000
    queue.close()


def test_always_failing_handler_ends_dead_with_its_error(spool_dir: Path) -> None:
    queue = SpoolQueue(spool_dir, fsync=False, max_attempts=3, **FAST)
    job = queue.enqueue("explode", {"x": 1})
    calls: list[int] = []
    w = Worker(queue)

    @w.handler("explode")
    def explode(j: Job) -> None:
        calls.append(j.attempts)
        raise ValueError(f"cannot explode attempt {j.attempts}")

    report = w.run(burst=True, install_signals=False)
    dead = queue.get(job.id)
    assert calls == [0, 1, 2]
    # Counted in jobs: one failed job (dead), after three failed runs.
    assert (report.done, report.failed, report.dead, report.failed_runs) == (0, 1, 1, 3)
    assert dead is not None and dead.state is JobState.DEAD and dead.attempts == 3
    assert "ValueError: cannot explode attempt 2" in (dead.last_error or "")
    queue.close()


def test_order_ignores_a_clock_running_backwards(spool_dir: Path) -> None:
    SpoolQueue(spool_dir, fsync=False).close()
    for first in (0, 50):
        assert subprocess.run([PYTHON, PROCS, "clock", str(spool_dir), str(first), "50"]).returncode == 0
    queue = SpoolQueue(spool_dir, fsync=False)
    order = []
    while (job := queue.claim()) is not None:
        order.append(job.payload)
        queue.ack(job)
    assert order == list(range(100))
    queue.close()


def test_corrupt_job_file_is_set_aside_and_work_goes_on(
    spool_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = SpoolQueue(spool_dir, fsync=False, **FAST)
    first = queue.enqueue("n", 1)
    bad = spool_dir / "default" / "new" / "0999.00000000000000ff.garbage-job.json"
    bad.write_bytes(b"{not json at all")
    (spool_dir / "default" / "new" / "stray.json").write_bytes(b"{}")
    queue.enqueue("n", 2)
    seen: list[object] = []
    w = Worker(queue)
    w.handler("n")(lambda j: seen.append(j.payload))
    with caplog.at_level(logging.ERROR, logger="mdstore.queue"):
        w.run(burst=True, install_signals=False)
    assert sorted(seen) == [1, 2] and queue.stats().corrupt == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("garbage-job" in m and "not a valid job file" in m and "corrupt" in m for m in messages)
    assert queue.get(first.id) is not None
    queue.close()


def test_sigterm_lets_the_job_in_flight_finish(spool_dir: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    queue = SpoolQueue(spool_dir, fsync=False, **FAST)
    queue.enqueue("slow")
    proc = spawn("worker", str(spool_dir), str(logs), "30")
    wait_for(lambda: (logs / "started").exists())
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert proc.poll() is None  # still finishing the job in flight
    proc.send_signal(signal.SIGTERM)  # a second signal: give the job back and go
    assert proc.wait(timeout=10) == 0
    files = job_files(spool_dir)
    assert len(files["new"]) == 1 and files["claimed"] == []
    job = queue.claim()
    assert job is not None and job.attempts == 0
    queue.close()


def test_worker_report_counts_jobs_not_attempts(spool_dir: Path) -> None:
    queue = SpoolQueue(spool_dir, fsync=False, max_attempts=3, **FAST)
    for n in range(3):
        queue.enqueue("flaky", {"n": n})
    w = Worker(queue)

    @w.handler("flaky")
    def flaky(j: Job) -> None:
        if j.attempts < j.payload["n"]:  # job 0 passes at once, 1 on its second run, 2 on its third
            raise ValueError("not yet")

    report = w.run(burst=True, install_signals=False)
    assert (report.done, report.failed, report.dead, report.failed_runs, report.released) == (3, 0, 0, 3, 0)
    queue.close()
