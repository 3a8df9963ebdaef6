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

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..notes.model import Note
    from .githistory import GitHistory
    from .records import CommitInfo

_HEAD_KEY = "commits_head"


class LastCommitListener:
    """A ``SyncListener`` (``index/sync.py``) that writes the ``commits`` table.

    ``history`` opens the vault's GitHistory (None: not a usable repository, no table to keep);
    it is called only when git must answer, since loading GitPython costs more than a one-note
    write: ``head`` reads HEAD from the repository's files (None when git must read it)."""

    def __init__(
        self,
        store: Any,
        history: Callable[[], GitHistory | None],
        head: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.store = store
        self._open_history = history
        self._read_head = head

    def on_synced(
        self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        # A fresh index is filled from the whole history: the notes need not be listed (or read).
        self.refresh([] if fresh else [n.path for n in upserts], removed, fresh)

    def refresh(self, changed: Iterable[str], removed: Iterable[str], fresh: bool = False) -> None:
        """Bring the table up to date; the caller holds the owner lock."""
        changed, removed = list(changed), list(removed)
        history: GitHistory | None = None
        head = self._read_head()
        if head is None:
            history = self._open_history()
            if history is None:
                return
            head = history.head()
        with self.store.write() as con:
            rows = con.execute("SELECT value FROM meta WHERE key = ?", [_HEAD_KEY]).fetchall()
            recorded = rows[0][0] if rows else None
            full = fresh or recorded is None
            lookup: list[str] = []
            infos: dict[str, CommitInfo]
            if (full or head != recorded) and history is None:
                history = self._open_history()
                if history is None:
                    return
            if not full and head != recorded:
                assert history is not None
                moved = history.changed_between(recorded, head) if head and recorded else None
                if moved is None:
                    full = True
                else:
                    lookup = moved
            if full:
                assert history is not None
                infos = history.last_commits()
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
                infos = {}
                if lookup:
                    history = history or self._open_history()
                    if history is None:
                        return
                    infos = history.last_commits_for(lookup)
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
    from ..index.tables import rows_of

    items = sorted(infos.items())
    columns: dict[str, tuple[str, list[Any]]] = {
        "path": ("TEXT", [p for p, _ in items]),
        "rev": ("TEXT", [i.rev for _, i in items]),
        "author": ("TEXT", [i.author for _, i in items]),
        "email": ("TEXT", [i.email for _, i in items]),
        "date": ("TIMESTAMP", [i.date.astimezone().replace(tzinfo=None) for _, i in items]),
    }
    with rows_of(con, columns) as (relation, params):
        con.execute(
            "INSERT INTO commits (path, rev, author, email, date) "
            f"SELECT path, rev, author, email, date FROM {relation}",
            params,
        )
