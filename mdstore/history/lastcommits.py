"""The ``commits`` index table (each note's last commit), kept current by a sync listener.

Table (``index/schema.py``): ``commits(path, rev, author, email, date)``; ``date`` is the author
date as a naive local timestamp, like ``notes.modified``. Rows are a function of HEAD only, so the
listener remembers the HEAD it recorded (``meta.commits_head``) and does the least work:

- a fresh index, or no recorded HEAD: every file, one ``git log`` (``last_commits``);
- HEAD unchanged: rows of removed notes go; notes new to the index are looked up;
- HEAD moved: the files changed between the two HEADs plus the new notes are looked up
  (``last_commits_for``); when the old HEAD is gone (history rewritten) everything is redone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..notes.model import Note
    from .githistory import GitHistory
    from .records import CommitInfo

_HEAD_KEY = "commits_head"


class LastCommitListener:
    """A ``SyncListener`` (``index/sync.py``) that writes the ``commits`` table."""

    def __init__(self, store: Any, history: GitHistory) -> None:
        self.store = store
        self.history = history

    def on_synced(
        self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        # A fresh index is filled from the whole history: the notes need not be listed (or read).
        self.refresh([] if fresh else [n.path for n in upserts], removed, fresh)

    def refresh(self, changed: Iterable[str], removed: Iterable[str], fresh: bool = False) -> None:
        """Bring the table up to date; the caller holds the owner lock."""
        changed, removed = list(changed), list(removed)
        with self.store.write() as con:
            head = self.history.head()
            rows = con.execute("SELECT value FROM meta WHERE key = ?", [_HEAD_KEY]).fetchall()
            recorded = rows[0][0] if rows else None
            full = fresh or recorded is None
            lookup: list[str] = []
            if not full and head != recorded:
                moved = self.history.changed_between(recorded, head) if head and recorded else None
                if moved is None:
                    full = True
                else:
                    lookup = moved
            if full:
                infos = self.history.last_commits()
                con.execute("BEGIN TRANSACTION")
                con.execute("DELETE FROM commits")
                _insert(con, infos)
            else:
                known = set()
                if changed:
                    known = {
                        r[0]
                        for r in con.execute(
                            "SELECT path FROM commits WHERE list_contains(?, path)", [changed]
                        ).fetchall()
                    }
                lookup = sorted(set(lookup) | {p for p in changed if p not in known})
                infos = self.history.last_commits_for(lookup) if lookup else {}
                drop = sorted(set(removed) | set(lookup))
                if not drop and recorded == head:
                    return
                con.execute("BEGIN TRANSACTION")
                if drop:
                    con.execute("DELETE FROM commits WHERE list_contains(?, path)", [drop])
                _insert(con, infos)
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [_HEAD_KEY, head or ""])
            con.execute("COMMIT")


def _insert(con: Any, infos: dict[str, CommitInfo]) -> None:
    if not infos:
        return
    import pyarrow as pa

    items = sorted(infos.items())
    table = pa.table(
        {
            "path": pa.array([p for p, _ in items], pa.string()),
            "rev": pa.array([i.rev for _, i in items], pa.string()),
            "author": pa.array([i.author for _, i in items], pa.string()),
            "email": pa.array([i.email for _, i in items], pa.string()),
            "date": pa.array(
                [i.date.astimezone().replace(tzinfo=None) for _, i in items], pa.timestamp("us")
            ),
        }
    )
    con.register("_commits", table)
    con.execute(
        "INSERT INTO commits (path, rev, author, email, date) "
        "SELECT path, rev, author, email, date FROM _commits"
    )
    con.unregister("_commits")
