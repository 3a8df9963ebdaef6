"""Vault methods for full-text search and related notes (mixed into ``Vault``): ``search``,
``related``, ``similar``, ``reindex_search``, ``search_status``, and the sync listener that keeps
the engine and the TF-IDF model current (``search/indexer.py``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdstore.errors import IndexBusy, MdstoreError
from mdstore.result import Result

if TYPE_CHECKING:
    from mdstore.config import Config
    from mdstore.core import Core
    from mdstore.index.expr import Filter
    from mdstore.index.query import Query
    from mdstore.notes.model import Note, SyncReport
    from mdstore.search.indexer import SearchIndex
    from mdstore.search.protocol import SearchResults


class SearchMethods:
    # Provided by Vault (see its docstring).
    config: Config
    root: Path
    _core: Core
    _search_keeper: SearchIndex | None

    if TYPE_CHECKING:

        def _query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Result: ...
        def _note_path(self, ref: str) -> str: ...
        def _client(self) -> Any | None: ...
        def _build_query(
            self,
            filters: Sequence[str | Filter],
            where: Mapping[str, Any] | None,
            tag: str | Sequence[str] | None,
            sort: str | Sequence[str] | None,
            limit: int | None,
            offset: int,
            **extra: Any,
        ) -> Query: ...
        def _with_page_tags(self, page: Result) -> Result: ...
        def sync(self, paths: Sequence[str] | None = None, *, rebuild: bool = False) -> SyncReport: ...

    # -- searching ------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *filters: str | Filter,
        where: Mapping[str, Any] | None = None,
        tag: str | Sequence[str] | None = None,
        folder: str | None = None,
        links_to: str | None = None,
        linked_from: str | None = None,
        modified_after: Any = None,
        modified_before: Any = None,
        created_after: Any = None,
        created_before: Any = None,
        has_open_tasks: bool | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = 10,
        offset: int = 0,
        snippets: bool = True,
        **more_filters: Any,
    ) -> SearchResults:
        """Notes matching the search query ``text`` (docs/search.md) and every filter, best first.

        Filters are those of ``find()``, with the same names (``more_filters`` takes any that
        ``find()`` gained since). ``sort`` is relevance by default, or ``find()`` sort keys
        (``"-modified"``, ``["priority", "-due"]``). Returns ``SearchResults``: ``total``, this
        page of ``hits`` (path, title, score, snippets with their heading), ``suggestions``.
        ``find(text=...)`` answers the same question as rows."""
        from mdstore.search import hybrid

        q = self._text_query(
            filters,
            where,
            tag,
            sort,
            limit,
            offset,
            folder=folder,
            links_to=links_to,
            linked_from=linked_from,
            modified_after=modified_after,
            modified_before=modified_before,
            created_after=created_after,
            created_before=created_before,
            has_open_tasks=has_open_tasks,
            **more_filters,
        )
        engine = self._current("search")
        results = hybrid.search(engine, text, q, self._query, snippets=snippets)
        stale = self._search_index().stale.get("search")
        return dataclasses.replace(results, stale=stale) if stale else results

    def _find_text(self, text: str, q: Query) -> Result:
        """``find(text=...)``: find()'s columns for the hits, in relevance order, plus ``score``."""
        from mdstore.search import hybrid

        engine = self._current("search")
        rows, hits = hybrid.find_rows(engine, text, q, self._query)
        result = self._with_page_tags(rows)
        return Result(
            (*result.columns, "score"),
            [(*row, hit.score) for row, hit in zip(result.rows, hits, strict=True)],
        )

    def _text_query(
        self,
        filters: Sequence[str | Filter],
        where: Mapping[str, Any] | None,
        tag: str | Sequence[str] | None,
        sort: str | Sequence[str] | None,
        limit: int | None,
        offset: int,
        **extra: Any,
    ) -> Query:
        """The same ``Query`` that ``find()`` builds from the same arguments."""
        from mdstore.search.hybrid import sort_keys

        return self._build_query(filters, where, tag, sort_keys(sort), limit, offset, **extra)

    # -- related notes --------------------------------------------------------------------------

    def related(self, path: str, k: int = 10, exclude_linked: bool = False) -> Result:
        """The ``k`` notes most similar to the note at ``path`` (TF-IDF cosine): path, title, score;
        best first, ties by path. ``exclude_linked`` leaves out notes it links to or is linked from."""
        rel = self._note_path(path)
        k = _positive(k, "k")
        model = self._current("related")
        exclude: set[str] = set()
        if exclude_linked:
            exclude = set(
                self._query(
                    "SELECT resolved AS p FROM links WHERE path = ? AND resolved IS NOT NULL "
                    "UNION SELECT source AS p FROM backlinks WHERE target = ?",
                    [rel, rel],
                ).column("p")
            )
        if rel not in model:
            from mdstore.errors import NoteNotFound

            raise NoteNotFound(f"no note {rel!r} in the index of {self.root} (run `mdstore index`)")
        return self._titled(model.related(rel, k, exclude))

    def similar(self, text: str, k: int = 10) -> Result:
        """The ``k`` notes most similar to ``text`` (TF-IDF cosine): path, title, score."""
        from mdstore.errors import QueryError

        if not isinstance(text, str) or not text.strip():
            raise QueryError("similar() needs some text to compare the notes with")
        k = _positive(k, "k")
        return self._titled(self._current("related").similar(text, k))

    def _titled(self, ranked: list[tuple[str, float]]) -> Result:
        titles: dict[str, str] = {}
        if ranked:
            found = self._query(
                "SELECT path, title FROM notes WHERE list_contains(?, path)", [[p for p, _ in ranked]]
            )
            titles = {row[0]: row[1] for row in found.rows}
        return Result(
            ("path", "title", "score"), [(p, titles[p], round(s, 6)) for p, s in ranked if p in titles]
        )

    # -- keeping it current ---------------------------------------------------------------------

    def reindex_search(self) -> dict[str, Any]:
        """Rebuild only the search side (engine and TF-IDF model) from the indexed notes' files."""
        started = time.perf_counter()
        self._query("SELECT 1")  # builds the DuckDB index first if there is none
        keeper = self._search_index()
        with self._owner_lock("rebuild the search index"):
            notes = keeper.rebuild_all(keeper.generation())
        return {
            "notes": notes,
            "engine": keeper.engine_name,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def search_status(self) -> dict[str, Any]:
        """Whether search and related notes are ready: engine, notes indexed, stamp vs generation,
        a cold build in progress (``vault.status()`` merges this)."""
        from mdstore.search.indexer import folder_bytes

        client = self._client()
        if client is not None:  # the daemon's parts, after it applied what it held back
            status: dict[str, Any] = client.call("search_status", (), {})
            return status
        keeper = self._search_index()
        self._apply_held_back(keeper)
        generation = keeper.generation() if self._core.store.exists else None
        info: dict[str, Any] = {"engine": keeper.engine_name, "generation": generation}
        building = keeper.building()
        if building is not None and not self._core.lock.is_locked():
            building = None  # a marker left by a crashed build
        if keeper.engine_name != "none":
            engine = keeper.engine()
            stamp = engine.stamp()
            info["search"] = {
                "ready": stamp is not None and stamp == generation,
                "stamp": stamp,
                "notes": engine.count(),
            }
        if keeper.settings.related:
            model = keeper.model()
            stamp = model.stamp() if model.fitted else None
            info["related"] = {
                "ready": stamp is not None and stamp == generation,
                "stamp": stamp,
                "notes": len(model),
                "drift": model.drift,
                "refit_due": model.refit_due,
            }
        info["building"] = building
        if keeper.last_error:
            info["error"] = keeper.last_error
        info["bytes"] = folder_bytes(keeper.folder) if keeper.folder.exists() else 0
        return info

    # -- internals ------------------------------------------------------------------------------

    def _search_index(self) -> SearchIndex:
        keeper: SearchIndex | None = getattr(self, "_search_keeper", None)
        if keeper is None:
            from mdstore.search.indexer import SearchIndex

            keeper = SearchIndex(self.config, self._read_rows, self._core.lock)
            self._search_keeper = keeper
            self._core.add_closer(self._close_search)
        return keeper

    def _close_search(self) -> None:
        keeper: SearchIndex | None = getattr(self, "_search_keeper", None)
        self._search_keeper = None
        if keeper is not None:
            keeper.close()

    def _read_rows(self, sql: str) -> list[tuple[Any, ...]]:
        # Straight to DuckDB: inside a sync, _query() would re-enter the sync that calls us. But when
        # a daemon owns the index (another process), the file is its: ask it.
        client = self._client()
        if client is not None:
            return list(client.call("_query", (sql, None), {}).rows)
        with self._core.store.read() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def _search_sync_listener(self) -> _SearchSync:
        return _SearchSync(self)

    def _search_listeners(self) -> list[Any]:
        """Objects with ``on_synced(upserts, removed, generation, fresh)``, called after every sync."""
        keeper = self._search_index()
        if keeper.engine_name == "none" and not keeper.settings.related:
            return []
        return [keeper]

    def _current(self, label: str) -> Any:
        """The engine (``"search"``) or model (``"related"``), brought up to the DuckDB generation
        first when it is behind — unless another process holds the owner lock and the part has an
        index already (it is then being updated: serve what is there). A part that is served while
        behind has the reason in ``keeper.stale[label]`` (``SearchResults.stale``)."""
        keeper = self._search_index()
        self._apply_held_back(keeper, label)
        part = keeper.part(label)
        stamp = part.stamp()
        keeper.stale[label] = None
        # Reading the generation costs a DuckDB query; while the index files are untouched
        # since the last check (every commit changes the file or its WAL) it cannot have moved.
        signature = _files_signature(self._core.store.path)
        if stamp is not None and keeper.verified.get(label) == (signature, stamp):
            return part.engine if label == "search" else part.model  # type: ignore[attr-defined]
        row = self._query("SELECT value FROM meta WHERE key = 'generation'").first()
        generation = int(row["value"]) if row else 0
        if stamp == generation:
            keeper.verified[label] = (_files_signature(self._core.store.path), stamp)
        elif (client := self._client()) is not None:
            # The daemon owns the index and may hold its last syncs back from the part: it
            # catches the part up now, so a write made through it is found here at once.
            client.call("_catch_up_search", (label,), {})
        elif stamp is None or not self._core.lock.is_locked() or self._core.lock.held:
            try:
                with self._owner_lock(
                    "build the search index" if stamp is None else "update the search index"
                ):
                    generation = keeper.generation()
                    if part.stamp() != generation:
                        keeper.repair(part, generation)
            except (OSError, MdstoreError) as exc:
                if stamp is None or isinstance(exc, IndexBusy):
                    raise _part_error(label, exc) from exc
                keeper.stale[label] = f"it could not be updated: {exc}"
        if keeper.stale[label] is None and part.stamp() != generation:
            keeper.stale[label] = "another process is updating it"
        return part.engine if label == "search" else part.model  # type: ignore[attr-defined]

    def _apply_held_back(self, keeper: SearchIndex, label: str | None = None) -> None:
        """Apply this process's recent writes held back from one part, or from all
        (``search/backlog.py``), before reading it."""
        if keeper.pending(label):
            with self._owner_lock("update the search index"):
                keeper.flush(None if label is None else [label])

    def _catch_up_search(self, label: str) -> None:
        """Bring the engine (``"search"``) or model (``"related"``) up to the index's generation
        (served by the daemon to the processes that read its parts' files)."""
        self._current(label)

    @contextmanager
    def _owner_lock(self, doing: str) -> Iterator[None]:
        """The owner lock, or an IndexBusy that says who holds it and what they are doing."""
        try:
            self._core.lock.acquire(self.config.index.busy_timeout)
        except IndexBusy as exc:
            building = self._search_index().building()
            since = ""
            if building:
                ago = time.time() - float(building["started"])
                since = f" (a cold build of {building['notes']} notes, started {ago:.0f} s ago)"
            holder = self._core.lock.holder() or "another process"
            raise IndexBusy(
                f"cannot {doing} now: {holder} is writing the index{since}; "
                "try again when `mdstore status` shows search ready"
            ) from exc
        try:
            yield
        finally:
            self._core.lock.release()


def _files_signature(db: Path) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = []
    for path in (db, db.with_name(db.name + ".wal")):
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _part_error(label: str, exc: BaseException) -> MdstoreError:
    """A part that cannot be built or updated, as one clear error (``IndexBusy`` passes as is)."""
    if isinstance(exc, MdstoreError):
        return exc
    what = "search index" if label == "search" else "related-notes model"
    return MdstoreError(f"the {what} cannot be updated: {exc}")


def _positive(value: Any, name: str) -> int:
    from mdstore.errors import QueryError

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QueryError(f"{name} must be a positive integer, not {value!r}")
    return value


class _SearchSync:
    """The search side's sync listener (registered on the vault core): brings the engine and the
    TF-IDF model along with every sync, when either is on."""

    name = "search"

    def __init__(self, methods: SearchMethods) -> None:
        self._methods = methods

    def on_synced(
        self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        for keeper in self._methods._search_listeners():
            keeper.on_synced(upserts, removed, generation, fresh)

    def begin_build(self, generation: int, total: int) -> Any:
        """The sink of a streamed cold build (``index/coldbuild.py``), None when search is off."""
        for keeper in self._methods._search_listeners():
            return keeper.begin_build(generation, total)
        return None
