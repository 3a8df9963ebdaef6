"""``mdstore watch`` as a real process: one per vault, clean stop, crash and restart, and other
processes reading through its socket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mdstore
from mdstore.watch import daemon_status
from mdstore.watch.client import owner_client

from .conftest import FAST, FAST_ENV, assert_exact, indexed, note, wait_for, write

PROCS = Path(__file__).with_name("procs.py")


def client_proc(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(PROCS), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **FAST_ENV},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    return proc


@pytest.fixture
def seeded(vault_root: Path) -> Path:
    for i in range(20):
        write(vault_root, f"n{i}.md", note(i))
    return vault_root


def open_client(root: Path) -> mdstore.Vault:
    return mdstore.open(root, **FAST)


def test_one_daemon_per_vault_and_a_clean_stop(seeded, daemon):
    first = daemon().wait_ready()
    second = daemon()
    assert second.proc.wait(30) == 9
    err = second.proc.stderr.read()
    assert f"pid {first.proc.pid} (mdstore watch)" in err and "Traceback" not in err
    assert (seeded / ".mdstore/owner.sock").exists()
    assert first.stop(signal.SIGTERM) == 0
    assert not (seeded / ".mdstore/owner.sock").exists()
    assert daemon_status(mdstore.open(seeded).config) == {"running": False, "state": "not running"}
    vault = open_client(seeded)
    assert vault._client() is None
    write(seeded, "after.md", note("after"))
    vault.sync()  # the lock is free: a direct write works at once
    assert "after.md" in indexed(vault)
    vault.close()


def test_sigint_also_stops_cleanly(seeded, daemon):
    d = daemon().wait_ready()
    assert d.stop(signal.SIGINT) == 0
    assert not (seeded / ".mdstore/owner.sock").exists()


def test_clients_read_through_the_socket_with_errors_as_themselves(seeded, daemon):
    daemon().wait_ready()
    vault = open_client(seeded)
    assert vault._client() is not None
    assert len(vault.find()) == 20
    assert vault.get("n3.md").title == "Note 3"
    with pytest.raises(mdstore.QueryError):
        vault.sql("SELECT nope FROM notes")
    with pytest.raises(mdstore.NoteNotFound):
        vault.backlinks("missing-note")
    client = vault._client()
    # Only the allow-listed operations are served: public writes, private methods, close() and
    # attribute names of the daemon's Vault are refused with one clear error, and the daemon lives on.
    for name in ("create", "close", "_sync_here", "_lock", "__class__", "no_such_method", "find"):
        with pytest.raises(mdstore.MdstoreError, match=f"does not serve '{name}'.*only for _catch_up"):
            client.call(name, (), {})
    with pytest.raises(mdstore.MdstoreError, match="does not serve 42"):
        client.call(42, (), {})  # type: ignore[arg-type]
    assert len(vault.find()) == 20
    vault.close()


def test_read_your_writes_through_the_daemon(seeded, daemon):
    daemon().wait_ready()
    vault = open_client(seeded)
    for i in range(5):
        write(seeded, f"ryw{i}.md", note(f"ryw{i}"))
        vault.sync(paths=[f"ryw{i}.md"])  # returns once the daemon has indexed it
        assert f"ryw{i}.md" in indexed(vault)
    vault.close()


def test_search_finds_a_write_made_through_the_daemon_at_once(seeded, daemon):
    """The daemon holds small syncs back from the search side; a client's search makes it catch
    up first, so the client finds its own write (and related notes know it) immediately."""
    daemon(env={"MDSTORE_SEARCH_ENGINE": "whoosh"}).wait_ready()
    vault = mdstore.open(seeded, search={"engine": "whoosh"})
    try:
        for i in range(3):
            vault.update("n3.md", body=f"# N3\nZeppelin number z{i}q.\n")
            assert vault.search(f"z{i}q").paths() == ["n3.md"]
            if i:
                assert vault.search(f"z{i - 1}q").total == 0
        status = vault.search_status()
        assert status["search"]["ready"] and status["related"]["ready"]
    finally:
        vault.close()


def test_another_process_sees_a_new_note_quickly(seeded, daemon):
    daemon().wait_ready()
    waiter = client_proc("await_note", str(seeded), "late.md", "30")
    write(seeded, "late.md", "---\nn: late\n---\n# Late\n")
    waiter.stdin.write("go\n")
    waiter.stdin.flush()
    stdout, stderr = waiter.communicate(timeout=60)
    out = json.loads(stdout.splitlines()[0])
    assert out["seconds"] is not None, stderr
    print(f"new note visible in another process after {out['seconds'] * 1000:.0f} ms")


def test_a_reader_process_never_sees_partial_batches(seeded, daemon, tmp_path):
    daemon().wait_ready()
    reader = client_proc("reader", str(seeded), "6")
    for i in range(1500):
        write(seeded, f"burst/{i % 10}/n{i}.md", note(i))
        if i % 300 == 0:
            time.sleep(0.2)  # some small batches, then storms
    out, err = reader.communicate(timeout=120)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["problems"] == [], err
    assert result["queries"] > 10 and result["via"]
    vault = open_client(seeded)
    wait_for(lambda: len(indexed(vault)) == 1520, timeout=60, what="the burst")
    assert_exact(vault, tmp_path)
    vault.close()


def test_sigkill_mid_batch_then_restart_gives_an_exact_index(seeded, daemon, tmp_path):
    d = daemon().wait_ready()
    for i in range(800):
        write(seeded, f"kill/n{i}.md", note(i))
    time.sleep(0.4)  # inside the storm's sync, most likely
    d.proc.kill()
    d.proc.wait(30)
    config = mdstore.open(seeded).config
    st = daemon_status(config)
    assert st["state"] == "stale" and not st["running"]
    assert owner_client(config) is None  # a socket file is left, but nobody answers
    for i in range(800, 850):
        write(seeded, f"kill/n{i}.md", note(i))  # changed while no daemon ran
    daemon().wait_ready()
    vault = open_client(seeded)
    assert vault._client() is not None
    assert len(indexed(vault)) == 870
    assert_exact(vault, tmp_path)
    vault.close()


def test_a_client_follows_the_daemon_across_restarts(seeded, daemon):
    vault = open_client(seeded)
    d = daemon().wait_ready()
    assert len(vault.find()) == 20 and vault._client() is not None
    assert d.stop() == 0
    write(seeded, "between.md", note("b"))
    assert "between.md" not in indexed(vault)  # direct reads again, no error
    vault.sync()
    daemon().wait_ready()
    write(seeded, "again.md", note("a"))
    wait_for(lambda: "again.md" in indexed(vault), what="the note via the new daemon")
    assert vault._client() is not None
    vault.close()


def test_events_command_prints_json_lines(seeded, daemon):
    daemon().wait_ready()
    follower = daemon("--events")
    wait_for(lambda: "Following" in (follower.proc.stderr.readline() or ""), what="the follower")
    write(seeded, "ev.md", note("ev"))
    line = json.loads(follower.proc.stdout.readline())
    assert line["kind"] == "created" and line["path"] == "ev.md" and len(line["hash"]) == 64
    (seeded / "ev.md").rename(seeded / "ev2.md")
    line = json.loads(follower.proc.stdout.readline())
    assert (line["kind"], line["path"], line["old_path"]) == ("moved", "ev2.md", "ev.md")
    assert follower.stop(signal.SIGINT) == 0


def test_subscribe_over_the_socket(seeded, daemon):
    from mdstore.watch import subscribe

    daemon().wait_ready()
    vault = open_client(seeded)
    got: list = []
    with subscribe(vault, got.append, "sub/**"):
        write(seeded, "sub/a.md", note("a"))
        write(seeded, "other.md", note("o"))
        wait_for(lambda: "other.md" in indexed(vault), what="other.md")
        wait_for(lambda: [e.path for e in got] == ["sub/a.md"], what="the matching event only")
    vault.close()


def test_queue_hand_off(seeded, daemon):
    from mdstore.queue import JobState, open_queue

    daemon(env={"MDSTORE_QUEUE_WATCHER_JOBS": "true"}).wait_ready()
    write(seeded, "queued.md", note("q"))
    config = mdstore.open(seeded).config
    queue = open_queue(config)
    wait_for(lambda: queue.jobs(JobState.NEW), what="an index job")
    vault = open_client(seeded)
    assert "queued.md" not in indexed(vault)
    subprocess.run(
        [sys.executable, "-m", "mdstore", "--vault", str(seeded), "worker", "--burst"],
        check=True,
        capture_output=True,
        env={**os.environ, **FAST_ENV},
        timeout=60,
    )
    assert "queued.md" in indexed(vault)
    queue.close()
    vault.close()


def test_status_reports_a_live_daemon(seeded, daemon):
    d = daemon().wait_ready()
    st = daemon_status(mdstore.open(seeded).config)
    assert st["running"] and st["pid"] == d.proc.pid and st["backlog"] == 0
    live = open_client(seeded)._client().call("watch_status", (), {})
    assert live["pid"] == d.proc.pid and live["ready"]


def test_every_read_method_works_while_the_daemon_owns_the_index(seeded, daemon):
    # With a 1 s busy timeout, any read that bypassed the daemon and opened DuckDB itself would fail.
    daemon(env={"MDSTORE_SEARCH_ENGINE": "whoosh"}).wait_ready()
    vault = mdstore.open(seeded, index={"busy_timeout": 1}, search={"engine": "whoosh"})
    assert vault._client() is not None
    assert vault.status()["notes"] == 20 and vault.status()["daemon"]["running"]
    assert vault.search_status()["search"]["ready"]
    assert len(vault.find()) == 20 and len(vault.find(text="note")) > 0
    assert vault.search("note").total > 0
    assert len(vault.related("n3.md", k=3)) == 3 and len(vault.similar("note", k=3)) == 3
    for call in (vault.check, vault.tags, vault.tasks, vault.orphans, vault.broken_links):
        call()
    vault.backlinks("n3.md")
    vault.outlinks("n3.md")
    vault.neighbors("n3.md", depth=2)
    vault.sql("SELECT count(*) FROM notes")
    vault.close()
