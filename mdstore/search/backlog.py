"""Changes held back from a search part (the engine or the TF-IDF model) between small syncs.

Committing Whoosh or re-stacking the TF-IDF matrix costs 25–150 ms, several times what the DuckDB
side of a one-note write costs. So a small sync does not apply its changes to the parts at once: it
adds them here, and they are applied together — one engine commit for many edits — when this
process next searches, after a quiet moment (``FLUSH_QUIET``), in the first sync after the backlog
grew past ``DEFER_LIMIT`` notes or ``FLUSH_MAX_LAG`` seconds (a process writing without pause never
gives the timer the owner lock), or when the vault closes.

Nothing depends on the backlog surviving: a part's stamp stays at the generation before the first
held change, so if this process dies first, the next search or sync anywhere sees the part behind
and repairs it from DuckDB's ``path → hash`` (indexer.py). The backlog only ever saves work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mdstore.notes.model import Note

DEFER_LIMIT = 200  # notes a part may have held back; a sync that would pass it applies them all
FLUSH_QUIET = 1.0  # seconds without a sync before held-back changes are applied
FLUSH_MAX_LAG = 5.0  # ... and the first sync after this long since the first held change applies them


@dataclass
class Backlog:
    """The changes of consecutive syncs ``first``..``last`` (DuckDB generations) not yet applied
    to one part, merged by path: the latest note, or None when the path was removed."""

    first: int
    last: int
    since: float  # time.monotonic() of the first held change
    changes: dict[str, Note | None] = field(default_factory=dict)

    def follows(self, generation: int) -> bool:
        """Whether a sync that committed ``generation`` continues this backlog (no other writer
        came between; a sync that wrote nothing keeps the generation)."""
        return generation in (self.last, self.last + 1)

    def add(self, upserts: Sequence[Note], removed: Sequence[str], generation: int) -> None:
        for path in removed:
            self.changes[path] = None
        for note in upserts:
            self.changes[note.path] = note
        self.last = generation

    def __len__(self) -> int:
        return len(self.changes)

    def upserts(self) -> list[Note]:
        return [note for note in self.changes.values() if note is not None]

    def removed(self) -> list[str]:
        return [path for path, note in self.changes.items() if note is None]
