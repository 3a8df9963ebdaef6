"""The ``QueueBackend`` contract: every backend passes these (see ``make_queue`` in conftest)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from mdstore.errors import QueueError
from mdstore.queue import Job, JobState, Worker, WorkerReport

from .conftest import HERE, PYTHON, QueueFactory
from .test_crash import logged


def drain(queue, limit: int = 10_000):  # type: ignore[no-untyped-def]
    jobs = []
    while (job := queue.claim()) is not None and len(jobs) < limit:
        jobs.append(job)
        queue.ack(job)
    return jobs


def test_enqueue_then_claim_and_ack(make_queue: QueueFactory) -> None:
    q = make_queue()
    job = q.enqueue("send", {"to": "ann", "n": [1, 2]})
    assert job.state is JobState.NEW and job.attempts == 0 and job.payload == {"to": "ann", "n": [1, 2]}
    assert q.length() == 1
    claimed = q.claim()
    assert claimed is not None and claimed.id == job.id and claimed.state is JobState.CLAIMED
    assert claimed.payload == {"to": "ann", "n": [1, 2]}
    assert q.claim() is None
    q.ack(claimed)
    assert q.length() == 0
    found = q.get(job.id)
    assert found is not None and found.state is JobState.DONE
    assert q.stats().done == 1


def test_same_key_while_waiting_is_one_job(make_queue: QueueFactory) -> None:
    q = make_queue()
    a = q.enqueue("index", {"paths": ["notes/a.md"]}, key="notes/a.md")
    b = q.enqueue("index", {"paths": ["other"]}, key="notes/a.md")
    c = q.enqueue("index", {"paths": ["notes/b.md"]}, key="notes/b.md")
    assert a.id == b.id != c.id
    assert b.payload == {"paths": ["notes/a.md"]}  # the waiting job, unchanged
    assert q.length() == 2


def test_replace_swaps_the_waiting_job(make_queue: QueueFactory) -> None:
    q = make_queue()
    a = q.enqueue("index", {"v": 1}, key="k")
    b = q.enqueue("index", {"v": 2}, key="k", replace=True)
    assert a.id == b.id and q.length() == 1
    job = q.claim()
    assert job is not None and job.payload == {"v": 2}


def test_same_key_after_start_is_a_new_job(make_queue: QueueFactory) -> None:
    q = make_queue()
    first = q.enqueue("index", {"v": 1}, key="k")
    running = q.claim()
    assert running is not None
    second = q.enqueue("index", {"v": 2}, key="k")
    assert second.id == first.id and second.state is JobState.NEW and q.length() == 1
    q.ack(running)
    again = q.claim()
    assert again is not None and again.payload == {"v": 2}


def test_explicit_job_id(make_queue: QueueFactory) -> None:
    q = make_queue()
    a = q.enqueue("x", job_id="nightly-2026-01-01")
    b = q.enqueue("x", job_id="nightly-2026-01-01")
    assert a.id == b.id == "nightly-2026-01-01" and q.length() == 1
    with pytest.raises(QueueError):
        q.enqueue("x", job_id="../escape")


def test_fifo_within_priority_and_priority_first(make_queue: QueueFactory) -> None:
    q = make_queue()
    for n in range(5):
        q.enqueue("low", n)
    q.enqueue("high", "h1", priority=10)
    q.enqueue("mid", "m1", priority=5)
    q.enqueue("high", "h2", priority=10)
    q.enqueue("neg", "n1", priority=-3)
    order = [job.payload for job in drain(q)]
    assert order == ["h1", "h2", "m1", 0, 1, 2, 3, 4, "n1"]


def test_delayed_job_waits_for_not_before(make_queue: QueueFactory) -> None:
    q = make_queue()
    job = q.enqueue("later", delay=0.3)
    assert job.state is JobState.DELAYED and job.not_before is not None
    assert q.claim() is None and q.length() == 1
    deadline = time.monotonic() + 5
    while (claimed := q.claim()) is None:  # claimable once not_before has passed, not before
        assert time.monotonic() < deadline
        q.wait(0.05)
    assert claimed.id == job.id and time.time() >= job.not_before


def test_delayed_job_is_never_claimed_even_a_moment_early(make_queue: QueueFactory) -> None:
    # Claiming in a tight loop catches a due time rounded down (the spool once kept it in whole
    # milliseconds, so a job became claimable up to 1 ms before its not_before).
    q = make_queue()
    for _ in range(20):
        job = q.enqueue("soon", delay=0.01)
        assert job.not_before is not None
        deadline = time.monotonic() + 5
        while (claimed := q.claim()) is None:
            assert time.monotonic() < deadline
        assert claimed.id == job.id
        assert time.time() >= job.not_before, f"claimed {job.not_before - time.time():.6f} s early"
        q.ack(claimed)


def test_get_finds_a_job_while_it_moves_between_states(make_queue: QueueFactory) -> None:
    # A job claimed and acknowledged by another consumer meanwhile exists all along: get() must
    # never answer None for it (the spool once did when the file moved while get() looked).
    q, observer = make_queue(), make_queue()
    ids = [q.enqueue("move", n).id for n in range(150)]
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            job = q.claim()
            if job is None:
                return
            q.ack(job)

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        while thread.is_alive():
            for jid in ids:
                assert observer.get(jid) is not None, jid
    finally:
        stop.set()
        thread.join()


def test_claims_are_exclusive_across_consumers(make_queue: QueueFactory) -> None:
    producer = make_queue()
    for n in range(300):
        producer.enqueue("n", n)
    consumers = [make_queue() for _ in range(4)]
    seen: list[int] = []
    lock = threading.Lock()

    def consume(q) -> None:  # type: ignore[no-untyped-def]
        while (job := q.claim()) is not None:
            with lock:
                seen.append(job.payload)
            q.ack(job)

    threads = [threading.Thread(target=consume, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(300))


def test_ack_twice_is_an_error(make_queue: QueueFactory) -> None:
    q = make_queue()
    q.enqueue("x")
    job = q.claim()
    assert job is not None
    q.ack(job)
    with pytest.raises(QueueError):
        q.ack(job)
    unclaimed = q.enqueue("y")
    with pytest.raises(QueueError):
        q.ack(unclaimed)


def test_fail_retries_with_backoff_then_dead(make_queue: QueueFactory) -> None:
    q = make_queue(max_attempts=3)
    job = q.enqueue("flaky", {"n": 1})
    errors = []
    for attempt in range(1, 4):
        deadline = time.monotonic() + 5
        while (claimed := q.claim()) is None:
            assert time.monotonic() < deadline, "retry never became ready"
            q.wait(0.05)
        assert claimed.attempts == attempt - 1
        after = q.fail(claimed, f"boom {attempt}")
        errors.append(after.last_error)
        if attempt < 3:
            assert after.state is JobState.DELAYED and after.not_before is not None
    dead = q.get(job.id)
    assert dead is not None and dead.state is JobState.DEAD
    assert dead.attempts == 3 and dead.last_error == "boom 3" and dead.payload == {"n": 1}
    assert q.length() == 0 and q.stats().dead == 1


def test_fail_without_retry_is_dead_at_once(make_queue: QueueFactory) -> None:
    q = make_queue()
    q.enqueue("bad")
    job = q.claim()
    assert job is not None
    assert q.fail(job, "permanent", retry=False).state is JobState.DEAD


def test_retry_and_purge_dead_jobs(make_queue: QueueFactory) -> None:
    q = make_queue(max_attempts=1)
    ids = [q.enqueue("bad", n).id for n in range(3)]
    while (job := q.claim()) is not None:
        q.fail(job, "nope")
    assert q.stats().dead == 3
    assert q.retry(ids[0]) == 1
    back = q.claim()
    assert back is not None and back.id == ids[0] and back.attempts == 0 and back.last_error == "nope"
    q.ack(back)
    assert q.purge(JobState.DEAD, job_id=ids[1]) == 1
    assert q.retry() == 1
    assert q.purge(JobState.DONE) == 1
    assert q.stats().dead == 0 and q.length() == 1
    with pytest.raises(QueueError):
        q.purge(JobState.CLAIMED)


def test_release_gives_the_job_back_unchanged(make_queue: QueueFactory) -> None:
    q = make_queue()
    q.enqueue("x", "first")
    q.enqueue("x", "second")
    job = q.claim()
    assert job is not None
    q.release(job)
    again = q.claim()
    assert again is not None and again.payload == "first" and again.attempts == 0


def test_expired_lease_returns_the_job(make_queue: QueueFactory) -> None:
    hung, other = make_queue(), make_queue()
    hung.enqueue("slow", "x")
    job = hung.claim(lease=0.2)
    assert job is not None
    assert other.claim() is None
    deadline = time.monotonic() + 5
    while (again := other.claim()) is None:
        assert time.monotonic() < deadline
        other.wait(0.05)
    assert again.id == job.id and again.attempts == 1 and "lease" in (again.last_error or "")
    with pytest.raises(QueueError):
        hung.ack(job)
    other.ack(again)


def test_extend_keeps_the_claim(make_queue: QueueFactory) -> None:
    worker, other = make_queue(), make_queue()
    worker.enqueue("long")
    job = worker.claim(lease=0.3)
    assert job is not None
    worker.extend(job, 5.0)
    time.sleep(0.4)
    assert other.claim() is None
    worker.ack(job)


def test_jobs_lists_in_claim_order(make_queue: QueueFactory) -> None:
    q = make_queue()
    q.enqueue("a", 1)
    q.enqueue("b", 2, priority=1)
    q.enqueue("c", 3, delay=60)
    assert [j.payload for j in q.jobs(JobState.NEW)] == [2, 1]
    assert [j.payload for j in q.jobs(JobState.DELAYED)] == [3]
    assert len(q.jobs()) == 3 and len(q.jobs(limit=2)) == 2
    assert q.stats().new == 2 and q.stats().delayed == 1 and q.stats().waiting == 3


def test_prune_deletes_finished_jobs_after_retention(make_queue: QueueFactory) -> None:
    q = make_queue(retention=0.0)
    q.enqueue("x")
    job = q.claim()
    assert job is not None
    q.ack(job)
    time.sleep(0.01)
    assert q.prune() >= 1
    assert q.stats().done == 0


def test_bad_input_is_a_queue_error(make_queue: QueueFactory) -> None:
    q = make_queue()
    with pytest.raises(QueueError):
        q.enqueue("x", {"not": object()})
    with pytest.raises(QueueError):
        q.enqueue("x", priority=10_000)
    with pytest.raises(QueueError):
        q.enqueue("")
    assert q.length() == 0


def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_publish_reaches_every_subscriber_in_order(make_queue: QueueFactory) -> None:
    publisher, a, b = make_queue(), make_queue(), make_queue()
    publisher.publish("note-changed", {"path": "old.md"})  # before anyone subscribed
    got_a: list[object] = []
    got_b: list[object] = []
    sub_a = a.subscribe("note-changed", got_a.append)
    sub_b = b.subscribe("note-changed", got_b.append)
    other: list[object] = []
    a.subscribe("other", other.append)
    for n in range(20):
        publisher.publish("note-changed", {"path": f"{n}.md"})
    wait_for(lambda: len(got_a) == 20 and len(got_b) == 20)
    assert got_a == got_b == [{"path": f"{n}.md"} for n in range(20)]
    assert other == []
    sub_a.close()
    publisher.publish("note-changed", "after close")
    wait_for(lambda: len(got_b) == 21)
    time.sleep(0.05)
    assert len(got_a) == 20
    sub_b.close()


def test_durable_subscription_resumes(make_queue: QueueFactory) -> None:
    publisher = make_queue()
    first: list[object] = []
    sub = make_queue().subscribe("events", first.append, durable="indexer")
    publisher.publish("events", 1)
    wait_for(lambda: first == [1])
    sub.close()
    publisher.publish("events", 2)
    publisher.publish("events", 3)
    later: list[object] = []
    sub = make_queue().subscribe("events", later.append, durable="indexer")
    wait_for(lambda: later == [2, 3])
    sub.close()


def test_a_failing_subscriber_keeps_receiving(make_queue: QueueFactory) -> None:
    got: list[object] = []

    def handler(message: object) -> None:
        got.append(message)
        if message == "bad":
            raise RuntimeError("handler bug")

    q = make_queue()
    sub = q.subscribe("c", handler)
    for message in ("ok", "bad", "fine"):
        q.publish("c", message)
    wait_for(lambda: len(got) == 3)
    assert got == ["ok", "bad", "fine"]
    sub.close()


# -- batches: claim_many / ack_many / extend_many, and the Worker's buffered acks ---------------------


def test_claim_many_takes_ready_jobs_in_claim_order_each_its_own_claim(make_queue: QueueFactory) -> None:
    q, other = make_queue(), make_queue()
    q.enqueue("a", 1)
    q.enqueue("b", 2, priority=5)
    q.enqueue("c", 3, delay=60)  # not ready: never in a batch
    q.enqueue("d", 4)
    q.enqueue("e", 5)
    batch = q.claim_many(3)
    assert [(j.kind, j.payload) for j in batch] == [("b", 2), ("a", 1), ("d", 4)]
    assert all(j.state is JobState.CLAIMED and j.token is not None for j in batch)
    rest = other.claim_many(10)  # exclusive: the other consumer gets only what is left
    assert [j.payload for j in rest] == [5]
    # Each job of the batch is its own claim: released, failed, acked one by one.
    q.release(batch[1])
    after = q.fail(batch[2], "boom", retry=False)
    assert after.state is JobState.DEAD
    assert q.ack_many([batch[0], *rest]) == []
    assert q.get(batch[1].id).state is JobState.NEW  # type: ignore[union-attr]
    assert q.stats().done == 2 and q.stats().dead == 1 and q.stats().claimed == 0
    assert q.claim_many(5)[0].payload == 1  # the released job, unchanged
    for bad in (0, -1, True, "3"):
        with pytest.raises(QueueError, match="batch size"):
            q.claim_many(bad)  # type: ignore[arg-type]


def test_ack_many_is_fenced_per_claim(make_queue: QueueFactory) -> None:
    stale, current = make_queue(), make_queue()
    for n in range(3):
        stale.enqueue("x", n)
    old = stale.claim_many(3, lease=0.2)
    assert len(old) == 3
    again: list = []
    deadline = time.monotonic() + 10
    while len(again) < 3:  # every lease of the batch ends: another consumer takes each job
        assert time.monotonic() < deadline, "the batch's leases never expired"
        again += current.claim_many(3)
        current.wait(0.05)
    assert sorted(j.payload for j in again) == [0, 1, 2] and all(j.attempts == 1 for j in again)
    assert current.ack_many(again[:1]) == []
    # The old claims can neither extend nor ack any of them, acked or still running elsewhere.
    assert stale.extend_many(old, 5) == old
    assert stale.ack_many(old) == old
    assert current.extend_many(again[1:], 5) == []
    assert current.ack_many(again[1:]) == []
    assert current.ack_many(again) == again  # a second ack of the same claims is refused
    stats = current.stats()
    assert stats.done == 3 and stats.claimed == stats.waiting == 0


def test_a_batch_not_started_when_its_consumer_dies_comes_back(make_queue: QueueFactory) -> None:
    dying, other = make_queue(), make_queue()
    for n in range(4):
        dying.enqueue("x", n)
    batch = dying.claim_many(4, lease=0.2)
    dying.ack(batch[0])
    dying.close()  # gone with three jobs claimed and never started
    back: list = []
    deadline = time.monotonic() + 10
    while len(back) < 3:
        assert time.monotonic() < deadline
        back += other.claim_many(10)
        other.wait(0.05)
    assert sorted(j.payload for j in back) == [1, 2, 3]
    assert other.ack_many(back) == [] and other.stats().done == 4


def test_a_batch_frozen_past_its_lease_is_fenced(make_queue: QueueFactory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A worker process claims a batch, is stopped (SIGSTOP) past the leases while its first job
    runs; another consumer takes the whole batch over. Woken, the worker's buffered ack is refused
    and it never starts the jobs it had claimed ahead."""
    logs = tmp_path / "logs"
    logs.mkdir()
    q = make_queue()
    jobs = [q.enqueue("nap", 0.5, key=str(n)) for n in range(3)]
    proc = subprocess.Popen(
        [PYTHON, str(HERE / "procs.py"), "worker", make_queue.where, str(logs), "0.6", "serve"],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while not (logs / "started").exists():
            assert time.monotonic() < deadline, "the worker never started a job"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGSTOP)  # its handler, heartbeat and buffered acks all freeze
        assert q.stats().claimed == 3  # one running, two claimed ahead in the same batch
        try:
            taken: list = []
            while len(taken) < 3:
                assert time.monotonic() < deadline + 20, "the stopped worker's leases never expired"
                taken += q.claim_many(3)
                q.wait(0.05)
            assert q.ack_many(taken) == []
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 20
        while len(logged(logs)) < 1:  # the woken worker finishes the job it was running
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(1.5)  # time to (wrongly) start the jobs it had claimed ahead
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert len(logged(logs)) == 1  # only the job already running when it froze ran there
    assert "lost its claim" in err
    for job in jobs:
        found = q.get(job.id)
        assert found is not None and found.state is JobState.DONE and found.attempts == 1
    assert q.stats().done == 3 and q.stats().claimed == q.stats().waiting == 0


def _run_in_thread(worker: Worker) -> tuple[threading.Thread, list[WorkerReport]]:
    reports: list[WorkerReport] = []
    thread = threading.Thread(target=lambda: reports.append(worker.run(install_signals=False)))
    thread.start()
    return thread, reports


def test_worker_buffers_acks_and_writes_them_on_stop(make_queue: QueueFactory) -> None:
    q, observer = make_queue(), make_queue()
    ran: list[int] = []
    last = threading.Event()

    def handle(job) -> None:  # type: ignore[no-untyped-def]
        ran.append(job.payload)
        if job.payload == 2:
            last.wait(30)

    worker = Worker(q, {"x": handle}, claim_batch=5, ack_delay=60)
    for n in range(3):
        q.enqueue("x", n)
    thread, reports = _run_in_thread(worker)
    try:
        wait_for(lambda: len(ran) == 3)
        time.sleep(0.1)
        stats = observer.stats()
        assert stats.done == 0 and stats.claimed == 3  # two ran, their acks buffered (not durable yet)
        worker.stop()
    finally:
        last.set()
        thread.join(30)
    assert not thread.is_alive() and reports[0].done == 3
    assert observer.stats().done == 3 and observer.stats().claimed == 0  # written on stop


def test_worker_writes_buffered_acks_before_claiming_more(make_queue: QueueFactory) -> None:
    q, observer = make_queue(), make_queue()
    first = [q.enqueue("x", n).id for n in range(2)]
    seen: list = []

    def handle(job) -> None:  # type: ignore[no-untyped-def]
        if job.payload == 2:  # the first job of the second batch
            seen.extend(observer.get(i).state for i in first)  # type: ignore[union-attr]

    worker = Worker(q, {"x": handle}, claim_batch=2, ack_delay=60)
    for n in range(2, 4):
        q.enqueue("x", n)
    report = worker.run(burst=True, install_signals=False)
    assert seen == [JobState.DONE, JobState.DONE]
    assert report.done == 4 and observer.stats().done == 4


def test_worker_writes_a_buffered_ack_within_ack_delay(make_queue: QueueFactory) -> None:
    """The ack of a quick job is durable within ``ack_delay`` even while the next job of its batch
    is still running."""
    q, observer = make_queue(), make_queue()
    quick = q.enqueue("quick")
    q.enqueue("slow")
    release = threading.Event()
    worker = Worker(
        q, {"quick": lambda job: None, "slow": lambda job: release.wait(30)}, claim_batch=2, ack_delay=0.05
    )
    thread, reports = _run_in_thread(worker)
    try:
        wait_for(lambda: observer.get(quick.id).state is JobState.DONE)  # type: ignore[union-attr]
        assert observer.stats().claimed == 1  # the slow job still runs
    finally:
        release.set()
        worker.stop()
        thread.join(30)
    assert reports[0].done == 2 and observer.stats().done == 2


def test_worker_batch_settings_are_checked(make_queue: QueueFactory) -> None:
    q = make_queue()
    for bad in ({"claim_batch": 0}, {"claim_batch": 2.5}, {"ack_delay": -1}, {"ack_delay": 3600}):
        with pytest.raises(QueueError, match="claim_batch|ack_delay"):
            Worker(q, **bad)  # type: ignore[arg-type]


def test_adopt_adds_a_moved_job_once_whatever_became_of_it(make_queue: QueueFactory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mdstore.queue import SpoolQueue

    source = SpoolQueue(tmp_path / "source", fsync=False)
    moved = source.enqueue("x", {"v": 1}, key="k", priority=3)
    later = source.enqueue("y", {"v": 2}, key="later", delay=3600)
    q = make_queue()
    added = q.adopt(moved)
    assert added is not None and (added.id, added.payload, added.priority) == (moved.id, {"v": 1}, 3)
    assert added.created_at == moved.created_at and added.state is JobState.NEW
    assert q.adopt(moved) is None and q.length() == 1  # already here, waiting: not two
    job = q.claim()
    assert job is not None
    assert q.adopt(moved) is None  # running here
    q.ack(job)
    assert q.adopt(moved) is None and q.length() == 0  # done here: adding it again would run it twice
    # The same id enqueued anew (another enqueue time) is another job.
    source.purge(JobState.NEW, job_id=moved.id)
    fresh = source.enqueue("x", {"v": 3}, key="k")
    assert fresh.id == moved.id and fresh.created_at != moved.created_at
    assert q.adopt(fresh) is not None and q.length() == 1
    delayed = q.adopt(later)
    assert delayed is not None and delayed.state is JobState.DELAYED
    assert delayed.not_before is not None and delayed.not_before > time.time() + 3500
    with pytest.raises(QueueError):
        q.adopt(Job("../bad", "x"))
    source.close()
