"""The ``QueueBackend`` contract: every backend passes these (see ``make_queue`` in conftest)."""

from __future__ import annotations

import threading
import time

import pytest

from mdstore.errors import QueueError
from mdstore.queue import JobState

from .conftest import QueueFactory


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
