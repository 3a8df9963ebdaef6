"""What the index holds of each file's stat, kept in memory between the syncs of one process.

A full sync compares every file's (mtime, size) with the index's. Reading those rows from DuckDB
costs about as much as listing the vault (~2 ms per 1,000 files), so the last sync of this process
leaves them here, stamped with the index's ``generation`` and ``synced_at``, which every sync that
writes changes (whichever process it runs in; a rebuild starts a new stamp too). A sync whose stamp
still matches takes the rows from here and reads only the stamp from the database; any other sync
reads them from DuckDB and leaves them here for the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .scan import FileStat

Stamp = tuple[str | None, str | None]  # meta generation, synced_at


@dataclass
class StatSnapshot:
    stamp: Stamp
    notes: dict[str, FileStat]
    attachments: dict[str, FileStat]
    # The notes whose stored mtime is at or after ``since`` (sync.py reads them again: two writes
    # within one tick of the clock can leave the same stat), kept so a no-op need not look for them.
    _recent: tuple[float, list[str]] | None = None

    def recent(self, since: float) -> list[str]:
        """The notes whose stored mtime is ``since`` or later."""
        if self._recent is None or self._recent[0] != since:
            self._recent = (since, [rel for rel, (mtime, _) in self.notes.items() if mtime >= since])
        return self._recent[1]

    def apply(
        self,
        stamp: Stamp,
        notes: dict[str, FileStat],
        removed: Iterable[str],
        attachments: dict[str, FileStat],
        attachments_gone: Iterable[str],
        recent_since: float,
    ) -> None:
        """What a sync just committed under ``stamp``: notes written or touched, removed paths,
        attachments new or changed, attachments gone; ``recent_since`` is the new stamp's
        threshold for ``recent``."""
        for rel in removed:
            self.notes.pop(rel, None)
        self.notes.update(notes)
        for rel in attachments_gone:
            self.attachments.pop(rel, None)
        self.attachments.update(attachments)
        self.stamp = stamp
        last = self._recent
        self._recent = None
        if last is not None and last[0] <= recent_since:
            # A note stored at or after the later threshold is either one just written or one
            # that was at or after the earlier one: no need to look at every note.
            candidates = set(last[1]).union(notes)
            self._recent = (
                recent_since,
                [rel for rel in candidates if rel in self.notes and self.notes[rel][0] >= recent_since],
            )
