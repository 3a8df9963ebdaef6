"""The cold build, streamed: a new (or rebuilt) index is written a chunk of notes at a time, so a
vault of any size is indexed in bounded memory.

Each chunk is parsed and turned into rows by the parse workers (on every core), its links are
resolved here, and it is committed, then let go. Links are
resolved as the chunk is written against every path the scan found; an alias can only be known
once its note is parsed, and aliases come last in the resolution order, so at the end the links
whose key names an alias are resolved again. Until the build's last commit, ``meta.building`` is
set: a build interrupted by a crash is started over by the next sync, never taken for complete.

A sync listener that can take a cold build a chunk at a time (``begin_build``, the search side)
gets a *sink*: each chunk goes to it right after DuckDB committed it, with what the parse workers
derived for it (``BuildSink.derive``), and the sink commits after the build (``finish``, called by
the sync once DuckDB is complete and readable). Other listeners get the notes read again from the
files if they iterate them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from ..config import Config
from ..notes.model import Note, ParseIssue, SyncReport
from .rows import RowSet, to_json
from .scan import ScanResult
from .tables import insert_all, reresolve, set_meta
from .workers import Item, Parsed, Tables, stream_notes

if TYPE_CHECKING:
    from ..notes.links import LinkResolver
    from .store import IndexStore

log = logging.getLogger("mdstore.sync")
BUILD_MEMORY_LIMIT = "128MB"  # DuckDB's buffer pool during a streamed build
_READ_CHUNK = 1000  # notes parsed at a time when a listener reads the build's notes again
BUILDING_KEY = "building"
Progress = Callable[[int, int], None]


def not_updated(name: str, exc: Exception) -> ParseIssue:
    """How a sync reports a secondary index (``name``) it could not update: a log line (the
    traceback at debug level) and the issue for ``SyncReport.errors``."""
    log.warning("the %s index was not updated by this sync: %s", name, exc)
    log.debug("the %s index failed", name, exc_info=exc)
    return ParseIssue(
        f"({name} index)",
        f"the {name} index was not updated: {type(exc).__name__}: {exc} (it catches up at the next sync)",
        "listener",
    )


class BuildSink(Protocol):
    """Where a listener takes a streamed cold build (``SyncListener.begin_build``)."""

    name: str  # what it keeps ("search"), in a report of its failure
    derive: tuple[str, ...]  # what the parse workers compute for it (workers.load_chunk)

    def add(self, notes: Sequence[Parsed], derived: Sequence[dict[str, Any] | None]) -> None: ...
    def finish(self) -> None: ...
    def abort(self) -> None: ...


@contextmanager
def _memory_capped(con: Any) -> Iterator[None]:
    """DuckDB keeps what it wrote in its buffer pool up to 80 % of RAM by default; a build caps it so
    the pool is recycled instead of growing with the vault (queries afterwards get the default)."""
    before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")


class ReadAgain(Sequence[Note]):
    """The notes of a streamed build, parsed again from their files each time they are iterated
    (held by nobody). A file that vanished or cannot be read meanwhile is left out."""

    def __init__(self, config: Config, items: list[Item]) -> None:
        self._config = config
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Note]:
        for _, results, _, _ in stream_notes(self._config, self._items, _READ_CHUNK):
            yield from (r for r in results if isinstance(r, Note))

    def __getitem__(self, index: Any) -> Any:  # pragma: no cover - listeners iterate
        return list(self)[index]


def _joined(parts: list[Tables], resolver: LinkResolver) -> RowSet:
    """The parse workers' rows of one chunk in one RowSet, with the links' ``resolved`` column
    filled in (the workers leave it empty: only this process knows every path)."""
    rows = RowSet()
    for tables in parts:
        rows.extend(tables)
    links = rows.cols["links"]
    pairs = zip(links["kind"], links["target"], links["path"], strict=True)
    links["resolved"][:] = resolver.resolve_many(pairs)
    return rows


def build_streamed(
    config: Config,
    store: IndexStore,
    found: ScanResult,
    to_read: list[Item],
    generation: int,
    progress: Progress | None,
    chunk: int,
    sinks: Sequence[BuildSink] = (),
) -> SyncReport:
    """Write every note of ``to_read`` and every attachment of ``found`` into the empty index, and
    hand each chunk to ``sinks`` once committed. A sink that fails is aborted and left out (its
    error is in the report); the ones still fed are ``extra["sinks"]``, for the caller to finish.
    If the build itself fails, every sink is aborted."""
    live = list(sinks)
    try:
        return _build(config, store, found, to_read, generation, progress, chunk, live)
    except BaseException:
        for sink in live:
            sink.abort()
        raise


def _build(
    config: Config,
    store: IndexStore,
    found: ScanResult,
    to_read: list[Item],
    generation: int,
    progress: Progress | None,
    chunk: int,
    live: list[BuildSink],
) -> SyncReport:
    from ..notes.links import LinkResolver, link_key, name_keys

    names = [(rel, ()) for rel in found.notes]
    resolver = LinkResolver(names, found.attachments)
    aliased: dict[str, list[str]] = {}  # path -> aliases, for the final resolver
    added: list[str] = []
    unparsed: list[str] = []  # read but not indexed (unreadable, vanished): links to them break
    errors: list[ParseIssue] = list(found.issues)
    total = len(to_read)
    derive = tuple(sorted({name for sink in live for name in sink.derive}))

    def feed(notes: list[Parsed], derived: list[Any]) -> None:
        for sink in list(live):
            try:
                sink.add(notes, derived)
            except Exception as exc:  # noqa: BLE001 - a secondary index never stops the build
                errors.append(not_updated(sink.name, exc))
                live.remove(sink)
                sink.abort()

    with store.write() as con, _memory_capped(con):
        set_meta(con, {BUILDING_KEY: "1"})
        attachments = RowSet()
        for rel, stat in found.attachments.items():
            attachments.add_attachment(rel, stat)
        insert_all(con, attachments)
        phases = ("waiting for the parse workers", "resolving links", "writing DuckDB", "feeding search")
        spent = dict.fromkeys(phases, 0.0)
        started = clock = time.perf_counter()

        def lap(phase: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            spent[phase] += now - clock
            clock = now

        for part, results, derived, tables in stream_notes(config, to_read, chunk, errors, derive, rows=True):
            lap("waiting for the parse workers")
            notes: list[Parsed] = []
            extras: list[Any] = []
            unreadable: list[ParseIssue] = []
            for (rel, _), result, extra in zip(part, results, derived, strict=True):
                if isinstance(result, Parsed):
                    if result.issue is not None:
                        errors.append(result.issue)
                    notes.append(result)
                    extras.append(extra)
                    if result.aliases:
                        aliased[result.path] = list(result.aliases)
                    continue
                unparsed.append(rel)
                if isinstance(result, ParseIssue):
                    errors.append(result)
                    if result.kind == "unreadable":
                        unreadable.append(result)
            batch = _joined(tables, resolver)
            for issue in unreadable:  # kept until the file can be read, as an incremental sync does
                batch.add_unreadable(issue.path, issue.message)
            lap("resolving links")
            con.execute("BEGIN TRANSACTION")
            try:
                insert_all(con, batch)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            del batch, tables
            lap("writing DuckDB")
            added += [n.path for n in notes]
            feed(notes, extras)
            lap("feeding search")
            if progress:
                progress(len(added), total)
        con.execute("BEGIN TRANSACTION")
        try:
            if aliased or unparsed:
                # What the chunks could not know: aliases (parsed later) and notes that turned out
                # unreadable. Only links under those keys can resolve differently now.
                done = set(added)
                final = LinkResolver(
                    ((rel, aliased.get(rel, ())) for rel in found.notes if rel in done), found.attachments
                )
                keys: set[str] = set()
                for rel, aliases in aliased.items():
                    keys |= name_keys(rel, aliases)
                for rel in unparsed:
                    keys |= name_keys(rel)
                reresolve(con, final, keys, set(), link_key)
            issues = to_json([{"path": i.path, "kind": i.kind, "message": i.message} for i in found.issues])
            set_meta(
                con,
                {"generation": str(generation), "synced_at": str(time.time()), "scan_issues": issues},
            )
            con.execute("DELETE FROM meta WHERE key = ?", [BUILDING_KEY])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        lap("writing DuckDB")
    log.info(
        "cold build of %d notes: %.1f s (%s)",
        len(added),
        time.perf_counter() - started,
        ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in spent.items()),
    )
    done = set(added)
    return SyncReport(
        added=tuple(sorted(added)),
        errors=tuple(errors),
        scanned=len(found.notes) + len(found.attachments),
        extra={
            "upserted": sorted(added),
            "removed": [],
            "upsert_notes": ReadAgain(config, [item for item in to_read if item[0] in done]),
            "wrote": True,
            "sinks": list(live),
        },
    )
