"""One sync of a clone with its space: pull what others committed, merge, push what changed here.

Pull decides per remote path, from three hashes: the local file's, the base's (what this clone last
agreed on) and the server's:

- local == server: nothing to do but remember the base (this also settles a push whose local state
  write was lost, and rebuilds lost state);
- local unchanged since the base: take the server's version (a delete goes to ``.trash/``; a move
  is done as a move);
- both changed: three-way merge against the base revision (``merge.py``); a true overlap follows
  the policy (keep-both makes a conflict copy). A delete never beats an edit: an edited note whose
  remote copy was deleted is kept and pushed again; a note deleted here but edited elsewhere comes
  back. A delete that was a move (the server's history holds a revision ``moved_from`` the path) is
  no delete: the note edited here moves to the new path, merged with the server's version there.

Files are written through the vault's lossless batch writer with a compare-and-swap on the bytes
the decision was made from, so an editor's save in the meantime is never overwritten: that path is
simply decided again at the next round. Push is a compare-and-swap on each base revision; what the
server refuses (someone committed first) is pulled, merged and pushed in the next round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import InvalidPath, MdstoreError, NoteNotFound, WriteConflict
from ..notes.model import content_hash
from ..notes.paths import (
    _fold,  # the vault's own test for two names that cannot live side by side
    unportable,
)
from . import remote
from .conflicts import copy_name
from .local import (
    FROM_INDEX_AT,
    LocalFile,
    LocalFiles,
    LocalView,
    describe_note,
    described_by_index,
    not_shared,
    refresh_files,
    remember_written,
    scan_files,
)
from .merge import merge
from .moves import moves_here
from .report import TeamSyncReport
from .state import Base, ClientState

if TYPE_CHECKING:
    import psycopg

    from ..config import TeamSettings
    from ..vault import Vault

ROUNDS = 6  # pull/push rounds before a sync gives up on a path others keep changing


@dataclass
class _Plan:
    """A pull round's decisions, applied in two batches (moves and deletes, then writes)."""

    moves: list[tuple[str, str, remote.RemoteNote]] = field(default_factory=list)
    # A note edited here that another clone moved: (old path, new path, bytes, expected local
    # hash of the old path, the new path's row or None for a conflict copy).
    carries: list[tuple[str, str, bytes, str, remote.RemoteNote | None]] = field(default_factory=list)
    trash: list[tuple[str, str, remote.RemoteNote | None]] = field(default_factory=list)
    # (path, bytes or None for the remote revision's, expected local hash or None to create, row)
    writes: list[tuple[str, bytes | None, str | None, remote.RemoteNote | None]] = field(default_factory=list)


class Exchange:
    def __init__(
        self,
        vault: Vault,
        conn: psycopg.Connection[Any],
        settings: TeamSettings,
        state: ClientState,
        author: Callable[[], str],  # the name for conflict copies (looked up when needed)
        stager: Callable[[], remote.Stager] | None = None,  # a second session beside a large push
    ) -> None:
        self.vault = vault
        self.conn = conn
        self.settings = settings
        self.space = settings.space
        self.policy = settings.policy
        self.state = state
        self.author = author
        self.stager = stager
        self.local: LocalView = LocalView(LocalFiles(), [], [])
        self.note_extensions = tuple(ext.lower() for ext in vault.config.vault.extensions)
        self.moves_here: dict[str, str] = {}  # old path -> new path, moved in this clone
        self.held: set[str] = set()  # paths left alone this sync ("fail" policy, a failed write)
        self.known: dict[str, dict[str, int]] = {}  # path -> {hash: its latest revision}, prefetched
        # A pull round touches each local path once: a row that would touch a path another row of
        # the round already does (a moved note's old and new paths) waits for the next round.
        self.claimed: set[str] = set()
        self.deferred: set[str] = set()
        # Paths whose row of the round was decided together with another's (a move and its tombstone).
        self.settled: set[str] = set()
        # The notes a push sends not yet looked up in the vault's index, and what it parsed of them.
        self.to_describe: list[str] = []
        self.described: dict[str, tuple[str, dict[str, Any]]] = {}
        self.first_lookup = True
        self.out: dict[str, list[Any]] = {
            k: [] for k in ("pulled", "deleted", "moved", "merged", "pushed", "conflicts")
        }

    def run(self, paths: set[str] | None = None) -> TeamSyncReport:
        """One sync; ``paths`` (from the watcher) limits the look at local files to those paths."""
        started = time.perf_counter()
        config = replace(self.vault.config, team=self.settings)
        if paths is None or not self.state.seen:
            self.local = scan_files(config, self.state)
        else:
            self.local = refresh_files(config, self.state, paths)
        self.moves_here = self._local_moves()
        rows = remote.changes_since(self.conn, self.space, self.state.cursor)
        for _ in range(ROUNDS):
            self._pull(rows)
            result = self._push()
            again = set(result.rejected) | self.deferred
            for path in result.clashes:
                again.update(self._rename_clash(path))
            if not again:
                break
            rows = remote.changes_since(self.conn, self.space, self.state.cursor)
            listed = {r.path for r in rows}
            rows += [r for r in remote.notes_at(self.conn, self.space, sorted(again)) if r.path not in listed]
            rows.sort(key=lambda r: r.revision)
        self.state.last_sync = time.time()
        self.state.last_error = None
        return TeamSyncReport(
            **{k: tuple(v) for k, v in self.out.items()},
            skipped=tuple(not_shared(self.local, self.state)),
            revision=self.state.cursor,
            seconds=time.perf_counter() - started,
        )

    # -- pull ------------------------------------------------------------------------------------

    def _pull(self, rows: list[remote.RemoteNote]) -> None:
        if not rows:
            return
        plan = _Plan()
        merges: list[tuple[remote.RemoteNote, Base | None, str, str | None]] = []
        files, bases = self.local.files, self.state.bases
        unknown = [
            r.path for r in rows if r.path in files and r.path not in bases and files[r.path].hash != r.hash
        ]
        # Rebuilding lost state: one query for all, not one per path.
        self.known = remote.revisions_by_hash(self.conn, self.space, unknown) if len(unknown) > 1 else {}
        self.claimed, self.deferred, self.settled = set(), set(), set()
        away = self._moved_away(rows)
        into = {to.path: old for old, to in away.items()}
        for r in rows:
            old = r.path if r.path in away else into.get(r.path)
            if r.path in self.settled:
                continue
            self.state.withheld.pop(r.path, None)  # decided again: reported again if left again
            why = unportable(r.path)
            if why is not None:
                self._withhold(r, why, plan)
                continue
            if old is not None:  # moved there, edited here: decided with the move's other half
                to = away[old]
                if {old, to.path} & self.claimed:
                    self.deferred.add(r.path)
                    continue
                self.claimed |= {old, to.path}
                self.settled |= {old, to.path}
                merges.append((to, self.state.bases[old], to.path, old))
            elif r.path in self.claimed:
                self.deferred.add(r.path)
            else:
                self.claimed.add(r.path)
                self._decide(r, plan, merges)
        needed = [r.revision for _, d, _, r in plan.writes if r is not None and d is None]
        needed += [r.revision for r, _, _, _ in merges] + [b.revision for _, b, _, _ in merges if b]
        data = remote.contents(self.conn, self.space, needed)
        plan.writes = [
            (p, data.get(r.revision, b"") if r is not None and d is None else d, h, r)
            for p, d, h, r in plan.writes
        ]
        for r, base, dest, source in merges:
            self._merge(r, base, dest, data, plan, source)
        failed = self._apply(plan) | self.deferred
        top = max(r.revision for r in rows)
        stuck = [r.revision for r in rows if r.path in failed]
        self.state.cursor = max(self.state.cursor, (min(stuck) - 1) if stuck else top)

    def _withhold(self, r: remote.RemoteNote, why: str, plan: _Plan) -> None:
        """A server path a clone on Windows could not hold (an earlier mdstore shared it): it is
        not written here, and reported until it is gone. This clone's own file of that name (kept
        out of what it shares) follows a delete or a move away when it is unchanged since it last
        agreed with the server, as any file does."""
        mine, base = self.local.withheld.get(r.path), self.state.bases.get(r.path)
        if r.deleted:
            if mine is not None and base is not None and base.hash == mine.hash:
                plan.trash.append((r.path, mine.hash, r))
            else:
                self.state.bases.pop(r.path, None)
            return
        if mine is not None and mine.hash == r.hash:
            self.state.bases[r.path] = Base(r.revision, r.hash)  # agreed: a rename here is a move
        self.state.withheld[r.path] = f"not pulled: {why}; left on the server (rename it where it was shared)"

    def _decide(self, r: remote.RemoteNote, plan: _Plan, merges: list[Any]) -> None:
        p = r.path
        mine = self.local.files.get(p)
        base = self.state.bases.get(p)
        if mine is not None and not r.deleted and mine.hash == r.hash:
            self.state.bases[p] = Base(r.revision, r.hash)  # already agree (also: rebuilding lost state)
            return
        if mine is not None and base is None:
            base = self._lost_base(p, mine.hash)
        if r.deleted:
            if mine is None:
                self.state.bases.pop(p, None)
            elif base is not None and mine.hash == base.hash:
                plan.trash.append((p, mine.hash, r))
            else:
                self.state.bases[p] = Base(r.revision, "")  # an edit beats a delete: pushed again
            return
        if mine is None:
            target = self.moves_here.get(p)
            moved = self.local.files.get(target) if target else None
            if target and moved and base is not None:  # moved here, edited there
                if target in self.claimed:
                    self.deferred.add(p)
                    return
                self.claimed.add(target)
                if moved.hash == base.hash:  # the moved note is as it was moved: take the edit
                    plan.writes.append((target, None, moved.hash, r))
                else:  # changed since (here, or by a pull): the edit is merged into it
                    merges.append((r, base, target, None))
                return
            source = r.moved_from
            src = self.local.files.get(source) if source else None
            src_base = self.state.bases.get(source) if source else None
            if (
                source
                and src
                and src_base
                and src.hash == src_base.hash == r.hash
                and p not in self.local.files
                and source not in self.claimed
            ):
                self.claimed.add(source)
                if _fold(source) == _fold(p):
                    # Only the case (or Unicode form) changed: the vault refuses a name beside its
                    # twin, so the old file goes to the trash first and the new name is written
                    # from the server's bytes (the same as the file's) afterwards.
                    plan.trash.append((source, src.hash, None))
                    plan.writes.append((p, None, None, r))
                    return
                plan.moves.append((source, p, r))
                return
            plan.writes.append((p, None, None, r))  # new here, or deleted here but edited there
            return
        if base is not None and mine.hash != base.hash:
            # The server may hold these very bytes already: a push whose state write was lost.
            pushed = self._lost_base(p, mine.hash)
            base = pushed if pushed is not None and pushed.revision > base.revision else base
        if base is not None and mine.hash == base.hash:
            plan.writes.append((p, None, mine.hash, r))
            return
        merges.append((r, base, p, None))

    def _moved_away(self, rows: list[remote.RemoteNote]) -> dict[str, remote.RemoteNote]:
        """Notes edited here whose path another clone deleted by moving the note: old path -> the
        server's row of the new path. The move is the revision ``moved_from`` the old path (in
        this round, or in the history when the moved note was edited since)."""
        files, bases = self.local.files, self.state.bases
        edited: dict[str, Base] = {}
        for r in rows:
            mine, base = files.get(r.path), bases.get(r.path)
            if not (r.deleted and mine and base and base.hash) or r.revision <= base.revision:
                continue
            if mine.hash != base.hash:
                edited[r.path] = base
        if not edited:
            return {}
        current = {r.path: r for r in rows}
        moved = {r.moved_from: r.path for r in rows if r.moved_from in edited and not r.deleted}
        rest = [p for p in edited if p not in moved]
        if rest:
            after = min(edited[p].revision for p in rest)
            for old, new, revision in remote.moves_from(self.conn, self.space, rest, after):
                if revision > edited[old].revision:
                    moved[old] = new
        missing = [new for new in moved.values() if new not in current]
        current.update((r.path, r) for r in remote.notes_at(self.conn, self.space, missing) if missing)
        # A new path deleted or moved on since, or one this clone holds a file at, is left to the
        # rules for deletes and new notes (the edit here is kept at the old path).
        return {
            old: current[new]
            for old, new in moved.items()
            if new in current and not current[new].deleted and new not in files
        }

    def _lost_base(self, path: str, digest: str) -> Base | None:
        if path in self.known:
            revision = self.known[path].get(digest)
        else:
            revision = remote.revision_with_hash(self.conn, self.space, path, digest)
        return None if revision is None else Base(revision, digest)

    def _merge(
        self,
        r: remote.RemoteNote,
        base: Base | None,
        p: str,
        data: dict[int, bytes],
        plan: _Plan,
        source: str | None = None,
    ) -> None:
        """Merge ``r`` into the local file ``p`` (its own path, or where this clone moved it). With
        ``source``, the local file is still at the path another clone moved ``p`` from: the result
        goes to ``p`` and the old path is removed."""
        here = source or p
        theirs = data.get(r.revision, b"")
        try:
            mine = (self.vault.root / here).read_bytes()
            mtime = (self.vault.root / here).stat().st_mtime
        except OSError:
            self.held.update((here, p, r.path))
            return
        mine_hash = content_hash(mine)
        merged = None
        if source is not None and base is not None and base.hash == r.hash:
            merged = mine  # moved there as it was: the edit here goes with it
        elif base is not None and base.hash and r.kind == "note":  # a tombstone is no base to merge on
            newer = mtime > r.updated_at.timestamp()
            merged = merge(data.get(base.revision, b""), mine, theirs, ours_newer=newer)
        if merged is not None:
            if source is None:
                plan.writes.append((p, merged, mine_hash, r))
            else:
                plan.carries.append((source, p, merged, mine_hash, r))
            if source is None or base is None or base.hash != r.hash:
                self.out["merged"].append(p)
            return
        if self.policy == "mine":
            if source is None:
                self.state.bases[r.path] = Base(r.revision, r.hash)
            else:  # the carry sets the new path's base once the file is there
                plan.carries.append((source, p, mine, mine_hash, r))
            self.out["conflicts"].append(p)
        elif self.policy == "theirs":
            plan.trash.append((here, mine_hash, r if source else None))
            plan.writes.append((p, theirs, None, r))
            self.out["conflicts"].append(p)
        elif self.policy == "fail":
            self.held.update((here, p, r.path))
            self.out["conflicts"].append(p)
        else:
            copy = copy_name(p, self.author(), self.local.files)
            if source is None:
                plan.writes.append((copy, mine, None, None))
                plan.writes.append((p, theirs, mine_hash, r))
            else:
                plan.carries.append((source, copy, mine, mine_hash, None))
                plan.writes.append((p, theirs, None, r))
            self.local.files[copy] = LocalFile(mine_hash, r.kind)
            self.out["conflicts"].append(copy)

    def _apply(self, plan: _Plan) -> set[str]:
        """Write the plan with compare-and-swap; the paths that could not be written."""
        failed: set[str] = set()
        ops: list[tuple[str, Any]] = [("move", m) for m in plan.moves] + [("trash", t) for t in plan.trash]
        ops += [("carry", c) for c in plan.carries]
        failed |= self._batch(ops)
        failed |= self._batch([("write", w) for w in plan.writes])
        return failed

    def _batch(self, ops: list[tuple[str, Any]]) -> set[str]:
        if not ops:
            return set()
        try:
            with self.vault.batch() as b:
                for op in ops:
                    self._record(b, *op)
        except (WriteConflict, InvalidPath, NoteNotFound) as exc:
            if len(ops) == 1:
                path = _path_of(*ops[0])
                if isinstance(exc, InvalidPath) and "differs only in case" not in str(exc):
                    # Retrying cannot help: the cursor moves on, and the path is reported until
                    # the server's next revision of it.
                    self.state.withheld[path] = f"not pulled: {exc}; left on the server"
                    return set()
                return {path, ops[0][1][0]} if ops[0][0] == "carry" else {path}
            # Each half again, and so on: only the paths edited meanwhile end up alone (they wait
            # for the next sync), and the rest is still written in a few large batches rather than
            # one by one (a batch each, with its own index update).
            middle = len(ops) // 2
            return self._batch(ops[:middle]) | self._batch(ops[middle:])
        for op in ops:
            self._done(*op)
        return set()

    def _record(self, b: Any, kind: str, op: Any) -> None:
        if kind == "move":
            src, dst, _r = op
            if src.lower().endswith(self.note_extensions) and dst.lower().endswith(self.note_extensions):
                b.move(src, dst, update_links=False)  # the mover's link rewrites arrive as edits
            else:
                b.write_bytes(dst, (self.vault.root / src).read_bytes(), any_file=True)
                b.delete(src, permanent=True, any_file=True)
        elif kind == "trash":
            path, expect, _r = op
            b.delete(path, if_hash=expect, any_file=True)
        elif kind == "carry":
            src, dst, data, expect, _r = op
            b.write_bytes(dst, data, any_file=True)
            b.delete(src, if_hash=expect, permanent=True, any_file=True)  # its bytes are in dst
        else:
            path, data, expect, _r = op
            b.write_bytes(path, data, if_hash=expect, any_file=True)

    def _done(self, kind: str, op: Any) -> None:
        files, bases = self.local.files, self.state.bases
        config = self.vault.config
        if kind == "move":
            src, dst, r = op
            files[dst] = files.pop(src)
            bases[dst] = Base(r.revision, r.hash)
            self.state.seen.pop(src, None)
            remember_written(config, self.state, dst, files[dst].hash)
            self.out["moved"].append((src, dst))
        elif kind == "trash":
            path, _expect, r = op
            files.pop(path, None)
            self.state.seen.pop(path, None)
            if r is not None:
                bases.pop(path, None)
                self.out["deleted"].append(path)
        elif kind == "carry":
            src, dst, data, _expect, r = op
            files[dst] = LocalFile(content_hash(data), files.pop(src).kind)
            bases.pop(src, None)
            self.state.seen.pop(src, None)
            remember_written(config, self.state, dst, files[dst].hash)
            if r is not None:  # the other clone's move, with the edit made here
                bases[dst] = Base(r.revision, r.hash)
                self.out["moved"].append((src, dst))
        else:
            path, data, _expect, r = op
            files[path] = LocalFile(content_hash(data), r.kind if r else "note")
            remember_written(config, self.state, path, files[path].hash)
            if r is not None:
                # Agreed on r (for a note moved here and edited there, on the old path: its
                # tombstone is then pushed with the new path).
                bases[r.path] = Base(r.revision, r.hash)
                if r.path == path:
                    self.out["pulled"].append(path)

    # -- push ------------------------------------------------------------------------------------

    def _push(self) -> remote.PushResult:
        changes = self._changes()
        self.described, self.first_lookup = {}, True
        self.to_describe = [c.path for c in changes if c.kind == "note" and not c.deleted]
        if len(self.to_describe) < FROM_INDEX_AT:
            self.to_describe = []  # parsed as they are read: cheaper than a scan of the index
        stage = self.stager() if self.stager is not None else None
        try:
            result = remote.push(
                self.conn, self.space, changes, self.state.cursor, fill=self._read, stage=stage
            )
        finally:
            if stage is not None:
                stage.close()
        for change in changes:
            rev = result.accepted.get(change.path) or result.adopted.get(change.path)
            if rev is None:
                continue
            self.state.bases[change.path] = Base(rev, change.hash)
            if change.path in result.accepted:
                self.out["pushed"].append(change.path)
            if change.deleted:
                self.state.bases.pop(change.path, None)
                self.state.withheld.pop(change.path, None)
        if result.contiguous and not result.rejected:
            self.state.cursor = max(self.state.cursor, result.revision)
        self.moves_here = {o: n for o, n in self.moves_here.items() if o not in result.accepted}
        return result

    def _changes(self) -> list[remote.Change]:
        """What to push, with the hashes the look at the files found; the bytes are read when they
        are written (``_read``)."""
        from ..index.scan import confirm_gone

        moved_to = {new: old for old, new in self.moves_here.items()}
        out: list[remote.Change] = []
        bases = self.state.bases
        differ, unfiled = self._differing()
        for rel in differ:
            if rel in self.held:
                continue
            base, f = bases.get(rel), self.local.files[rel]
            out.append(
                remote.Change(
                    rel, base.revision if base else None, f.kind, hash=f.hash, moved_from=moved_to.get(rel)
                )
            )
        for rel in unfiled:
            base = bases[rel]
            if rel not in self.held:
                if not any(rel.startswith(d + "/") for d in self.local.protected) and confirm_gone(
                    self.vault.root, rel
                ):
                    out.append(remote.Change(rel, base.revision, deleted=True, moved_from=None))
        return out

    def _read(self, changes: list[remote.Change]) -> list[remote.Change]:
        """``changes`` with their bytes and what the server keeps beside a note's (taken from the
        vault's index when it parsed these bytes); a file that can no longer be read is left out
        (the next sync looks at it again). Runs beside the push's writes for a large push."""
        config = replace(self.vault.config, team=self.settings)
        if self.to_describe:
            # Each query scans the index, so a push's notes are looked up in two: the first
            # chunk's alone (the server is waiting for that chunk), then all the rest at once.
            wanted, rest = self.to_describe, []
            if self.first_lookup:
                self.first_lookup = False
                mine = {c.path for c in changes}
                wanted = [path for path in self.to_describe if path in mine]
                rest = [path for path in self.to_describe if path not in mine]
            self.described.update(described_by_index(self.vault, wanted))
            self.to_describe = rest if len(rest) >= FROM_INDEX_AT else []
        parsed = self.described
        out: list[remote.Change] = []
        for change in changes:
            if not change.deleted:
                rel = change.path
                try:
                    data = (self.vault.root / rel).read_bytes()
                except OSError:
                    continue
                change.content, change.hash = data, content_hash(data)
                if change.kind != "note":
                    change.meta = {"title": rel.rpartition("/")[2]}
                elif rel in parsed and parsed[rel][0] == change.hash:
                    change.meta = parsed[rel][1]
                else:
                    change.meta = describe_note(config, rel, data)
            out.append(change)
        return out

    def _differing(self) -> tuple[list[str], list[str]]:
        """The files whose hash is not their base's (or that have no live base), and the paths
        whose live base has no file, both sorted. Unchanged files and bases, the common case,
        are seen in one comparison of two dicts (state.Bases, local.LocalFiles)."""
        hashes, live = self.local.files.hashes, self.state.bases.live
        if hashes == live:
            return [], []
        differ = sorted(rel for rel, digest in hashes.items() if live.get(rel) != digest)
        return differ, sorted(live.keys() - hashes.keys())

    def _local_moves(self) -> dict[str, str]:
        """Files gone here that reappeared under a new path: moves, pushed as moves (``moves.py``)."""
        from ..index.scan import confirm_gone

        differ, unfiled = self._differing()
        # A shared file still here but not shared any more (its name) is no move's source.
        unfiled = [
            rel for rel in unfiled if rel not in self.local.withheld and confirm_gone(self.vault.root, rel)
        ]
        fetch = partial(remote.contents, self.conn, self.space)  # the bytes of the gone notes' bases
        return moves_here(
            self.vault.root, self.local.files, self.state.bases, differ, unfiled, self.note_extensions, fetch
        )

    def _rename_clash(self, path: str) -> list[str]:
        """A new name that differs only in case from a shared one: ours becomes a conflict copy."""
        copy = copy_name(path, self.author(), self.local.files)
        try:
            with self.vault.batch() as b:
                data = (self.vault.root / path).read_bytes()
                b.write_bytes(copy, data, any_file=True)
                b.delete(path, if_hash=content_hash(data), permanent=True, any_file=True)
        except (MdstoreError, OSError):
            self.held.add(path)
            return []
        self.local.files[copy] = self.local.files.pop(path)
        self.out["conflicts"].append(copy)
        return [copy]


def _path_of(kind: str, op: Any) -> str:
    return str(op[1] if kind in ("move", "carry") else op[0])
