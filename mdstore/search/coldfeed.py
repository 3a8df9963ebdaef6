"""The search side of a streamed cold build: the engine and the related-notes model are fed each
chunk of notes right after DuckDB committed it, and commit once the structured index is complete.

The notes are parsed once, in the parse workers, which also compute what the search side needs of
each note (``SEARCH``: the search document, ``RELATED``: the hashed word counts), so the process that
writes DuckDB only passes them on; tantivy indexes them meanwhile on its own thread. Whoosh's
worker processes take the notes and make the search documents themselves, starting once DuckDB is
complete (``hold``), so that the structured index, which ``find`` waits for, comes first.

Neither part changes for readers before its commit, which stores the DuckDB generation as its
stamp: a build that stops half way (a crash, an error) leaves each part as it was, with a stamp
that says it must be repaired.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mdstore.notes.model import Note

log = logging.getLogger("mdstore.search")

SEARCH = "mdstore.search.documents:build_document"
RELATED = "mdstore.search.tfidf:term_counts"
"""What the parse workers compute for the engine and the model (``index/workers.load_chunk``)."""


class ColdFeed:
    """A ``BuildSink`` (``index/coldbuild.py``) writing the engine and the model of one vault.

    ``engine`` and ``model`` are the parts' builds (``SearchBackend.builder``,
    ``TfidfModel.builder``), either may be None. Progress is written to the marker file that
    ``search_status`` reads: notes indexed so far out of ``total``."""

    name = "search"

    def __init__(self, engine: Any, model: Any, marker: Path, info: dict[str, Any]) -> None:
        self.engine = engine
        self.model = model
        self._notes_to_engine = bool(getattr(engine, "takes_notes", False))
        documents = None if self._notes_to_engine else engine
        self.derive = tuple(
            name for name, part in ((SEARCH, documents), (RELATED, model)) if part is not None
        )
        self._marker = marker
        self._info = dict(info, indexed=0)
        self._written = 0.0
        self._write_marker()

    def _write_marker(self) -> None:
        temp = self._marker.with_name(f".{self._marker.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(self._info), encoding="utf-8")
        os.replace(temp, self._marker)
        self._written = time.monotonic()

    def add(self, notes: Sequence[Note], derived: Sequence[dict[str, Any] | None]) -> None:
        if self.engine is not None and self._notes_to_engine:
            self.engine.add_notes(notes)
        elif self.engine is not None:
            from mdstore.search.documents import build_document

            self.engine.add(
                [
                    extra[SEARCH] if extra and SEARCH in extra else build_document(note)
                    for note, extra in zip(notes, derived, strict=True)
                ]
            )
        if self.model is not None:
            self.model.add(notes, [extra.get(RELATED) if extra else None for extra in derived])
        self._info["indexed"] += len(notes)
        if time.monotonic() - self._written >= 1.0:
            self._write_marker()

    def finish(self) -> None:
        """Commit both parts (the engine first: it is what `search` waits for); a part that fails
        is dropped, the other still commits, and the first error is raised."""
        failed: Exception | None = None
        try:
            if self.engine is not None:
                self._info["phase"] = "committing"
                self._write_marker()
                engine, self.engine = self.engine, None
                try:
                    engine.commit()
                except Exception as exc:  # noqa: BLE001 - raised below, after the model's commit
                    failed = exc
            if self.model is not None:
                model, self.model = self.model, None
                model.commit()
        finally:
            self.abort()
        if failed is not None:
            raise failed

    def abort(self) -> None:
        """Drop what was not committed and the progress marker."""
        if self.engine is not None:
            engine, self.engine = self.engine, None
            engine.cancel()
        self.model = None
        self._marker.unlink(missing_ok=True)
