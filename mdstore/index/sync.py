"""The one pipeline that brings the index up to date with the files, whoever triggers it (CLI
``index``, the watcher, an API write, a queue job): scan → read and parse what changed → write every
table in one transaction. Incremental and full rebuild give the same index.

Never writes a note. A note leaves the index only when the file system says it is gone; a file that
cannot be read keeps its rows and is reported.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

from ..config import Config
from ..notes.fileio import RACY_SECONDS
from ..notes.model import Note, ParseIssue, SyncReport
from . import schema
from .coldbuild import BUILDING_KEY, build_streamed, not_updated
from .lock import OwnerLock
from .rows import RowSet, rows_for, to_json
from .scan import FileStat, IgnoreRules, ScanResult, confirm_gone, scan
from .stats import Stamp, StatSnapshot
from .store import IndexStore
from .tables import aliases_of, insert_all, one_of, reresolve, set_meta, touch, unchanged_tables
from .workers import Unparsed, load_notes

log = logging.getLogger("mdstore.sync")
Progress = Callable[[int, int], None]
_ROWS_PER_INSERT = 1000


@dataclass
class _State:
    """What the index holds before this sync."""

    notes: dict[str, FileStat] = field(default_factory=dict)  # path -> (mtime, size)
    # Content hashes, loaded only for the notes this sync reads or misses (fetching them for a
    # whole big vault was a third of a no-op sync's index work).
    hashes: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, FileStat] = field(default_factory=dict)
    scan_issues: str | None = None  # JSON of the last full scan's issues
    generation: int = 0
    synced_at: float = 0.0  # when the last sync that wrote committed (time.time())
    fresh: bool = False  # the database was just created (or rebuilt): every link resolves anew
    # Every file's stat in the index, to bring up to date after a write (None: not known here).
    stats: StatSnapshot | None = None
    # The files of this sync's scope that the last sync could not read: path -> message. They are
    # read again until they can be (a chmod leaves the stat as it was).
    unreadable: dict[str, str] = field(default_factory=dict)


class SyncListener(Protocol):
    """Told about every sync, after the DuckDB commit and while the owner lock is still held
    (the search index and the related-notes model keep themselves current this way). ``name`` says
    what it keeps ("search", "history") in a report of its failure."""

    name: str

    def on_synced(
        self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None: ...

    # Optional: ``begin_build(generation, total) -> BuildSink | None`` takes a streamed cold build
    # a chunk at a time (coldbuild.py); a listener given a sink gets no ``on_synced`` for that sync.


class Syncer:
    def __init__(
        self, config: Config, store: IndexStore, lock: OwnerLock, listeners: Sequence[SyncListener] = ()
    ) -> None:
        self.config = config
        self.root = config.root
        self.store = store
        self.lock = lock
        self.listeners = list(listeners)

    def sync(
        self,
        paths: Sequence[str] | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        started = time.perf_counter()
        short = paths is not None and len(paths) < self.config.index.parallel_threshold
        with self.lock.hold(self.config.index.busy_timeout), self.store.holding() if short else nullcontext():
            state = self._prepare(rebuild, paths)
            if state.fresh:
                paths = None  # a new or rebuilt index needs every file, whatever was asked
            found = self._scan(paths)
            self._sweep_temps(found)
            report = self._apply(state, found, paths, rebuild or state.fresh, progress)
            upserts = report.extra.pop("upsert_notes")
            generation = state.generation + (1 if report.extra.pop("wrote") else 0)
            fed = report.extra.pop("fed", set())
            problems = []
            for listener in self.listeners:
                if id(listener) in fed:
                    continue
                # The structured index is committed: a failing secondary index is reported (and
                # repaired by its generation stamp next time), it does not undo or stop the sync.
                try:
                    listener.on_synced(upserts, report.extra["removed"], generation, rebuild or state.fresh)
                except Exception as exc:  # noqa: BLE001
                    problems.append(not_updated(listener.name, exc))
            for sink in report.extra.pop("sinks", []):
                # DuckDB is complete (and readable by other processes): the search side commits.
                try:
                    sink.finish()
                except Exception as exc:  # noqa: BLE001
                    problems.append(not_updated(sink.name, exc))
            report = replace(report, errors=report.errors + tuple(problems))
        report.extra["generation"] = generation
        return SyncReport(
            added=report.added,
            changed=report.changed,
            moved=report.moved,
            deleted=report.deleted,
            errors=report.errors,
            seconds=time.perf_counter() - started,
            scanned=report.scanned,
            extra=report.extra,
        )

    # -- phases ------------------------------------------------------------------------------------

    def _prepare(self, rebuild: bool, paths: Sequence[str] | None) -> _State:
        """Load what the index holds: for every file on a full scan, for the named paths otherwise."""
        state = _State()
        with self.store.write() as con:
            meta = schema.stored_meta(
                con, (*schema.RULES_KEYS, "generation", "scan_issues", "synced_at", BUILDING_KEY)
            )
            # A streamed cold build that never finished (a crash) is started over.
            if meta is None or rebuild or not schema.is_current(meta, self.config) or BUILDING_KEY in meta:
                schema.drop_all(con)
                schema.create_all(con, self.config)
                state.fresh = True
                return state
            with one_of(con, "path", None if paths is None else list(paths)) as (where, params):
                state.unreadable = dict(
                    con.execute(
                        f"SELECT path, message FROM parse_errors WHERE kind = 'unreadable' AND {where}",
                        params,
                    ).fetchall()
                )
            state.generation = int(meta.get("generation", 0))
            state.scan_issues = meta.get("scan_issues")
            state.synced_at = float(meta.get("synced_at") or 0.0)
            stamp = (meta.get("generation"), meta.get("synced_at"))
            known = self.store.stats
            if known is not None and known.stamp == stamp:
                # This process's last sync left what the index holds: only the stamp (and the
                # unreadable files) were read.
                state.stats = known
                if paths is None:
                    state.notes, state.attachments = known.notes, known.attachments
                else:
                    state.notes = {p: known.notes[p] for p in paths if p in known.notes}
                    state.attachments = {p: known.attachments[p] for p in paths if p in known.attachments}
                return state
            with one_of(con, "path", None if paths is None else list(paths)) as (where, params):
                for path, mtime, size in con.execute(
                    f"SELECT path, mtime, size FROM notes WHERE {where}", params
                ).fetchall():
                    state.notes[path] = (mtime, size)
                for path, mtime, size in con.execute(
                    f"SELECT path, mtime, size FROM attachments WHERE {where}", params
                ).fetchall():
                    state.attachments[path] = (mtime, size)
            if paths is None:
                state.stats = StatSnapshot(stamp, state.notes, state.attachments)
        return state

    def _sweep_temps(self, found: ScanResult) -> None:
        """Remove the temp files of writers that were killed (a live writer's are left alone)."""
        if not found.temps:
            return
        from ..notes.fileio import sweep_stale_temps
        from ..notes.journal import has_pending

        if has_pending(self.root):
            return  # an interrupted batch still needs its staged temps: after its recovery, then
        for rel in sweep_stale_temps(self.root, found.temps):
            log.info("removed %s, the temp file of a writer that was killed", rel)

    @cached_property
    def _rules(self) -> IgnoreRules:
        """The ignore rules, read once per sync (a Syncer serves one sync)."""
        return IgnoreRules(self.root, self.config.vault.ignore)

    def _scan(self, paths: Sequence[str] | None) -> ScanResult:
        rules = self._rules
        if paths is None:
            return scan(self.root, rules, self.config.vault.extensions)
        # A targeted sync (watcher, API write): stat only the named paths.
        result = ScanResult()
        exts = tuple(e.lower() for e in self.config.vault.extensions)
        for rel in paths:
            if rules.ignored(rel, is_dir=False):
                continue
            try:
                st = os.stat(self.root / rel)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                result.issues.append(ParseIssue(rel, f"cannot read: {exc.strerror or exc}", "unreadable"))
                continue
            if not os.path.isfile(self.root / rel):
                continue
            stat = (st.st_mtime, st.st_size)
            if rel.lower().endswith(exts):
                result.notes[rel] = stat
            else:
                result.attachments[rel] = stat
        return result

    def _apply(
        self,
        state: _State,
        found: ScanResult,
        paths: Sequence[str] | None,
        fresh: bool,
        progress: Progress | None,
    ) -> SyncReport:
        issue_paths = {i.path for i in found.issues}

        # A file changed twice within one tick of the file system's clock, with the same size,
        # keeps its stat; if the index read it between the two writes, the stat lies. So a note
        # whose mtime is that close to the last writing sync is read again ("racy git").
        racy_from = state.synced_at - RACY_SECONDS
        to_read: list[tuple[str, float]]
        same = found.notes == state.notes
        if fresh:
            to_read = [(rel, stat[0]) for rel, stat in found.notes.items()]
        elif same:
            # Nothing changed by its stat (the common case, compared in one step): only the racy.
            if state.stats is not None and paths is None:
                to_read = [(rel, state.notes[rel][0]) for rel in state.stats.recent(racy_from)]
            else:
                to_read = [(rel, stat[0]) for rel, stat in state.notes.items() if stat[0] >= racy_from]
        else:
            to_read = []
            for rel, stat in found.notes.items():
                old = state.notes.get(rel)
                if old is None or old != stat or old[0] >= racy_from:
                    to_read.append((rel, stat[0]))
        if state.unreadable and not fresh:
            reading = {rel for rel, _ in to_read}
            to_read += [
                (rel, found.notes[rel][0])
                for rel in state.unreadable
                if rel in found.notes and rel not in reading
            ]
        missing = []
        if not same:
            missing = [
                rel
                for rel in state.notes.keys() - found.notes.keys()
                if not found.protects(rel) and rel not in issue_paths and self._gone(rel)
            ]

        self._load_hashes(state, [rel for rel, _ in to_read if rel in state.notes] + missing, fresh)
        chunk = self.config.index.build_chunk
        if fresh and len(to_read) > chunk:
            generation = state.generation + 1
            sinks, fed = self._begin_build(generation, len(to_read))
            report = build_streamed(
                self.config, self.store, found, to_read, generation, progress, chunk, sinks
            )
            report.extra["fed"] = fed
            return report
        loaded = load_notes(self.config, to_read, progress)
        upserts: list[Note] = []
        touched: list[Note] = []  # same bytes, new mtime: rows stay, stat columns refresh
        errors = list(found.issues) + loaded.failures
        added: list[str] = []
        changed: list[str] = []
        # What cannot be read is kept in parse_errors until it can: the read failures of this sync
        # (and, in a targeted one, the paths it could not stat; a full scan's go to scan_issues)
        # replace the rows of the paths it covers.
        unreadable = {
            i.path: i.message for i in (found.issues if paths is not None else ()) if i.kind == "unreadable"
        }
        for (rel, _), result in zip(to_read, loaded.results, strict=True):
            if result is Unparsed.GONE:
                if rel in state.notes and self._gone(rel):
                    missing.append(rel)
                continue
            if result is Unparsed.NOT_PARSED:
                # No answer is not "deleted": the note keeps its rows and is reported.
                errors.append(ParseIssue(rel, "not parsed (its parse worker failed)", "worker"))
                continue
            if not isinstance(result, Note):  # a ParseIssue (only a cold build asks for Parsed rows)
                if isinstance(result, ParseIssue):
                    errors.append(result)
                    if result.kind == "unreadable":
                        unreadable[rel] = result.message
                continue
            if result.error:
                from ..notes.parse import parse_issue

                issue = parse_issue(result)
                if issue is not None:
                    errors.append(issue)
            old = state.notes.get(rel)
            if old is not None and not fresh and state.hashes.get(rel) == result.hash:
                if (old[0], old[1]) != (result.mtime, result.size):
                    touched.append(result)
                continue
            upserts.append(result)
            (changed if old is not None else added).append(rel)

        # Moves: a vanished note whose exact content appeared under a new path.
        by_hash: dict[str, list[str]] = {}
        hashes = {n.path: n.hash for n in upserts}
        for rel in added:
            by_hash.setdefault(hashes[rel], []).append(rel)
        moved: list[tuple[str, str]] = []
        deleted: list[str] = []
        for rel in sorted(missing):
            targets = by_hash.get(state.hashes[rel])
            if targets:
                moved.append((rel, targets.pop(0)))
            else:
                deleted.append(rel)
        moved_to = {new for _, new in moved}
        added = [rel for rel in added if rel not in moved_to]

        att_new: dict[str, FileStat] = {}
        att_gone: list[str] = []
        if fresh or found.attachments != state.attachments:
            att_new = {
                rel: stat
                for rel, stat in found.attachments.items()
                if fresh or state.attachments.get(rel) != stat
            }
            att_gone = [
                rel
                for rel in state.attachments.keys() - found.attachments.keys()
                if not found.protects(rel) and rel not in issue_paths and self._gone(rel)
            ]

        removed = [rel for rel, _ in moved] + deleted
        stats, self.store.stats = state.stats, None  # until the write is committed
        stamp = self._write(
            state,
            upserts,
            touched,
            removed,
            att_new,
            att_gone,
            fresh,
            found if paths is None else None,
            unreadable,
        )
        wrote = stamp is not None
        if stats is not None:
            if stamp is not None:
                written = {n.path: (n.mtime, n.size) for n in (*upserts, *touched)}
                racy = float(stamp[1] or 0.0) - RACY_SECONDS  # what the next sync's racy_from will be
                stats.apply(stamp, written, removed, att_new, att_gone, racy)
            self.store.stats = stats
        return SyncReport(
            added=tuple(sorted(added)),
            changed=tuple(sorted(changed)),
            moved=tuple(moved),
            deleted=tuple(deleted),
            errors=tuple(errors),
            scanned=len(found.notes) + len(found.attachments),
            extra={
                "upserted": [n.path for n in upserts],
                "removed": removed,
                "upsert_notes": upserts,
                "wrote": wrote,
            },
        )

    def _begin_build(self, generation: int, total: int) -> tuple[list[Any], set[int]]:
        """The sinks of the listeners that take a cold build a chunk at a time, and their ids."""
        sinks: list[Any] = []
        fed: set[int] = set()
        for listener in self.listeners:
            begin = getattr(listener, "begin_build", None)
            if begin is None:
                continue
            fed.add(id(listener))  # a listener that cannot start a build repairs itself later
            try:
                sink = begin(generation, total)
            except Exception as exc:  # noqa: BLE001
                log.warning("the %s index was not updated by this sync: %s", listener.name, exc)
                continue
            if sink is not None:
                sinks.append(sink)
        return sinks, fed

    def _load_hashes(self, state: _State, paths: list[str], fresh: bool) -> None:
        if fresh or not paths:
            return
        with self.store.write() as con, one_of(con, "path", paths) as (where, params):
            state.hashes.update(con.execute(f"SELECT path, hash FROM notes WHERE {where}", params).fetchall())

    def _gone(self, rel: str) -> bool:
        if confirm_gone(self.root, rel):
            return True
        # It exists but the scan did not list it as a note: a folder now, or ignored now.
        full = self.root / rel
        if full.is_dir() or not full.exists():
            return True
        return self._rules.ignored(rel, is_dir=False)

    def _write(
        self,
        state: _State,
        upserts: list[Note],
        touched: list[Note],
        removed: list[str],
        att_new: dict[str, FileStat],
        att_gone: list[str],
        fresh: bool,
        full_scan: ScanResult | None,
        unreadable: dict[str, str],
    ) -> Stamp | None:
        """Apply the changes in one transaction; its stamp (meta generation and synced_at), or
        None when there was nothing to write."""
        from ..notes.links import link_key, name_keys

        issues_json = None
        if full_scan is not None:
            issues_json = to_json(
                [{"path": i.path, "kind": i.kind, "message": i.message} for i in full_scan.issues]
            )
        changes = upserts or touched or removed or att_new or att_gone
        nothing = not changes and unreadable == state.unreadable
        if nothing and not fresh and issues_json in (None, state.scan_issues):
            return None  # a no-op sync writes nothing: no lock on the file, no new generation

        with self.store.write() as con:
            # Per-note tables whose rows for a changed note are what the index holds already (a
            # frontmatter edit leaves tags, links, headings... alone) are not rewritten.
            unchanged = unchanged_tables(con, [n for n in upserts if n.path in state.notes])
            skip = {path: known.same for path, known in unchanged.items()}
            # Keys of names that appeared, vanished, moved or changed aliases: links with these keys
            # elsewhere in the vault may now resolve differently.
            affected: set[str] = set()
            realiased = [n for n in upserts if "aliases" not in skip.get(n.path, ())]
            old_aliases = aliases_of(con, [n.path for n in realiased if n.path in state.notes] + removed)
            for note in realiased:
                before = old_aliases.get(note.path)
                if note.path not in state.notes or sorted(before or []) != sorted(note.aliases):
                    affected |= name_keys(note.path, list(note.aliases) + list(before or []))
            for rel in removed:
                affected |= name_keys(rel, old_aliases.get(rel, []))
            for rel in list(att_gone) + [r for r in att_new if r not in state.attachments]:
                affected |= name_keys(rel, [])
            relinked = [n for n in upserts if "links" not in skip.get(n.path, ())]
            resolver = self._resolver(
                con, state, upserts, relinked, removed, att_new, att_gone, affected, fresh
            )
            file_rows = RowSet()  # the rows that are not a parsed note's
            for rel, stat in att_new.items():
                file_rows.add_attachment(rel, stat)
            for rel, message in unreadable.items():
                file_rows.add_unreadable(rel, message)
            con.execute("BEGIN TRANSACTION")
            try:
                for table in ("notes", *schema.PER_NOTE_TABLES):
                    # A note new to the index has no rows to delete (each table is a full scan).
                    replaced = [
                        n.path
                        for n in upserts
                        if (fresh or n.path in state.notes) and table not in skip.get(n.path, ())
                    ]
                    if replaced or removed:
                        with one_of(con, "path", replaced + removed) as (where, params):
                            con.execute(f"DELETE FROM {table} WHERE {where}", params)
                if state.unreadable:
                    with one_of(con, "path", list(state.unreadable)) as (where, params):
                        con.execute(
                            f"DELETE FROM parse_errors WHERE kind = 'unreadable' AND {where}", params
                        )
                att_replaced = list(att_gone) + list(att_new)
                if att_replaced:
                    with one_of(con, "path", att_replaced) as (where, params):
                        con.execute(f"DELETE FROM attachments WHERE {where}", params)
                insert_all(con, file_rows)
                # Rows are built and inserted a slice at a time to bound memory on big builds.
                for start in range(0, len(upserts), _ROWS_PER_INSERT):
                    chunk = upserts[start : start + _ROWS_PER_INSERT]
                    insert_all(con, rows_for(chunk, resolver.resolve, unchanged))
                if touched:
                    touch(con, touched)
                if affected and not fresh:
                    reresolve(con, resolver, affected, {n.path for n in relinked}, link_key)
                meta = {"generation": str(state.generation + 1), "synced_at": str(time.time())}
                if issues_json is not None:
                    meta["scan_issues"] = issues_json
                set_meta(con, meta)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return meta["generation"], meta["synced_at"]

    def _resolver(
        self,
        con: Any,
        state: _State,
        upserts: list[Note],
        relinked: list[Note],
        removed: list[str],
        att_new: dict[str, FileStat],
        att_gone: list[str],
        affected: set[str],
        fresh: bool,
    ) -> Any:
        """A LinkResolver over just the files that the links in question can resolve to.

        A link can only resolve to a file whose name keys contain the link's key (notes/links.py),
        so the candidates are the files holding any key of the new links (those of ``relinked``,
        the notes whose links are rewritten) or of the affected names; the cost follows the size
        of the change, not of the vault."""
        from ..notes.links import LinkResolver, link_key

        keys = set(affected)
        for note in relinked:
            keys.update(link_key(link.target) for link in note.links if link.kind != "url")
        keys.discard("")
        gone = set(removed) | {n.path for n in upserts} | set(att_gone)
        notes: dict[str, list[str]] = {}
        attachments: set[str] = set()
        if keys and not (fresh and not state.notes):
            with one_of(con, "key", sorted(keys)) as (where, params):
                found = con.execute(
                    f"SELECT path, 'n' FROM notes WHERE {where} "
                    f"UNION SELECT path, 'n' FROM aliases WHERE {where} "
                    f"UNION SELECT path, 'a' FROM attachments WHERE {where}",
                    params * 3,
                ).fetchall()
            for path, kind in found:
                if path in gone:
                    continue
                if kind == "n":
                    notes[path] = []
                else:
                    attachments.add(path)
            for path, aliases in aliases_of(con, list(notes)).items():
                notes[path] = aliases
        for note in upserts:
            notes[note.path] = list(note.aliases)
        attachments |= set(att_new)
        return LinkResolver(notes.items(), attachments)
