"""The search side of a streamed cold build: the engine and the related-notes model are fed each
chunk of notes right after DuckDB committed it, and commit once the structured index is complete.

The notes are parsed once, in the parse workers, which also compute what the search side needs of
each note (``SEARCH``: the search document, ``RELATED``: the hashed word counts, ``WHOOSH``: the
note as Whoosh's workers read it, already pickled), so the process that writes DuckDB only passes
them on; tantivy indexes them meanwhile on its own thread. Whoosh's worker processes make the
search documents and the model's word counts themselves, starting once DuckDB is complete
(``hold``), so that the structured index, which ``find`` waits for, comes first; the counts reach
the model during the engine's commit.

Neither part changes for readers before its commit, which stores the DuckDB generation as its
stamp: a build that stops half way (a crash, an error) leaves each part as it was, with a stamp
that says it must be repaired.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdstore.index.workers import Parsed
from mdstore.notes.model import Note

if TYPE_CHECKING:
    from mdstore.search.documents import SearchDocument
    from mdstore.search.tfidf import Counts

log = logging.getLogger("mdstore.search")

SEARCH = "mdstore.search.documents:build_document"
RELATED = "mdstore.search.tfidf:term_counts"
WHOOSH = "mdstore.search.whoosh_build:batch_item"
BOTH = "mdstore.search.coldfeed:document_and_counts"
"""What the parse workers compute for the engine and the model (``index/workers.load_chunk``);
``BOTH`` is ``SEARCH`` and ``RELATED`` at once, analysing the note's text once for the two. With
``WHOOSH`` they compute neither: Whoosh's workers analyse each note once for both, later."""


def document_and_counts(note: Note) -> tuple[SearchDocument, Counts]:
    """``build_document(note)`` and ``term_counts(note)``, the counts taken from the document's
    analysed terms: ``note_text``'s tokens are the title's twice, then the aliases', the tags',
    the headings' and the body's, which the document holds already (all but the tags)."""
    from mdstore.search.analysis import tokens
    from mdstore.search.documents import analysed_document
    from mdstore.search.tfidf import token_counts

    doc, terms = analysed_document(note)
    tags = [token for tag in note.tags for token in tokens(tag)]
    return doc, token_counts(
        [*terms.title, *terms.title, *terms.aliases, *tags, *terms.headings, *terms.body]
    )


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
        documents, items = (None, engine) if self._notes_to_engine else (engine, None)
        # An engine that takes the notes analyses them after DuckDB's commit; it counts the
        # model's words from that same analysis, so the parse workers, on the way to `find`, don't.
        self._counts_from_engine = self._notes_to_engine and model is not None
        if self._counts_from_engine:
            engine.count_words(model.add_counts)
        counted = None if self._counts_from_engine else model
        wanted = ((SEARCH, documents), (WHOOSH, items), (RELATED, counted))
        self.derive = tuple(name for name, part in wanted if part is not None)
        if SEARCH in self.derive and RELATED in self.derive:
            self.derive = tuple(name for name in self.derive if name not in (SEARCH, RELATED)) + (BOTH,)
        self._marker = marker
        self._info = dict(info, indexed=0)
        self._written = 0.0
        self._write_marker()

    def _write_marker(self) -> None:
        temp = self._marker.with_name(f".{self._marker.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(self._info), encoding="utf-8")
        os.replace(temp, self._marker)
        self._written = time.monotonic()

    def add(self, notes: Sequence[Note | Parsed], derived: Sequence[dict[str, Any] | None]) -> None:
        """Add a chunk: ``derived[i]`` is what the parse workers computed for ``notes[i]`` (a
        ``Parsed`` summary always comes with it), or None to compute it here from the Note."""
        pairs = zip(notes, derived, strict=True)
        extras = [extra if extra is not None else self._derived(note) for note, extra in pairs]
        for extra in extras:
            if BOTH in extra:
                extra[SEARCH], extra[RELATED] = extra.pop(BOTH)
        if self.engine is not None and self._notes_to_engine:
            self.engine.add_batch_items([extra[WHOOSH] for extra in extras])
        elif self.engine is not None:
            self.engine.add([extra[SEARCH] for extra in extras])
        if self.model is not None and not self._counts_from_engine:
            paths, hashes = [note.path for note in notes], [note.hash for note in notes]
            self.model.add_counts(paths, hashes, [extra[RELATED] for extra in extras])
        self._info["indexed"] += len(notes)
        if time.monotonic() - self._written >= 1.0:
            self._write_marker()

    def _derived(self, note: Note | Parsed) -> dict[str, Any]:
        if not isinstance(note, Note):
            raise TypeError(f"{note.path}: a parsed summary came without what its worker derived")
        from mdstore.index.workers import derived_for

        return derived_for(note, self.derive)

    def finish(self) -> None:
        """Commit both parts; a part that fails is dropped, the other still commits, and the first
        error is raised. The engine starts first (it is what `search` waits for). Unless the
        model's counts come from the engine's commit, the model commits meanwhile: the engine's
        commit runs mostly outside the GIL, so the two take the time of the longer."""
        failed: list[Exception] = []
        spent = {"engine": 0.0, "related notes": 0.0}
        beside: threading.Thread | None = None
        try:
            if self.engine is not None:
                self._info["phase"] = "committing"
                self._write_marker()
                engine, self.engine = self.engine, None

                def commit_engine() -> None:
                    started = time.perf_counter()
                    try:
                        engine.commit()
                    except Exception as exc:  # noqa: BLE001 - raised below, after the model's commit
                        failed.append(exc)
                    spent["engine"] = time.perf_counter() - started

                if self.model is not None and not self._counts_from_engine:
                    beside = threading.Thread(target=commit_engine, name="mdstore-search-commit", daemon=True)
                    beside.start()
                else:
                    commit_engine()
            if self.model is not None:
                model, self.model = self.model, None
                if not failed or not self._counts_from_engine:  # else its counts are missing
                    started = time.perf_counter()
                    model.commit()
                    spent["related notes"] = time.perf_counter() - started
        finally:
            if beside is not None:
                beside.join()  # the engine's commit ends (or fails) before anything is let go
            self.abort()
        log.info(
            "search side of a cold build committed: engine %.1f s, related notes %.1f s",
            spent["engine"],
            spent["related notes"],
        )
        if failed:
            raise failed[0]

    def abort(self) -> None:
        """Drop what was not committed and the progress marker."""
        if self.engine is not None:
            engine, self.engine = self.engine, None
            engine.cancel()
        self.model = None
        self._marker.unlink(missing_ok=True)
