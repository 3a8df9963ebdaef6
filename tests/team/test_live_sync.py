"""Continuous sync: with [team] set, the watcher pushes a change after its debounce and pulls when
PostgreSQL notifies; without the server the vault keeps working and the change waits (across a
restart of the watcher) until the server is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

import pytest

from tests.team.conftest import Clone, read, write

pytestmark = pytest.mark.usefixtures("durable")
WAIT = 60.0  # seconds before giving up on a condition (never reached when things work)


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def watching(*vaults):  # type: ignore[no-untyped-def]
    watchers = [v.watch(foreground=False) for v in vaults]
    try:
        yield
    finally:
        for w in watchers:
            w.stop()


def _has(vault, path: str, text: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return text in read(vault, path)
    except OSError:
        return False


def test_an_edit_reaches_the_other_clone_through_both_watchers(clone: Clone) -> None:
    a, b = clone("a", poll_seconds=600.0), clone("b", poll_seconds=600.0)
    with watching(a, b):
        write(a, "Live.md", "# Live\n\nfirst\n")
        until(lambda: _has(b, "Live.md", "first"), "the new note in b")
        write(b, "Live.md", "# Live\n\nfirst\nsecond\n")
        until(lambda: _has(a, "Live.md", "second"), "b's edit in a")
        (b.root / "Live.md").rename(b.root / "Moved.md")
        until(lambda: _has(a, "Moved.md", "second") and not (a.root / "Live.md").exists(), "the move in a")
        (a.root / "Moved.md").unlink()
        until(lambda: not (b.root / "Moved.md").exists(), "the delete in b")


def test_attachments_travel_with_the_periodic_sync(clone: Clone) -> None:
    # The watcher reports note changes as they happen; attachments are found by the poll.
    a, b = clone("a", poll_seconds=0.5), clone("b", poll_seconds=0.5)
    with watching(a, b):
        write(a, "pics/dot.png", b"\x89PNG dot")
        until(lambda: (b.root / "pics/dot.png").exists(), "an attachment in b")
        (a.root / "pics/dot.png").unlink()
        until(lambda: not (b.root / "pics/dot.png").exists(), "the delete in b")


def test_offline_changes_wait_and_survive_a_restart(pg_cluster, team_url: str, clone: Clone) -> None:  # type: ignore[no-untyped-def]
    a, b = clone("a", poll_seconds=600.0), clone("b", poll_seconds=1.0)
    a.team.sync()
    pg_cluster.stop(immediate=True)
    try:
        with watching(a):
            write(a, "Offline.md", "written while the server was down\n")
            until(lambda: a.sql("SELECT count(*) AS n FROM notes").rows[0][0] == 1, "a indexes the note")
            until(lambda: "cannot connect" in (a.team.status()["last_error"] or ""), "status to say so")
            status = a.team.status()
            assert status["reachable"] is False and status["waiting"] == 1
        assert a.get("Offline.md").body.startswith("written")  # the local vault kept working
    finally:
        pg_cluster.start()
    with watching(a, b):  # a restarted watcher sends it
        until(lambda: _has(b, "Offline.md", "written while"), "the waiting change in b")
    assert a.team.status()["waiting"] == 0
