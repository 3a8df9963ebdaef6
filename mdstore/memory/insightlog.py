"""The write-behind of insights: ``store_insight`` is acknowledged once its note is a line of a
durable journal (``.mdstore/memory/insights/``, the same journal as a session log's, journal.py);
the notes are created in batches from a background thread, ``flush_entries`` or ``flush_seconds``
after the first waiting one, and at ``flush()``/``close()``.

Until its note exists, a stored insight is read from the journal: the duplicate check, ``get``,
``search`` and every other process see it at once, and a ``kill -9`` loses nothing (the next flush
of any process writes it). Each line holds the whole note (path, frontmatter as YAML, body), so a
flush needs nothing else; a flush cut short after its notes were written finds them in place and
writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from .journal import SessionJournal
from .writebehind import WriteBehind

if TYPE_CHECKING:
    from ..config import MemorySettings
    from ..vault import Vault


def record(path: str, front: dict[str, Any], body: str) -> dict[str, Any]:
    """A journal line for the note to create (YAML keeps dates in metadata as dates)."""
    return {
        "id": str(front["id"]),
        "path": path,
        "key": str(front["content_key"]),  # the duplicate check reads these two, not the YAML
        "front": yaml.safe_dump(front, sort_keys=False, allow_unicode=True),
        "body": body,
    }


def note_of(line: dict[str, Any]) -> tuple[str, dict[str, Any], str] | None:
    """(path, frontmatter, body) of a journal line; None for a line this version cannot read."""
    try:
        front = yaml.load(str(line["front"]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (KeyError, yaml.YAMLError):
        return None
    if not isinstance(front, dict) or not isinstance(line.get("path"), str):
        return None
    return line["path"], front, str(line.get("body") or "")


class InsightLog:
    def __init__(
        self,
        vault: Vault,
        settings: MemorySettings,
        write: Callable[[list[dict[str, Any]]], int],
    ) -> None:
        self._journal = SessionJournal(
            vault.config.state_dir / "memory" / "insights", "insights", fsync=settings.fsync
        )
        # ``write`` creates the notes of journal lines and returns how many it created
        self._behind = WriteBehind(self._journal, settings, write, name="insights", unique_ids=True)

    def pending(self) -> list[dict[str, Any]]:
        """Every acknowledged insight whose note may not exist yet, oldest first."""
        return self._journal.pending()

    def add(self, make: Callable[[list[dict[str, Any]]], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Write the line ``make`` returns, given the waiting lines: both under the journal's
        exclusive lock, so two processes storing the same insight write it once. Durable (and
        visible to every process) once this returns."""
        line = self._journal.write_if(make)
        if line is not None:
            self._behind.acknowledged()
        return line

    def flush(self) -> int:
        """Create the notes of every waiting insight (of any process) now; returns how many."""
        return self._behind.flush()

    def close(self) -> None:
        self._behind.close()
