"""Faults against a real PostgreSQL: the server crashing mid-push and mid-pull, a sync killed
between the server's commit and the local state write. The next sync always settles: no revision
twice, nothing lost, no conflict copy."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

import mdstore
from mdstore.errors import BackendUnavailable
from tests.team.conftest import SPACE, Clone, tree, write

pytestmark = pytest.mark.usefixtures("durable")
NOTES = 1500


def _fill(vault, n: int = NOTES, tag: str = "v1") -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        write(vault, f"bulk/{i:05}.md", f"---\nn: {i}\n---\n# Note {i} {tag}\n\n" + "words " * 200 + "\n")


def _crash_while(pg_cluster, team_url: str, run, marker: str) -> BaseException | None:  # type: ignore[no-untyped-def]
    """Run ``run`` in a thread and crash the server (stop -m immediate) once a query of the sync
    containing ``marker`` is active; restart it. Returns what ``run`` raised (None if it finished)."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            run()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    with psycopg.connect(team_url, autocommit=True) as watch:
        while thread.is_alive():
            row = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE %s AND pid <> pg_backend_pid()",
                (f"%{marker}%",),
            ).fetchone()
            if row and row[0]:
                break
    pg_cluster.stop(immediate=True)
    thread.join()
    pg_cluster.start()
    return outcome[0]


def _revisions_per_path(team_url: str) -> dict[str, int]:
    with psycopg.connect(team_url) as conn:
        rows = conn.execute("SELECT path, count(*) FROM team_revisions GROUP BY path").fetchall()
    return dict(rows)


def test_server_crash_mid_push_then_the_next_sync_finishes(pg_cluster, team_url: str, clone: Clone) -> None:  # type: ignore[no-untyped-def]
    a = clone("a")
    _fill(a)
    error = _crash_while(pg_cluster, team_url, a.team.sync, "mdstore_push")
    assert error is None or isinstance(error, BackendUnavailable), error
    report = a.team.sync()
    assert report.conflicts == ()
    counts = _revisions_per_path(team_url)
    assert len(counts) == NOTES and set(counts.values()) == {1}  # every note once, none twice
    # Search vectors staged beside the push went with the crash (an unlogged table): the push
    # after it computed them, so every note is found.
    assert a.team.search("words").total == NOTES
    b = clone("b")
    b.team.sync()
    assert tree(a) == tree(b)


def test_server_crash_mid_pull_then_the_next_sync_finishes(pg_cluster, team_url: str, clone: Clone) -> None:  # type: ignore[no-untyped-def]
    a, b = clone("a"), clone("b")
    _fill(a)
    a.team.sync()
    error = _crash_while(pg_cluster, team_url, b.team.sync, "FROM team_revisions WHERE space")
    assert error is None or isinstance(error, BackendUnavailable), error
    status = b.team.status()
    assert status["reachable"] is True
    report = b.team.sync()
    assert report.conflicts == () and b.team.sync().changed_count == 0
    assert tree(a) == tree(b)
    assert not (b.root / ".trash").exists()


def test_state_lost_after_the_server_commit_settles_without_a_conflict_copy(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Plan.md", "one\n")
    a.team.sync()
    b.team.sync()
    state = a.root / ".mdstore" / "team" / "state.bin"
    before = state.read_bytes()
    write(a, "Plan.md", "one\ntwo\n")
    a.team.sync()  # the server commits ...
    state.write_bytes(before)  # ... and the local state write never happened (as after kill -9)
    write(b, "Plan.md", "zero\none\n")
    b.team.sync()
    report = a.team.sync()
    assert report.conflicts == () and report.merged == ()
    assert (a.root / "Plan.md").read_text() == "zero\none\ntwo\n"


def test_kill_9_of_a_syncing_process_then_the_next_sync_settles(
    tmp_path: Path, team_url: str, clone: Clone
) -> None:
    a = clone("a")
    _fill(a, 800)
    env = {
        **os.environ,
        "MDSTORE_TEAM_URL": team_url,
        "MDSTORE_TEAM_SPACE": SPACE,
        "MDSTORE_SEARCH_ENGINE": "none",
    }
    code = "import mdstore, sys; mdstore.open(sys.argv[1]).team.sync()"
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", code, str(a.root)], env=env)
        with psycopg.connect(team_url, autocommit=True) as watch:
            while proc.poll() is None:
                row = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE '%team_spaces%FOR UPDATE%' "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()
                if row and row[0]:
                    break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _fill(a, 800, tag=f"v{_}")  # more edits before the next try
    report = a.team.sync()
    assert report.conflicts == ()
    assert not [p for p in tree(a) if "conflict" in p]
    b = clone("b")
    b.team.sync()
    assert tree(a) == tree(b)
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)


def test_a_restarted_server_is_reconnected_without_a_failed_sync(pg_cluster, clone: Clone) -> None:  # type: ignore[no-untyped-def]
    a = clone("a")
    write(a, "One.md", "one\n")
    a.team.sync()  # keeps its connection for the next sync
    pg_cluster.restart()
    write(a, "Two.md", "two\n")
    assert a.team.sync().pushed == ("Two.md",)


def _pull_held(team_url: str, vault: mdstore.Vault, meanwhile: Callable[[], None]) -> Any:
    """``vault.team.sync()`` held after its decisions, before it reads the revisions it writes
    (a lock on ``team_revisions``); ``meanwhile()`` runs while it waits. Returns the sync's report."""
    with psycopg.connect(team_url) as blocker:
        blocker.execute("LOCK TABLE team_revisions IN ACCESS EXCLUSIVE MODE")
        done: list[Any] = []
        thread = threading.Thread(target=lambda: done.append(vault.team.sync()))
        thread.start()
        with psycopg.connect(team_url, autocommit=True) as watch:
            while not watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%FROM team_revisions%'"
            ).fetchone()[0]:  # type: ignore[index]
                pass
        meanwhile()
        blocker.commit()
        thread.join()
    return done[0]


def test_an_editor_save_during_a_pull_is_never_overwritten(team_url: str, clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Plan.md", "one\ntwo\nthree\nfour\n")
    a.team.sync()
    b.team.sync()
    write(a, "Plan.md", "ONE\ntwo\nthree\nfour\n")
    a.team.sync()
    # Hold the pull between its decision (b's file is unchanged: take a's version) and its write.
    saved = "one\ntwo\nthree\nFOUR (saved in an editor meanwhile)\n"
    _pull_held(team_url, b, lambda: write(b, "Plan.md", saved))
    assert (b.root / "Plan.md").read_text() == saved
    b.team.sync()  # the edit made meanwhile is merged with a's, not lost
    a.team.sync()
    assert (a.root / "Plan.md").read_text() == "ONE\ntwo\nthree\nFOUR (saved in an editor meanwhile)\n"
    assert tree(a) == tree(b)


def test_an_editor_save_during_a_large_pull_is_kept_and_the_rest_written(team_url: str, clone: Clone) -> None:
    """A pull of many notes goes through one journal batch (its files written on several
    threads): the note saved in an editor meanwhile fails its compare-and-swap and is kept, every
    other note is still written in a few large batches, and the index matches the files."""
    from tests.conftest import dump_index

    a, b = clone("a"), clone("b")
    names = [f"notes/{i:02}.md" for i in range(40)]
    for i, rel in enumerate(names):
        write(a, rel, f"note {i}\nline two\n")
    a.team.sync()
    b.team.sync()
    for i, rel in enumerate(names):
        write(a, rel, f"NOTE {i}\nline two\n")
    a.team.sync()
    saved = "note 7\nline two\nsaved in an editor meanwhile\n"
    generation = b.status()["generation"]
    report = _pull_held(team_url, b, lambda: write(b, "notes/07.md", saved))
    # A few batches (halves of halves around the refused note), not one batch and index update per note.
    assert b.status()["generation"] - generation <= 12
    assert (b.root / "notes/07.md").read_text() == saved
    assert sorted(report.pulled) == [rel for rel in names if rel != "notes/07.md"]  # type: ignore[attr-defined]
    for i, rel in enumerate(names):
        if rel != "notes/07.md":
            assert (b.root / rel).read_text() == f"NOTE {i}\nline two\n"
    assert not list(b.root.rglob(".mdstore-tmp.*"))  # no staged file left behind
    b.sync()  # (the editor's save, which no watcher told the index about)
    incremental = dump_index(b)
    b.sync(rebuild=True)
    assert dump_index(b) == incremental
    b.team.sync()  # the edit made meanwhile is merged with a's, not lost
    a.team.sync()
    assert (a.root / "notes/07.md").read_text() == "NOTE 7\nline two\nsaved in an editor meanwhile\n"
    assert tree(a) == tree(b)
