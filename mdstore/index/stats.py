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

    def apply(
        self,
        stamp: Stamp,
        notes: Iterable[tuple[str, FileStat]],
        removed: Iterable[str],
        attachments: dict[str, FileStat],
        attachments_gone: Iterable[str],
    ) -> None:
        """What a sync just committed under ``stamp``: notes written or touched, removed paths,
        attachments new or changed, attachments gone."""
        for rel in removed:
            self.notes.pop(rel, None)
        self.notes.update(notes)
        for rel in attachments_gone:
            self.attachments.pop(rel, None)
        self.attachments.update(attachments)
        self.stamp = stamp
