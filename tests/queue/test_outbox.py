"""The outbox: intents recorded before a write become exactly one job each, whatever crashes."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from mdstore.errors import QueueError
from mdstore.queue import PostgresQueue, SpoolQueue
from mdstore.queue.outbox import Outbox

from .conftest import FAST, HERE, PYTHON


def test_record_publish_and_reconcile(tmp_path: Path) -> None:
    box = Outbox(tmp_path / ".mdstore", durable=False)
    queue = SpoolQueue(tmp_path / ".mdstore" / "queue", fsync=False, **FAST)
    first = box.record("commit", {"message": "a"})
    second = box.record("commit", {"message": "b"})
    assert first.id != second.id and len(box.pending()) == 2
    assert box.publish(queue, first)
    report = box.reconcile(queue)
    assert (report.published, report.already, report.failed) == (1, 0, 0)
    assert box.pending() == [] and box.done() == sorted([first.id, second.id])
    assert [j.payload for j in queue.jobs()] == [{"message": "a"}, {"message": "b"}]
    with pytest.raises(QueueError):
        box.record("x", {"bad": object()})
    queue.close()


def test_a_failed_publish_keeps_the_intent_and_is_retried(tmp_path: Path, pg_cluster) -> None:  # type: ignore[no-untyped-def]
    box = Outbox(tmp_path / ".mdstore", durable=False)
    url = str(pg_cluster.url(pg_cluster.create_database()))
    team = PostgresQueue(url, reconnect_seconds=0.5, **FAST)
    intent = box.record("push", {"path": "a.md"})
    pg_cluster.stop()
    try:
        report = box.reconcile(team)
        assert report.failed == 1 and report.published == 0
        (kept,) = box.pending()
        assert kept.id == intent.id and kept.attempts == 1 and "cannot connect" in (kept.last_error or "")
    finally:
        pg_cluster.start()
    assert box.reconcile(team).published == 1
    job = team.get(intent.id)
    assert job is not None and job.payload == {"path": "a.md"}
    team.close()


def test_kill_9_between_write_and_enqueue_every_intent_one_job(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".mdstore").mkdir(parents=True)
    rng = random.Random(7)
    box = Outbox(vault / ".mdstore", durable=False)
    queue = SpoolQueue(vault / ".mdstore" / "queue", fsync=False, **FAST)
    for round_no in range(15):
        proc = subprocess.Popen(
            [PYTHON, str(HERE / "procs.py"), "outbox", str(vault), str(round_no * 100_000)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        proc.kill()
        proc.wait()
        proc.stdout.close()
        if round_no % 3 == 0:
            box.reconcile(queue)  # a worker starting between crashes
        while (job := queue.claim()) is not None:  # and running what it finds
            queue.ack(job)
    box.reconcile(queue)
    assert box.pending() == []
    jobs = Counter(job.id for job in queue.jobs())
    assert jobs and all(count == 1 for count in jobs.values())
    assert set(jobs) == set(box.done())
    notes = {p.name for p in vault.glob("n*.md")}
    promised = {job.payload["path"] for job in queue.jobs()}
    assert notes <= promised  # every note written has its job (an intent may precede a write that never came)
    queue.close()


def test_a_starting_worker_enqueues_the_outbox_backlog(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mdstore.cli import cli
    from mdstore.config import load_config
    from mdstore.queue import open_queue

    root = tmp_path / "vault"
    root.mkdir()
    (root / "mdstore.toml").write_text("[queue]\nfsync = false\nmax_attempts = 1\n")
    intent = Outbox(root / ".mdstore").record("commit", {"message": "from a crashed write"})
    result = CliRunner().invoke(cli, ["--vault", str(root), "worker", "--burst"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 promised jobs enqueued" in result.output
    with open_queue(load_config(root)) as q:
        job = q.get(intent.id)
        assert job is not None and job.kind == "commit"
    assert Outbox(root / ".mdstore").pending() == []
