"""The optional search engine: tantivy (Rust, through tantivy-py), ``pip install 'mdstore[tantivy]'``.

It indexes the same analysed text as the Whoosh engine (``documents.py``) with tantivy's plain
whitespace tokenizer, and compiles the same query tree, so both engines return the same result sets;
tantivy builds and searches faster and uses all cores for a rebuild. The index folder belongs to
this engine: an index of another schema in it is deleted by the next write.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from mdstore.errors import BackendUnavailable, IndexBusy
from mdstore.notes.model import Note
from mdstore.search.documents import META_KEY, SCHEMA_VERSION, SearchDocument, build_document
from mdstore.search.protocol import SearchHit, SearchResults, check_search_args
from mdstore.search.query import (
    TEXT_FIELDS,
    And,
    Fuzzy,
    Keyword,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    parse_query,
)
from mdstore.search.ranking import DEFAULT_BOOSTS, Boosts
from mdstore.search.snippets import make_snippets
from mdstore.search.suggest import suggest

LOCK_TIMEOUT = 10.0
WRITER_HEAP = 64_000_000  # bytes per writer thread; tantivy flushes a segment when it fills
_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def _tantivy() -> Any:
    try:
        import tantivy
    except ImportError as exc:
        raise BackendUnavailable(
            "the tantivy search engine is not installed: pip install 'mdstore[tantivy]' "
            '(or set [search] engine = "whoosh" in mdstore.toml)'
        ) from exc
    return tantivy


def _schema() -> Any:
    builder = _tantivy().SchemaBuilder()
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    builder.add_text_field("pathhash", tokenizer_name="raw", index_option="basic")  # "path\0hash"
    builder.add_integer_field("mtime", stored=True, indexed=True, fast=True)
    for field in TEXT_FIELDS:
        builder.add_text_field(field, tokenizer_name="whitespace")  # text arrives analysed
    builder.add_text_field("tags", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("folder", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("vocabulary", tokenizer_name="whitespace", index_option="basic")
    # stored only (bytes fields can be left unindexed; text fields cannot)
    builder.add_bytes_field("stored_title", stored=True)
    builder.add_bytes_field("stored_body", stored=True)
    builder.add_text_field("meta", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("stamp", stored=True)
    builder.add_integer_field("schema_version", stored=True)
    return builder.build()


def _regex_prefix(prefix: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in prefix) + ".*"


class _Compiler:
    """The shared query tree → tantivy query objects."""

    def __init__(self, schema: Any, boosts: Boosts) -> None:
        self.t = _tantivy()
        self.schema = schema
        self.boosts = boosts

    def default(self, make: Any, extra: list[Any]) -> Any:
        Q = self.t.Query
        # a sum over fields, as in the Whoosh engine (see there why not disjunction-max)
        parts = [Q.boost_query(make(field), self.boosts.of(field)) for field in TEXT_FIELDS] + extra
        return Q.boolean_query([(self.t.Occur.Should, part) for part in parts])

    def term(self, field: str, text: str) -> Any:
        return self.t.Query.term_query(self.schema, field, text)

    def prefix(self, field: str, text: str) -> Any:
        return self.t.Query.regex_query(self.schema, field, _regex_prefix(text))

    def fuzzy(self, field: str, text: str, distance: int) -> Any:
        # transpositions cost two edits, as in Whoosh: the same notes match in both engines
        return self.t.Query.fuzzy_term_query(self.schema, field, text, distance, False, False)

    def compile(self, node: Node) -> Any:
        Q, Occur = self.t.Query, self.t.Occur
        if isinstance(node, Term):
            if node.field is None:
                tag = Q.boost_query(self.term("tags", node.word), self.boosts.tags)
                return self.default(lambda f: self.term(f, node.token), [tag])
            return self.term(node.field, node.token)
        if isinstance(node, Phrase):
            if node.field is None:
                return self.default(lambda f: Q.phrase_query(self.schema, f, list(node.tokens)), [])
            return Q.phrase_query(self.schema, node.field, list(node.tokens))
        if isinstance(node, Prefix):
            if node.field is None:
                words = Q.boost_query(self.prefix("vocabulary", node.prefix), self.boosts.vocabulary)
                return self.default(lambda f: self.prefix(f, node.prefix), [words])
            return self.prefix(node.field, node.prefix)
        if isinstance(node, Fuzzy):
            if node.field is None:
                words = Q.boost_query(
                    self.fuzzy("vocabulary", node.word, node.distance), self.boosts.vocabulary
                )
                return self.default(lambda f: self.fuzzy(f, node.token, node.distance), [words])
            return self.fuzzy(node.field, node.token, node.distance)
        if isinstance(node, Keyword):
            return self.prefix(node.field, node.value) if node.prefix else self.term(node.field, node.value)
        if isinstance(node, Not):
            return Q.boolean_query([(Occur.Must, Q.all_query()), (Occur.MustNot, self.compile(node.child))])
        if isinstance(node, And):
            clauses = [
                (Occur.MustNot, self.compile(c.child))
                if isinstance(c, Not)
                else (Occur.Must, self.compile(c))
                for c in node.children
            ]
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.append((Occur.Must, Q.all_query()))
            return Q.boolean_query(clauses)
        assert isinstance(node, Or)
        return Q.boolean_query([(Occur.Should, self.compile(c)) for c in node.children])

    def top(self, node: Node, restrict: Collection[str] | None) -> Any:
        Q, Occur = self.t.Query, self.t.Occur
        clauses = [(Occur.Must, self.compile(node)), (Occur.MustNot, self.term("meta", META_KEY))]
        if restrict is not None:
            # a constant score of 0 filters without changing the ranking
            allowed = Q.term_set_query(self.schema, "path", list(restrict))
            clauses.append((Occur.Must, Q.const_score_query(allowed, 0.0)))
        return Q.boolean_query(clauses)


class TantivyBackend:
    """A ``SearchBackend`` on a tantivy index in ``folder`` (created on the first write)."""

    name = "tantivy"

    def __init__(self, folder: Path, *, boosts: Boosts = DEFAULT_BOOSTS, threads: int = 0) -> None:
        self.t = _tantivy()  # fail at open, with the install hint, not at the first search
        self.folder = Path(folder)
        self.boosts = boosts
        self.threads = threads  # 0: tantivy picks (one per core, up to 8) for a rebuild
        self._schema = _schema()
        self._ix: Any = None
        self._lock = threading.RLock()

    def _index(self) -> Any:
        """The index if it exists with this schema, else ``None``."""
        if self._ix is None:
            if not (self.folder / "meta.json").is_file():
                return None
            try:
                self._ix = self.t.Index(self._schema, path=str(self.folder), reuse=True)
            except ValueError:  # another schema: an outdated index, rebuilt by the next write
                return None
        return self._ix

    def _searcher(self) -> Any:
        for _ in range(2):
            ix = self._index()
            if ix is None:
                return None
            try:
                ix.reload()  # see commits of other processes (and our own) at once
            except ValueError:  # its folder was deleted or replaced meanwhile: open it again
                self._ix = None
                continue
            return ix.searcher()
        return None  # unreadable: read as missing, rebuilt by the next write

    def _meta(self, searcher: Any) -> Any:
        found = searcher.search(self.t.Query.term_query(self._schema, "meta", META_KEY), 1, count=False)
        if not found.hits:
            return None
        doc = searcher.doc(found.hits[0][1])
        return doc if doc.get_first("schema_version") == SCHEMA_VERSION else None

    # -- writing ------------------------------------------------------------------------------

    def _writer(self, ix: Any, threads: int) -> Any:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                return ix.writer(WRITER_HEAP * max(threads, 1), threads)
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise IndexBusy(f"another process is writing the search index in {self.folder}") from exc
                time.sleep(0.05)

    def _fresh(self) -> Any:
        self._ix = None
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self._ix = self.t.Index(self._schema, path=str(self.folder))
        return self._ix

    def _document(self, doc: SearchDocument) -> Any:
        out = self.t.Document()
        out.add_text("path", doc.path)
        out.add_text("pathhash", f"{doc.path}\0{doc.hash}")
        out.add_integer("mtime", doc.mtime_ms)
        for field, text in (
            ("title", doc.title_terms),
            ("aliases", doc.alias_terms),
            ("headings", doc.heading_terms),
            ("body", doc.body_terms),
            ("name", doc.name_terms),
            ("vocabulary", doc.vocabulary),
        ):
            out.add_text(field, text)
        out.add_bytes("stored_title", doc.title.encode("utf-8"))
        out.add_bytes("stored_body", doc.body.encode("utf-8"))
        for tag in doc.tags:
            out.add_text("tags", tag)
        for folder in doc.folders:
            out.add_text("folder", folder)
        return out

    def _meta_document(self, stamp: int) -> Any:
        out = self.t.Document()
        out.add_text("meta", META_KEY)
        out.add_integer("stamp", stamp)
        out.add_integer("schema_version", SCHEMA_VERSION)
        return out

    def _commit(self, writer: Any) -> None:
        """Commit ``writer`` and let it go; one whose commit fails (a full disk, a folder deleted
        meanwhile) is let go too, so that the next writer is not kept waiting for its lock."""
        try:
            writer.commit()
        except BaseException:
            _let_go(writer)
            raise
        writer.wait_merging_threads()  # also releases the writer lock

    def apply(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int) -> None:
        with self._lock:
            # see WhooshBackend.apply: a missing or outdated index gets the writes but no stamp
            searcher = self._searcher()
            keep_stamp = searcher is not None and self._meta(searcher) is not None
            ix = self._ix if searcher is not None else self._fresh()
            latest = {note.path: note for note in upserts}  # the same path twice: the last one wins
            writer = self._writer(ix, 1)
            try:
                for path in [*deletes, *latest]:
                    writer.delete_documents_by_term("path", path)
                for note in latest.values():
                    writer.add_document(self._document(build_document(note)))
                if keep_stamp:
                    writer.delete_documents_by_term("meta", META_KEY)
                    writer.add_document(self._meta_document(stamp))
            except BaseException:
                _let_go(writer)
                raise
            self._commit(writer)

    def rebuild(self, notes: Iterable[Note], stamp: int) -> None:
        build = self.builder(stamp, 0)
        try:
            for note in notes:
                build.add([build_document(note)])
        except BaseException:
            build.cancel()
            raise
        build.commit()

    def builder(self, stamp: int, total: int, hold: bool = False) -> TantivyBuild:
        """A rebuild fed a chunk of documents at a time; tantivy indexes on its own threads, as
        they come (``hold`` changes nothing: one thread keeps up and holding would cost memory)."""
        with self._lock:
            ix = self._index() or self._fresh()
            # fed while the vault is parsed on every core: one indexing thread keeps up without
            # taking the CPU from the parse workers and DuckDB
            writer = self._writer(ix, self.threads or 1)
            try:
                writer.delete_all_documents()  # takes effect with the commit: readers keep the old notes
            except BaseException:
                _let_go(writer)
                raise
            return TantivyBuild(self, writer, stamp)

    # -- reading ------------------------------------------------------------------------------

    def stamp(self) -> int | None:
        with self._lock:
            searcher = self._searcher()
            meta = None if searcher is None else self._meta(searcher)
            return None if meta is None else int(meta.get_first("stamp"))

    def hashes(self) -> dict[str, str]:
        with self._lock:
            searcher = self._searcher()
            if searcher is None or self._meta(searcher) is None:
                return {}
            # the term dictionary lists deleted documents too; the filter keeps live ones only
            pairs = searcher.terms_with_prefix("pathhash", "", filter_query=self.t.Query.all_query())
            return dict(term.split("\0", 1) for term, _ in pairs)

    def count(self) -> int:
        with self._lock:
            searcher = self._searcher()
            if searcher is None:
                return 0
            return int(searcher.num_docs) - (1 if self._meta(searcher) is not None else 0)

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
            searcher = self._searcher()
            if searcher is None or tree is None or (restrict is not None and not restrict):
                return SearchResults(0, ())
            compiled = _Compiler(self._schema, self.boosts).top(tree, restrict)
            options: dict[str, Any] = {}
            if sort != "score":
                options = {
                    "order_by_field": "mtime",
                    "order": self.t.Order.Desc if sort == "-mtime" else self.t.Order.Asc,
                }
            found = searcher.search(compiled, max(limit, 1), count=True, offset=offset, **options)
            hits = []
            for score, address in found.hits[:limit]:
                doc = searcher.doc(address)
                body = bytes(doc.get_first("stored_body") or b"").decode("utf-8")
                hits.append(
                    SearchHit(
                        path=doc.get_first("path"),
                        title=bytes(doc.get_first("stored_title") or b"").decode("utf-8"),
                        score=float(score) if sort == "score" else 0.0,
                        snippets=make_snippets(body, tree) if snippets else (),
                    )
                )
            suggestions: tuple[str, ...] = ()
            if found.count == 0:
                suggestions = suggest(
                    query,
                    tree,
                    known=lambda word: searcher.doc_freq("vocabulary", word) > 0,
                    vocabulary=lambda letter: searcher.terms_with_prefix("vocabulary", letter),
                )
            return SearchResults(int(found.count), tuple(hits), suggestions)

    def close(self) -> None:
        with self._lock:
            self._ix = None


class TantivyBuild:
    """One rebuild of a tantivy index: documents in, one commit (``commit``) or none (``cancel``)."""

    def __init__(self, backend: TantivyBackend, writer: Any, stamp: int) -> None:
        self._backend = backend
        self._writer = writer
        self._stamp = stamp
        self.added = 0

    def add(self, docs: Sequence[SearchDocument]) -> None:
        try:
            for doc in docs:
                self._writer.add_document(self._backend._document(doc))
        except BaseException:
            self.cancel()
            raise
        self.added += len(docs)

    def commit(self) -> None:
        with self._backend._lock:
            try:
                self._writer.add_document(self._backend._meta_document(self._stamp))
            except BaseException:
                self.cancel()
                raise
            self._backend._commit(self._writer)

    def cancel(self) -> None:
        _let_go(self._writer)


def _let_go(writer: Any) -> None:
    """Drop what ``writer`` holds and release its lock (``wait_merging_threads`` releases it)."""
    for step in (writer.rollback, writer.wait_merging_threads):
        try:
            step()
        except Exception:  # noqa: BLE001, PERF203 - a writer that already failed has less to let go
            pass
