"""``Vault``: the facade users hold. Every public method here is also a CLI command of the same
name. Reads go through one choke point (``_query``) so the watcher daemon can serve them instead."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import CONFIG_FILE, STATE_DIR, Config, ensure_state_dir, find_vault_root, load_config
from .core import VaultCore
from .errors import NoteNotFound, NoteParseError, QueryError, VaultNotFound
from .history.methods import HistoryMethods
from .index.expr import Filter
from .notes.model import Link, Note, SyncReport
from .result import Result

if TYPE_CHECKING:
    from .health import HealthReport
    from .index.query import Query
    from .index.store import IndexStore
    from .memory import Memory
    from .team.client import Team
from .search.methods import SearchMethods
from .watch.methods import WatchMethods
from .writes.methods import WriteMethods


def open_vault(path: str | os.PathLike[str] | None = None, **settings: Mapping[str, Any]) -> Vault:
    """Open the vault at ``path``; without one, the nearest parent of the working folder holding
    ``mdstore.toml`` or ``.mdstore/``. ``settings`` override config sections, e.g.
    ``open_vault(p, index={"busy_timeout": 30})``."""
    if path is None:
        root = find_vault_root(Path.cwd())
        if root is None:
            raise VaultNotFound(
                f"no vault here: {Path.cwd()} and its parents hold no {CONFIG_FILE}, {STATE_DIR}/ "
                "or .obsidian/ (pass --vault PATH or set MDSTORE_VAULT; to index the notes of this folder "
                "where they are, run `mdstore init` here: it adds only mdstore.toml and .mdstoreignore "
                "to a folder with notes)"
            )
    else:
        root = Path(path).expanduser()
        if not root.exists():
            raise VaultNotFound(f"vault folder {root} does not exist")
        if not root.is_dir():
            raise VaultNotFound(f"vault path {root} is not a folder")
        root = root.resolve()
    vault = Vault(load_config(root, overrides=settings))
    if vault.config.state_dir.is_dir():  # a state folder made by an earlier version gains its .gitignore
        ensure_state_dir(vault.config.state_dir)
    # A write batch that a crash interrupted is finished or undone before anything else reads.
    vault._recover_journal()
    return vault


class Vault(SearchMethods, WriteMethods, HistoryMethods, WatchMethods):
    """A folder of Markdown notes and its indexes. Use ``mdstore.open(path)``.

    A facade over the vault core (``core.py``: config, index store, owner lock, ``query``, ``sync``,
    the sync listener registry, closers) and the capabilities built on it (search, writes,
    history, watch). The capabilities register their sync listeners and closers on the core.
    """

    _core: VaultCore

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root: Path = config.root
        self._core = VaultCore(config, type(self))
        self._core.add_sync_listener(self._search_sync_listener())
        self._core.add_sync_listener(self._history_sync_listener())

    def __repr__(self) -> str:
        return f"<Vault {self.root}>"

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def memory(self) -> Memory:
        """Agent memory kept as notes: preferences, insights, session logs, Dream (docs/memory.md)."""
        from .memory import Memory

        memory = Memory(self)
        self._core.add_closer(memory.close)  # waiting session entries reach their notes at close
        return memory

    def close(self) -> None:
        self._core.close()

    @cached_property
    def team(self) -> Team:
        """The team tier: ``vault.team.sync()``, ``.status()``, ``.conflicts()``, ``.log()``
        (docs/team.md)."""
        from .team.client import Team

        team = Team(self)
        self._core.add_closer(team.close)  # its database connection
        return team

    # -- indexing ------------------------------------------------------------------------------

    def sync(
        self,
        paths: Sequence[str] | None = None,
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_phase: Callable[[str, int, int], None] | None = None,
    ) -> SyncReport:
        """Bring the index up to date with the files (only what changed; ``rebuild`` re-reads all).
        ``paths`` limits the check to those vault-relative paths. ``progress(done, total)`` follows
        the files read; ``on_phase(phase, done, total)`` follows every phase of the work: ``"parse"``
        (files read, parsed and written to the index), then, when they are rebuilt, ``"search"``
        (the full-text engine) and ``"related"`` (the related-notes model); ``done == total`` ends
        a phase. Both are called in this process only (not through a running watcher)."""
        if on_phase is None:
            return self._core.sync(paths, rebuild=rebuild, progress=progress)
        reading = progress

        def phased(done: int, total: int) -> None:
            if reading is not None:
                reading(done, total)
            on_phase("parse", done, total)

        keeper = self._search_index()  # it reports its rebuild phases for the length of this sync
        keeper.on_phase = on_phase
        try:
            return self._core.sync(paths, rebuild=rebuild, progress=phased)
        finally:
            keeper.on_phase = None

    # -- reading -------------------------------------------------------------------------------

    def resolve(self, ref: str, *, unique: bool = False) -> str:
        """The vault path of the note ``ref`` names (a path, or a name or alias like a wikilink):
        what every method that takes a note reads. ``unique``: a name several notes share is a
        ``QueryError`` listing them instead of the one with the fewest folders."""
        return self._core.note_path(ref, unique=unique)

    def get(self, path: str) -> Note:
        """The note at ``path`` (or a note name, resolved like a wikilink), read from its file."""
        from .notes.parse import parse_note

        rel = self._note_path(path)
        full = self.root / rel
        try:
            data = full.read_bytes()
            mtime = full.stat().st_mtime
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NoteNotFound(f"no note {rel!r} in {self.root}") from None
        except OSError as exc:
            raise NoteParseError(f"cannot read {rel}: {exc.strerror or exc}") from exc
        note = parse_note(
            rel,
            data,
            mtime=mtime,
            max_bytes=self.config.vault.max_note_bytes,
            link_style=self.config.vault.link_style,
        )
        resolved = {
            (r["ord"]): r["resolved"]
            for r in self._query("SELECT ord, resolved FROM links WHERE path = ?", [rel])
        }
        links = tuple(
            Link(k.target, k.kind, k.anchor, k.alias, k.line, resolved.get(i))
            for i, k in enumerate(note.links)
        )
        from dataclasses import replace

        return replace(note, links=links)

    def find(
        self,
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
        modified_by: str | None = None,
        committed_after: Any = None,
        committed_before: Any = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        text: str | None = None,
    ) -> Result:
        """Notes matching every filter. Filters are strings of the find language
        (``"status = active"``, ``"priority >= 2"``, ``"#project"``) or ``where={"key": value}`` /
        ``where={"key": (">=", 2)}``. Sort keys: ``"-modified"``, ``["priority", "-due"]``.
        ``modified_by`` / ``committed_after`` / ``committed_before`` use each note's last git commit."""
        from .index.query import to_sql

        q = self._build_query(
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
            modified_by=modified_by,
            committed_after=committed_after,
            committed_before=committed_before,
        )
        if text is not None:  # ranked by relevance to a search query: see search/methods.py
            return self._find_text(text, q)
        sql, params = to_sql(q)
        return self._with_page_tags(self._query(sql, params))

    def _build_query(
        self,
        filters: Sequence[str | Filter],
        where: Mapping[str, Any] | None,
        tag: str | Sequence[str] | None,
        sort: str | Sequence[str] | None,
        limit: int | None,
        offset: int,
        **extra: Any,
    ) -> Query:
        """find()'s arguments as a Query (search() builds the same one); note references in
        ``links_to`` / ``linked_from`` are resolved like wikilinks."""
        from .index.query import build_query

        for name in ("links_to", "linked_from"):
            if extra.get(name):
                extra[name] = self._note_path(extra[name])
        q = build_query(filters, where, tag, sort, limit, offset, **extra)
        self._check_sort_keys(q)
        return q

    def _check_sort_keys(self, q: Query) -> None:
        """A sort key must be a file field or a property that some note has: a misspelt key
        would otherwise sort nothing, silently."""
        from .index.query import BUILTINS, builtin_of, prop_key

        for key, _ in q.sort:
            if builtin_of(key) is not None:
                continue
            prop = prop_key(key)
            found = self._query(
                "SELECT EXISTS (SELECT 1 FROM properties WHERE lower(key) = ?), EXISTS (SELECT 1 FROM notes)",
                [prop],
            ).rows[0]
            if found[1] and not found[0]:
                raise QueryError(
                    f"sort key {key!r}: no note has this property and it is not a file field "
                    f"({', '.join(BUILTINS)})"
                )

    def _with_page_tags(self, page: Result) -> Result:
        """A page of find() rows with decoded frontmatter and each note's tags, fetched for the
        page only (a per-row subquery over every match cost more than the query itself)."""
        from .index.query import TAGS_SQL

        paths = page.column("path")
        tags = {r[0]: r[1] for r in self._query(TAGS_SQL, [paths]).rows} if paths else {}
        return _with_tags(_decode_frontmatter(page), tags)

    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Result:
        """One read-only SQL query over the index tables and views; it cannot write, change
        settings or read files (docs/index-schema.md)."""
        from .index import usersql

        statement = usersql.checked_statement(query)
        client = self._client()
        if client is not None:
            result: Result = client.call("sql", (query, params), {})
            return result
        self._core.ensure_index()
        return Result(*usersql.run(self._store, statement, params))

    def backlinks(self, path: str) -> Result:
        """Notes linking to ``path``: source, line, kind, anchor, alias."""
        rel = self._note_path(path)
        return self._query(
            "SELECT source, line, kind, anchor, alias FROM backlinks WHERE target = ? AND source <> target "
            "ORDER BY source, line",
            [rel],
        )

    def outlinks(self, path: str) -> Result:
        """Links written in ``path``: target as written, resolved path (None if broken or a URL)."""
        rel = self._note_path(path)
        return self._query(
            "SELECT target, resolved, kind, line, anchor, alias FROM links WHERE path = ? ORDER BY ord", [rel]
        )

    def broken_links(self) -> Result:
        return self._query(
            "SELECT source, line, kind, target, anchor, alias FROM broken_links ORDER BY source, line"
        )

    def orphans(self) -> Result:
        """Notes no other note links to."""
        return self._query("SELECT path, title FROM orphans ORDER BY path")

    def neighbors(self, path: str, depth: int = 1) -> Result:
        """Notes within ``depth`` link hops of ``path``, either direction: path, distance.
        Attachments are not notes and are left out."""
        if not isinstance(depth, int) or depth < 1:
            raise QueryError(f"depth must be a positive integer, not {depth!r}")
        start = self._note_path(path)
        seen = {start: 0}
        frontier = [start]
        for distance in range(1, depth + 1):
            if not frontier:
                break
            rows = self._query(
                "SELECT p FROM (SELECT resolved AS p FROM links WHERE list_contains(?, path) "
                "UNION SELECT path AS p FROM links WHERE list_contains(?, resolved)) "
                "WHERE p IN (SELECT path FROM notes)",
                [frontier, frontier],
            )
            frontier = [p for p in rows.column("p") if p not in seen]
            for p in frontier:
                seen[p] = distance
        ordered = sorted(((d, p) for p, d in seen.items() if p != start))
        return Result(("path", "distance"), [(p, d) for d, p in ordered])

    def tags(self) -> Result:
        """Every tag with the number of notes carrying it."""
        return self._query(
            "SELECT tag, count(DISTINCT path) AS count FROM tags GROUP BY tag ORDER BY count DESC, tag"
        )

    def tasks(
        self,
        *,
        done: bool | None = None,
        status: str | None = None,
        path: str | None = None,
        folder: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> Result:
        """Tasks across the vault: path, line, status, done, text, section, fields (a dict).
        ``done=True``: checked (``x``); ``done=False``: still open — neither checked nor cancelled
        (``-``), the same rule as ``find(has_open_tasks=True)``."""
        where: list[str] = []
        params: list[Any] = []
        if done is True:
            where.append("k.done")
        elif done is False:
            where.append(f"NOT ({_CLOSED_TASK})")
        if status is not None:
            if not isinstance(status, str) or len(status) != 1:
                raise QueryError(
                    f"status must be one character, as written between the brackets "
                    f"(' ', 'x', '-', '/'), not {status!r}"
                )
            where.append("k.status = ?")
            params.append(status)
        if path is not None:
            where.append("k.path = ?")
            params.append(self._note_path(path))
        if folder is not None:
            f = folder.strip("/")
            where.append("(k.path LIKE ? ESCAPE '\\')")
            params.append(_like_prefix(f + "/"))
        if tag is not None:
            t = tag.lstrip("#").lower()
            where.append(
                "EXISTS (SELECT 1 FROM tags g WHERE g.path = k.path AND (g.tag = ? OR starts_with(g.tag, ?)))"
            )
            params += [t, t + "/"]
        sql = "SELECT path, line, status, done, text, section, fields FROM tasks k"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY path, line"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return _decode_json(self._query(sql, params), "fields")

    def check(self) -> Result:
        """Problems to look at: parse errors, unreadable files, broken links, duplicate ids, notes
        that break their collection's schema: path, kind, message, line."""
        import json

        rows: list[tuple[Any, ...]] = []
        for r in self._query("SELECT path, kind, message FROM parse_errors ORDER BY path"):
            rows.append((r["path"], r["kind"], r["message"], None))
        stored = self._query("SELECT value FROM meta WHERE key = 'scan_issues'").first()
        for issue in json.loads(stored["value"]) if stored else []:
            rows.append((issue["path"], issue["kind"], issue["message"], None))
        for r in self.broken_links():
            anchor = f"#{r['anchor']}" if r["anchor"] else ""
            rows.append(
                (r["source"], "broken-link", f"link to {r['target']}{anchor} does not resolve", r["line"])
            )
        for r in self._query(
            "SELECT v_text AS id, list(path ORDER BY path) AS paths FROM properties "
            "WHERE source = 'frontmatter' AND lower(key) = 'id' AND idx IS NULL AND v_text IS NOT NULL "
            "GROUP BY v_text HAVING count(*) > 1 ORDER BY v_text"
        ):
            for p in r["paths"]:
                others = ", ".join(x for x in r["paths"] if x != p)
                rows.append((p, "duplicate-id", f"id {r['id']!r} is also used by {others}", None))
        if self.config.collections:
            from .collection import collection_problems

            rows += [(path, "schema", message, None) for path, message in collection_problems(self)]
        return Result(("path", "kind", "message", "line"), rows)

    def status(self) -> dict[str, Any]:
        """What the index holds and who owns it."""
        from .watch.status import daemon_status

        info: dict[str, Any] = {"vault": str(self.root), "index": str(self._core.store.path)}
        if not self._core.store.exists:
            info["indexed"] = False
            info["daemon"] = daemon_status(self.config)
            return info
        row = (
            self._query(
                "SELECT (SELECT count(*) FROM notes) AS notes, "
                "(SELECT count(*) FROM attachments) AS attachments, "
                "(SELECT count(*) FROM links) AS links, (SELECT count(*) FROM broken_links) AS broken_links, "
                "(SELECT count(*) FROM parse_errors) AS errors, "
                "(SELECT value FROM meta WHERE key = 'generation') AS generation, "
                "(SELECT value FROM meta WHERE key = 'synced_at') AS synced_at, "
                "(SELECT value FROM meta WHERE key = 'scan_issues') AS scan_issues"
            ).first()
            or {}
        )
        import datetime as dt
        import json

        info["indexed"] = True
        info.update(row)
        # what check lists: the notes' problems and the last full scan's (an unreadable folder...)
        info["errors"] = int(info.get("errors") or 0) + len(json.loads(info.pop("scan_issues", None) or "[]"))
        info["generation"] = int(row.get("generation") or 0)
        if row.get("synced_at"):
            info["synced_at"] = dt.datetime.fromtimestamp(float(row["synced_at"])).isoformat(
                timespec="seconds"
            )
        info["index_bytes"] = self._core.store.path.stat().st_size
        info["owner"] = self._core.lock.holder() if self._core.lock.is_locked() else None
        info["search"] = self.search_status()
        info["daemon"] = daemon_status(self.config)
        return info

    def schema(self) -> Result:
        """The tables and views ``sql`` can query, column by column: name, kind ("table" or
        "view"), column, type (docs/index-schema.md explains each)."""
        from .index.schema import TABLES, VIEWS

        return self._query(
            "SELECT c.table_name AS name, "
            "CASE WHEN t.table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind, "
            "c.column_name AS column, c.data_type AS type FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = 'main' AND list_contains(?, c.table_name) "
            "ORDER BY kind, name, c.ordinal_position",
            [[*TABLES, *VIEWS]],
        )

    def health(self) -> HealthReport:
        """Check the tier's backends, the outbox and the watcher (what ``mdstore doctor`` prints)."""
        from .health import health

        return health(self.config)

    # -- the core, for the capabilities -------------------------------------------------------

    @property
    def _store(self) -> IndexStore:
        return self._core.store

    def _query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Result:
        return self._core.query(sql, params)

    def _client(self) -> Any | None:
        return self._core.client()

    def _rel(self, path: str | os.PathLike[str]) -> str:
        return self._core.rel(path)

    def _note_path(self, ref: str) -> str:
        return self._core.note_path(ref)


_CLOSED_TASK = "k.status IN ('x', 'X', '-')"


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _with_tags(result: Result, tags: Mapping[str, list[str]]) -> Result:
    """The find() columns, with each note's sorted tag list after ``words``."""
    at = result.columns.index("words") + 1
    columns = result.columns[:at] + ("tags",) + result.columns[at:]
    rows = [r[:at] + (tags.get(r[0], []),) + r[at:] for r in result.rows]
    return Result(columns, rows)


def _decode_frontmatter(result: Result) -> Result:
    return _decode_json(result, "frontmatter")


def _decode_json(result: Result, column: str) -> Result:
    """JSON text columns (frontmatter, task fields) as Python values."""
    import json

    if column not in result.columns:
        return result
    i = result.columns.index(column)
    rows = [r[:i] + (json.loads(r[i]) if isinstance(r[i], str) else r[i],) + r[i + 1 :] for r in result.rows]
    return Result(result.columns, rows)
