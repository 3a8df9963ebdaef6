"""The default search engine: Whoosh (whoosh-reloaded), pure Python, one index folder.

Rules from FACTS.md this module keeps: a new searcher is opened whenever ``latest_generation()``
changes (``Searcher.refresh()`` keeps stale segments in whoosh-reloaded); commits never optimize;
no ``AsyncWriter`` (its thread blocks process exit). A rebuild goes through ``whoosh_build.py``:
a leaner writer, in ``procs`` worker processes for a cold build of many notes.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdstore.errors import IndexBusy
from mdstore.notes.model import Note
from mdstore.search.documents import META_KEY, SCHEMA_VERSION, SearchDocument, build_document
from mdstore.search.protocol import SearchHit, SearchResults, check_search_args
from mdstore.search.query import parse_query
from mdstore.search.ranking import DEFAULT_BOOSTS, Boosts
from mdstore.search.snippets import make_snippets
from mdstore.search.suggest import suggest
from mdstore.search.whoosh_build import LOCK_TIMEOUT
from mdstore.search.whoosh_query import Compiler, collect

if TYPE_CHECKING:
    from mdstore.search.whoosh_build import WhooshBuild

PARALLEL_MIN_NOTES = 2000
"""Below this many notes a rebuild stays in-process: starting worker processes costs more than it saves."""


def _schema() -> Any:
    from whoosh import fields
    from whoosh.analysis import RegexTokenizer, SpaceSeparatedTokenizer

    terms = SpaceSeparatedTokenizer()  # text arrives analysed (analysis.py): split on spaces only
    values = RegexTokenizer(r"[^\n]+")  # keyword fields: one whole value per line
    return fields.Schema(
        path=fields.ID(stored=True, unique=True, sortable=True),
        hash=fields.ID(sortable=True),
        mtime=fields.NUMERIC(numtype=int, bits=64, stored=True, sortable=True),
        title=fields.TEXT(analyzer=terms),
        aliases=fields.TEXT(analyzer=terms),
        headings=fields.TEXT(analyzer=terms),
        body=fields.TEXT(analyzer=terms),
        name=fields.TEXT(analyzer=terms),
        # every analysed word of the fields above, for matching (see whoosh_query.Compiler)
        content=fields.TEXT(analyzer=terms, phrase=False),
        tags=fields.TEXT(analyzer=values, phrase=False),
        folder=fields.TEXT(analyzer=values, phrase=False),
        vocabulary=fields.TEXT(analyzer=terms, phrase=False),
        stored_title=fields.STORED,
        stored_body=fields.STORED,
        meta=fields.ID(unique=True),
        stamp=fields.STORED,
        schema_version=fields.STORED,
    )


def document_fields(doc: SearchDocument) -> dict[str, Any]:
    return {
        "path": doc.path,
        "hash": doc.hash,
        "mtime": doc.mtime_ms,
        "title": doc.title_terms,
        "aliases": doc.alias_terms,
        "headings": doc.heading_terms,
        "body": doc.body_terms,
        "name": doc.name_terms,
        "content": " ".join(
            (doc.title_terms, doc.alias_terms, doc.heading_terms, doc.body_terms, doc.name_terms)
        ),
        "tags": "\n".join(doc.tags),
        "folder": "\n".join(doc.folders),
        "vocabulary": doc.vocabulary,
        "stored_title": doc.title,
        "stored_body": doc.body,
    }


def meta_fields(stamp: int) -> dict[str, Any]:
    # empty column values: whoosh's column readers fail on a segment whose last document lacks one
    return {
        "meta": META_KEY,
        "stamp": stamp,
        "schema_version": SCHEMA_VERSION,
        "path": "",
        "hash": "",
        "mtime": 0,
    }


class WhooshBackend:
    """A ``SearchBackend`` on a Whoosh index in ``folder`` (created on the first write)."""

    name = "whoosh"

    def __init__(self, folder: Path, *, boosts: Boosts = DEFAULT_BOOSTS, procs: int | None = None) -> None:
        self.folder = Path(folder)
        self.boosts = boosts
        self.procs = procs if procs is not None else min(os.cpu_count() or 1, 4)
        self._ix: Any = None
        self._searcher: Any = None
        self._generation = -1
        self._docnums: dict[str, int] | None = None
        self._lock = threading.RLock()  # one searcher swap at a time; whoosh searchers are not shared safely

    # -- opening ------------------------------------------------------------------------------

    def _index(self) -> Any:
        if self._ix is None:
            from whoosh import index

            if not index.exists_in(str(self.folder)):
                return None
            self._ix = index.open_dir(str(self.folder))
        return self._ix

    def _current(self) -> Any:
        """A searcher on the latest commit, or ``None`` when there is no index yet."""
        with self._lock:
            ix = self._index()
            if ix is None:
                return None
            generation = ix.latest_generation()
            if generation < 0:  # its files were removed under it: no index, rebuilt by the next repair
                self._drop_searcher()
                self._ix = None
                return None
            if self._searcher is None or generation != self._generation:
                self._drop_searcher()
                from whoosh import scoring

                self._searcher = ix.searcher(weighting=scoring.BM25F())
                self._generation = generation
                self._docnums = None
            return self._searcher

    def _drop_searcher(self) -> None:
        searcher, self._searcher = self._searcher, None
        if searcher is not None:
            from whoosh.reading import ReaderClosed

            try:
                searcher.close()
            except ReaderClosed:
                pass  # closed already by a failed write

    def _meta_doc(self) -> dict[str, Any] | None:
        searcher = self._current()
        if searcher is None or set(searcher.schema.names()) != set(_schema().names()):
            return None
        doc = searcher.document(meta=META_KEY)
        if doc is None or doc.get("schema_version") != SCHEMA_VERSION:
            return None
        return dict(doc)

    # -- writing ------------------------------------------------------------------------------

    def _writer(self, ix: Any, **kwargs: Any) -> Any:
        from whoosh.index import LockError

        try:
            return ix.writer(timeout=LOCK_TIMEOUT, delay=0.05, **kwargs)
        except LockError as exc:
            raise IndexBusy(f"another process is writing the search index in {self.folder}") from exc

    def _fresh(self) -> Any:
        from whoosh import index

        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._ix = index.create_in(str(self.folder), _schema())
        return self._ix

    def apply(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int) -> None:
        # Only an index that rebuild() made (and apply() kept) carries a stamp; an index that
        # was missing or outdated gets the writes but no stamp, so the caller still sees it must rebuild.
        keep_stamp = self._meta_doc() is not None
        ix = self._index() if keep_stamp else self._fresh()
        latest = {note.path: note for note in upserts}  # the same path twice: the last one wins
        writer = self._writer(ix)
        try:
            for path in deletes:
                writer.delete_by_term("path", path)
            for note in latest.values():
                writer.update_document(**document_fields(build_document(note)))
            if keep_stamp:
                writer.update_document(**meta_fields(stamp))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, notes: Iterable[Note], stamp: int) -> None:
        iterator = iter(notes)
        head = list(itertools.islice(iterator, PARALLEL_MIN_NOTES))
        build = self.builder(stamp, len(head))
        try:
            for note in itertools.chain(head, iterator):
                build.add([build_document(note)])
        except BaseException:
            build.cancel()
            raise
        build.commit()

    def builder(self, stamp: int, total: int, hold: bool = False) -> WhooshBuild:
        """A rebuild fed a chunk of documents at a time (``total`` notes expected); with ``hold``
        its workers index only from the commit on (``whoosh_build.WhooshBuild``)."""
        # An index of the current schema is replaced atomically (CLEAR drops the old segments in
        # the same commit): readers see the old notes until the new ones are in.
        ix = self._index() if self._meta_doc() is not None else self._fresh()
        from mdstore.search.whoosh_build import WhooshBuild

        return WhooshBuild(self, ix, stamp, total >= PARALLEL_MIN_NOTES and self.procs > 1, hold)

    # -- reading ------------------------------------------------------------------------------

    def stamp(self) -> int | None:
        doc = self._meta_doc()
        return None if doc is None else int(doc["stamp"])

    def _paths(self, searcher: Any) -> Iterator[tuple[str, int]]:
        reader = searcher.reader()
        paths = reader.column_reader("path", translate=True)
        for docnum in reader.all_doc_ids():
            path = paths[docnum]
            if path:
                yield path, docnum

    def hashes(self) -> dict[str, str]:
        with self._lock:
            searcher = self._current()
            if searcher is None or self._meta_doc() is None:
                return {}
            hashes = searcher.reader().column_reader("hash", translate=True)
            return {path: hashes[docnum] for path, docnum in self._paths(searcher)}

    def count(self) -> int:
        with self._lock:
            searcher = self._current()
            if searcher is None:
                return 0
            has_meta = searcher.document_number(meta=META_KEY) is not None
            return int(searcher.doc_count()) - (1 if has_meta else 0)

    def _filter(self, searcher: Any, restrict: Collection[str]) -> set[int]:
        if self._docnums is None:  # once per commit: path lookups are then dictionary hits
            self._docnums = dict(self._paths(searcher))
        docnums = self._docnums
        return {docnums[p] for p in restrict if p in docnums}

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        restrict: Collection[str] | None = None,
        sort: str = "score",
        snippets: bool = True,
    ) -> SearchResults:
        check_search_args(limit, offset, sort)
        tree = parse_query(query)
        with self._lock:
            searcher = self._current()
            if searcher is None or tree is None or (restrict is not None and not restrict):
                return SearchResults(0, ())
            wanted = self._filter(searcher, restrict) if restrict is not None else None
            if wanted is not None and not wanted:
                return SearchResults(0, ())
            compiler = Compiler(self.boosts)
            compiled, bonus = compiler.top(tree), compiler.bonus(tree)
            results = collect(searcher, compiled, max(offset + limit, 1), wanted, sort, bonus)
            total = len(results)
            hits = tuple(
                SearchHit(
                    path=hit["path"],
                    title=hit.get("stored_title", ""),
                    score=float(hit.score or 0.0) if sort == "score" else 0.0,
                    snippets=make_snippets(hit.get("stored_body", ""), tree) if snippets else (),
                )
                for hit in results[offset : offset + limit]
            )
            suggestions: tuple[str, ...] = ()
            if total == 0:
                reader = searcher.reader()
                suggestions = suggest(
                    query,
                    tree,
                    known=lambda word: reader.doc_frequency("vocabulary", word) > 0,
                    vocabulary=lambda letter: [
                        (text.decode("utf-8"), info.doc_frequency())
                        for text, info in reader.iter_prefix("vocabulary", letter)
                    ],
                )
            return SearchResults(total, hits, suggestions)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._ix = None
            self._generation = -1
            self._docnums = None
