"""A pull never misses a change committed concurrently: revision order is commit order.

16 writers push concurrently, each on its own connection, while a puller follows the space with the
same query a sync uses; every poll must continue exactly where the last one stopped (no gap that a
later commit could fill, no revision twice). The default run commits 2,400 revisions; the ``slow``
variant the full 50,000 (``pytest -m slow``).
"""

from __future__ import annotations

import threading
import time

import pytest

from mdstore.notes.model import content_hash
from mdstore.pg import connect
from mdstore.team import remote
from tests.team.conftest import SPACE

WRITERS = 16


def _follow(team_url: str, per_writer: int) -> None:
    total = WRITERS * per_writer
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS + 1)

    def writer(n: int) -> None:
        try:
            with connect(team_url) as conn:
                start.wait()
                k = 0
                while k < per_writer:
                    size = min(1 + k % 3, per_writer - k)  # pushes of 1 to 3 changes
                    changes = []
                    for j in range(k, k + size):
                        body = f"writer {n} note {j}\n".encode()
                        changes.append(remote.Change(f"w{n}/{j}.md", None, "note", body, content_hash(body)))
                    result = remote.push(conn, SPACE, changes, cursor=-1)
                    assert len(result.accepted) == size, result
                    k += size
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    seen: set[int] = set()
    cursor = 0
    with connect(team_url) as conn:
        start.wait()
        while cursor < total:
            rows = remote.changes_since(conn, SPACE, cursor)
            revisions = [r.revision for r in rows]
            # Exactly the next revisions, in order: nothing below the new cursor can appear later.
            assert revisions == list(range(cursor + 1, cursor + 1 + len(revisions)))
            assert not seen & set(revisions)
            seen.update(revisions)
            if revisions:
                cursor = revisions[-1]
            else:
                time.sleep(0.002)  # a poll interval, not a timing assumption: leave the CPU to writers
            if errors:
                break
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert seen == set(range(1, total + 1))
    with connect(team_url) as conn:
        assert remote.space_revision(conn, SPACE) == total


def test_a_puller_following_16_writers_misses_nothing(team_url: str) -> None:
    _follow(team_url, 150)


@pytest.mark.slow
def test_a_puller_following_16_writers_through_50000_revisions(team_url: str) -> None:
    _follow(team_url, 3125)


def _change(path: str, base: int | None, text: str) -> remote.Change:
    body = text.encode()
    return remote.Change(path, base, "note", body, content_hash(body))


def test_a_push_waiting_for_the_space_lock_sees_the_edit_committed_meanwhile(team_url: str) -> None:
    """Two pushes of one note on the same base revision: the one that waited for the space's lock
    must be rejected, not accepted over the edit committed while it waited (a lost edit)."""
    with connect(team_url) as first, connect(team_url) as second, connect(team_url) as watcher:
        base = remote.push(first, SPACE, [_change("a.md", None, "original\n")], cursor=-1).accepted["a.md"]
        first.execute("SELECT 1")  # open a transaction: the push below commits only at first.commit()
        held = remote.push(first, SPACE, [_change("a.md", base, "edit from the first clone\n")], cursor=-1)
        assert "a.md" in held.accepted  # ... and the space's row stays locked until first commits
        outcome: list[remote.PushResult | BaseException] = []

        def push_second() -> None:
            try:
                change = _change("a.md", base, "edit from the second clone\n")
                outcome.append(remote.push(second, SPACE, [change], cursor=-1))
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                outcome.append(exc)

        thread = threading.Thread(target=push_second)
        thread.start()
        pid = second.info.backend_pid
        deadline = time.monotonic() + 30
        while True:  # wait until the second push is blocked on the lock, however slow the machine
            waiting = watcher.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            watcher.commit()
            if waiting is not None and waiting[0] == "Lock":
                break
            assert thread.is_alive() and time.monotonic() < deadline, outcome
            time.sleep(0.01)
        first.commit()
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], remote.PushResult), outcome
        assert outcome[0].rejected == ["a.md"] and not outcome[0].accepted, outcome[0]
        rows = [r for r in remote.changes_since(watcher, SPACE, 0) if r.path == "a.md"]
        assert rows[-1].revision == held.accepted["a.md"]
