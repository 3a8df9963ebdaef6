"""The crash-safe journal that makes a batch of file writes all-or-nothing (``with vault.batch():``).

A batch is recorded in memory (``Batch.write``/``delete``/``move``), then ``commit`` runs:

1. **check** every precondition (``create`` targets absent, ``if_hash`` matches, sources exist,
   each path used once) before touching anything; a failure raises and nothing happens;
2. **intent**: ``.mdstore/journal/<id>/intent.json`` lists the temp files about to be created;
3. **stage** every new content in a temp file (in the target's folder when that folder exists, so
   the final rename is atomic and looks like an editor's atomic save; else in the batch folder),
   fsync'd, folders fsync'd (a batch of at least ``BULK_SYNC_FILES`` files: written, then one
   ``syncfs`` of the vault's file system instead of an fsync per file);
4. **commit point**: ``plan.json`` (every operation, with where its new bytes are) is written
   atomically and fsync'd;
5. **apply** the operations (``os.replace`` of each staged file, renames, deletions), and make the
   folders durable (one ``syncfs`` for a bulk batch);
6. **done**: the batch folder is removed.

The operations of a batch touch disjoint paths (``_check`` refuses a path used twice, or a write
inside a moved folder), so their order does not matter: a bulk batch stages its files and replaces
its targets on a few threads. Creations and renames mostly wait on the file system's own journal,
not on the CPU, and on a busy disk a thousand renames one after the other took seconds where a few
threads overlapping those waits took a tenth of a second.

A ``kill -9`` at any instant leaves a batch folder with or without ``plan.json``. ``recover`` (called
when a vault opens) rolls a batch with a plan **forward** (every step is idempotent: a write whose
staged file is gone was applied; a move whose source is gone was applied) and one without a plan
**back** (its temp files are deleted; nothing in the vault had changed). Every file is therefore
old or new, never partial, and the batch is all-or-nothing once ``recover`` ran.

Each batch holds an ``flock`` on ``journal/<id>.lock`` while it runs, so ``recover`` in another
process never touches a batch that is still in progress; the kernel releases the lock when its
holder dies. The journal knows nothing of the index: it only moves bytes. Paths are vault-relative
and must already be validated (``notes.paths``); the vault and ``.mdstore/`` must be on one file
system.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from ..config import STATE_DIR
from ..errors import InvalidPath, NoteNotFound, WriteConflict
from .fileio import (
    atomic_write,
    can_sync_file_system,
    fsync_folder,
    make_folders,
    sync_file_system,
    temp_name_for,
    write_new,
)
from .model import content_hash
from .paths import case_rename, renamed_in_place

__all__ = ["Batch", "Journal", "recover"]

JOURNAL_DIR = "journal"
TRASH_DIR = ".trash"
_PLAN = "plan.json"
_INTENT = "intent.json"
BULK_SYNC_FILES = 16  # staged files from which one file-system flush beats an fsync per file
_THREADS = 8  # for a bulk batch's file operations (they wait on the disk's journal, not the CPU)
_PER_TASK = 16  # file operations handed to a thread at a time
_log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class _Op:
    kind: str  # "write" | "delete" | "move"
    path: str  # the written or deleted path; the source of a move
    data: bytes | None = None  # new content (write; optional for move)
    dst: str | None = None  # move destination
    to_trash: bool = True  # delete: into .trash/ or for good
    if_hash: str | None = None  # compare-and-swap on the current content
    create: bool = False  # write: the file must not exist yet


def recover(root: Path, *, fsync: bool = True) -> list[str]:
    """Finish or undo every interrupted batch of the vault at ``root``; returns the paths it changed."""
    return Journal(root, fsync=fsync).recover()


def has_pending(root: Path) -> bool:
    """Whether a batch is in the journal (running, or interrupted and not yet recovered): its staged
    temp files in the vault are then still needed."""
    folder = Path(root) / STATE_DIR / JOURNAL_DIR
    try:
        return any(entry.is_dir() and entry.name != "conflicts" for entry in folder.iterdir())
    except FileNotFoundError:
        return False


class Journal:
    """The batch journal of one vault (``<root>/.mdstore/journal/``)."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.folder = self.root / STATE_DIR / JOURNAL_DIR
        self.fsync = fsync

    def begin(self) -> Batch:
        return Batch(self)

    def recover(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        touched: list[str] = []
        for entry in sorted(self.folder.iterdir()):
            if not entry.is_dir() or entry.name == "conflicts":
                continue
            with self._lock(entry.name, wait=False) as held:
                if not held or not entry.is_dir():
                    continue  # a live process is still running this batch, or just finished it
                if (entry / _PLAN).is_file():
                    touched += self._roll_forward(entry)
                else:
                    self._roll_back(entry)
                self._discard(entry)
        for lock in self.folder.glob("*.lock"):
            if not (self.folder / lock.stem).exists():
                with self._lock(lock.stem, wait=False) as held:
                    if held:
                        lock.unlink(missing_ok=True)
        return touched

    # --- the steps --------------------------------------------------------------------------

    def _commit(self, ops: list[_Op]) -> list[str]:
        trash = self._check(ops)
        batch_id = f"{time.time_ns():020d}-{os.urandom(4).hex()}"
        folder = self.folder / batch_id
        with self._lock(batch_id, wait=True):
            make_folders(folder, fsync=self.fsync)
            try:
                plan = self._stage(ops, folder, trash)
            except BaseException:
                self._roll_back(folder)
                self._discard(folder)
                raise
            atomic_write(folder / _PLAN, _dump(plan), fsync=self.fsync)
            touched = self._roll_forward(folder)
            self._discard(folder)
            (self.folder / f"{batch_id}.lock").unlink(missing_ok=True)
        return touched

    def _check(self, ops: list[_Op]) -> dict[int, str]:
        """Refuse the batch before anything is written; returns the trash path of each delete."""
        seen: set[str] = set()
        folders: list[str] = []
        trash: dict[int, str] = {}
        for index, op in enumerate(ops):
            paths = [op.path] if op.dst is None else [op.path, op.dst]
            for rel in paths:
                _check_rel(rel)
                if rel in seen or any(rel == f or rel.startswith(f + "/") for f in folders):
                    raise InvalidPath(f"path {rel!r} is used by more than one operation of the batch")
                seen.add(rel)
            target = self.root / op.path
            for rel in paths:
                _check_parents(self.root, rel)
            if op.kind == "write" and target.is_dir():
                raise InvalidPath(f"{op.path}: is a folder, not a note")
            if op.kind == "move" and target.is_dir() and not target.is_symlink():
                if any(s == f or s.startswith(f + "/") for s in seen - set(paths) for f in paths):
                    raise InvalidPath(f"folder {op.path!r} is moved while the batch also writes inside it")
                folders += paths
            exists = os.path.lexists(target)
            if op.kind == "write" and op.create and exists:
                raise WriteConflict(f"{op.path}: already exists; create never overwrites")
            if op.kind in ("delete", "move") and not exists:
                raise NoteNotFound(f"{op.path}: no such note")
            dst_taken = op.dst is not None and os.path.lexists(self.root / op.dst)
            if dst_taken and not renamed_in_place(self.root, op.path, op.dst or ""):
                raise WriteConflict(f"{op.dst}: already exists; a move never overwrites")
            if op.if_hash is not None:
                current = _hash_of(target)
                if current != op.if_hash:
                    what = "is missing" if current is None else "changed since it was read"
                    raise WriteConflict(f"{op.path}: {what} (if_hash did not match)")
            if op.kind == "delete" and op.to_trash:
                trash[index] = self._trash_path(op.path, set(trash.values()))
        return trash

    def _stage(self, ops: list[_Op], folder: Path, trash: dict[int, str]) -> dict[str, Any]:
        moved = [
            f for op in ops if op.kind == "move" and (self.root / op.path).is_dir() for f in (op.path, op.dst)
        ]
        staged: list[tuple[Path, bytes, int | None]] = []
        in_vault: list[str] = []  # staged temps outside the batch folder (rolled back by name)
        plan_ops: list[dict[str, Any]] = []
        for index, op in enumerate(ops):
            entry: dict[str, Any] = {"op": op.kind, "path": op.path}
            if op.dst is not None:
                entry["dst"] = op.dst
            if op.kind == "delete":
                entry["trash"] = trash.get(index)
            if op.kind == "move" and op.dst is not None and case_rename(op.path, op.dst):
                entry["via"] = os.path.relpath(folder / f"{index}.via", self.root)
            if op.data is not None:
                target_rel = op.dst or op.path
                target = self.root / target_rel
                parent = target.parent
                in_moved = any(target_rel.startswith(f + "/") for f in moved if f)
                if parent.is_dir() and not in_moved:
                    name = temp_name_for(target.name)
                    temp = parent / name
                    head = target_rel.rpartition("/")[0]
                    entry["staged"] = f"{head}/{name}" if head else name
                    in_vault.append(entry["staged"])
                else:
                    temp = folder / f"{index}.data"
                    entry["staged"] = os.path.relpath(temp, self.root)
                mode = _mode_of(self.root / op.path)
                staged.append((temp, op.data, mode))
                entry["hash"] = content_hash(op.data)
            plan_ops.append(entry)
        atomic_write(folder / _INTENT, _dump({"temps": in_vault}), fsync=self.fsync)
        bulk = self.fsync and len(staged) >= BULK_SYNC_FILES and can_sync_file_system()
        synced = {temp.parent for temp, _, _ in staged}

        def write(item: tuple[Path, bytes, int | None]) -> None:
            temp, data, mode = item
            write_new(temp, data, fsync=self.fsync and not bulk, mode=mode)

        _each(write, staged)
        if bulk:
            sync_file_system(folder)
        elif self.fsync:
            for parent in synced:
                fsync_folder(parent)
        return {"version": 1, "ops": plan_ops}

    def _roll_forward(self, folder: Path) -> list[str]:
        plan = json.loads((folder / _PLAN).read_bytes())
        touched: list[str] = []
        dirty: set[Path] = set()
        writes: list[dict[str, Any]] = []
        for entry in plan["ops"]:
            if entry["op"] == "write":
                writes.append(entry)  # independent of every other operation: applied together
                touched.append(entry["path"])
            else:
                touched += self._apply(entry, dirty)

        def write(entry: dict[str, Any]) -> set[Path]:
            folders: set[Path] = set()  # each thread its own
            self._apply(entry, folders)
            return folders

        for changed in _each(write, writes):
            dirty |= changed
        if self.fsync:
            parents = [parent for parent in dirty if parent.is_dir()]
            if len(parents) >= BULK_SYNC_FILES and can_sync_file_system():
                sync_file_system(folder)  # one flush instead of one per folder
            else:
                for parent in parents:
                    fsync_folder(parent)
        return touched

    def _apply(self, entry: dict[str, Any], dirty: set[Path]) -> list[str]:
        """Apply one planned operation unless it already was; each step can be repeated safely."""
        kind, rel = entry["op"], entry["path"]
        path = self.root / rel
        staged = self.root / entry["staged"] if entry.get("staged") else None
        if kind == "write":
            if staged is not None and staged.exists():
                self._replace(staged, path, dirty)
            return [rel]
        if kind == "delete":
            if os.path.lexists(path):
                if entry.get("trash"):
                    trash = self.root / entry["trash"]
                    make_folders(trash.parent, fsync=self.fsync)
                    os.rename(path, trash)
                    dirty.add(trash.parent)
                else:
                    os.unlink(path)
                dirty.add(path.parent)
            return [rel]
        dst = self.root / entry["dst"]
        if entry.get("via"):
            self._rename_case(path, dst, self.root / entry["via"], staged, dirty)
            return [rel, entry["dst"]]
        if staged is not None:  # a move that also rewrites the content
            if staged.exists():
                self._replace(staged, dst, dirty)
            if os.path.lexists(path):
                os.unlink(path)
                dirty.add(path.parent)
            return [rel, entry["dst"]]
        if os.path.lexists(path):
            make_folders(dst.parent, fsync=self.fsync)
            if path.is_dir() and not path.is_symlink():
                if not os.path.lexists(dst):
                    os.rename(path, dst)
            else:
                # link + unlink never overwrites; after a crash between the two both names exist.
                if not os.path.lexists(dst):
                    os.link(path, dst, follow_symlinks=False)
                if os.path.samestat(os.lstat(path), os.lstat(dst)):
                    os.unlink(path)
                else:
                    _log.warning(
                        "journal: %s appeared during an interrupted move; %s left in place", dst, rel
                    )
            dirty.update((path.parent, dst.parent))
        return [rel, entry["dst"]]

    def _rename_case(self, path: Path, dst: Path, via: Path, staged: Path | None, dirty: set[Path]) -> None:
        """A move to a name that differs only in case. On a case-insensitive file system both
        names are one entry, so linking one and unlinking the other would delete the note: the
        file goes to ``via`` (in the batch's folder) first, then to ``dst``. Each step looks at
        what is done already, so a crash anywhere is finished by the next recovery."""
        if path.name in os.listdir(path.parent):  # the old name, spelled exactly so, is still there
            os.rename(path, via)
            dirty.add(path.parent)
        if not os.path.lexists(via):
            return  # done before a crash
        if staged is not None:
            if staged.exists():
                self._replace(staged, dst, dirty)
            os.unlink(via)  # the new content is in place
            return
        if not os.path.lexists(dst):
            os.link(via, dst, follow_symlinks=False)  # link + unlink never overwrites
            dirty.add(dst.parent)
        if os.path.samestat(os.lstat(via), os.lstat(dst)):
            os.unlink(via)
        else:  # dst appeared meanwhile: the note goes back to its old name rather than be lost
            _log.warning("journal: %s appeared during a rename; %s left in place", dst, path)
            os.rename(via, path)

    def _replace(self, staged: Path, target: Path, dirty: set[Path]) -> None:
        make_folders(target.parent, fsync=self.fsync)
        if target.is_symlink():
            target = Path(os.path.realpath(target))  # write through the link, like atomic_write
        os.replace(staged, target)
        dirty.update((staged.parent, target.parent))

    def _roll_back(self, folder: Path) -> None:
        intent = folder / _INTENT
        if not intent.is_file():
            return  # nothing had been staged in the vault yet
        for rel in json.loads(intent.read_bytes())["temps"]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / rel)

    def _discard(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for child in folder.iterdir():
            child.unlink(missing_ok=True)
        folder.rmdir()
        if self.fsync:
            fsync_folder(folder.parent)

    def _trash_path(self, rel: str, taken: set[str]) -> str:
        """``.trash/<rel>``, numbered like Obsidian (``note 1.md``) when that name is taken."""
        head, _, name = rel.rpartition("/")
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        prefix = f"{TRASH_DIR}/{head}/" if head else f"{TRASH_DIR}/"
        number = 0
        while True:
            candidate = prefix + (name if number == 0 else f"{stem} {number}{dot}{ext}")
            if candidate not in taken and not os.path.lexists(self.root / candidate):
                return candidate
            number += 1

    @contextlib.contextmanager
    def _lock(self, batch_id: str, *, wait: bool) -> Iterator[bool]:
        try:
            import fcntl
        except ImportError:  # Windows: no flock; recovery then assumes no batch is running
            yield True
            return
        make_folders(self.folder, fsync=self.fsync)
        fd = os.open(self.folder / f"{batch_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)


class Batch:
    """Operations recorded for one all-or-nothing commit. Use as a context manager or call ``commit``."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._ops: list[_Op] = []
        self._done = False

    def write(self, rel: str, data: bytes, *, if_hash: str | None = None, create: bool = False) -> None:
        """Replace (or create) ``rel`` with ``data``; ``create`` refuses an existing file."""
        self._add(_Op("write", rel, data=bytes(data), if_hash=if_hash, create=create))

    def delete(self, rel: str, *, to_trash: bool = True, if_hash: str | None = None) -> None:
        """Remove ``rel``: into ``.trash/`` (kept, like Obsidian) or for good."""
        self._add(_Op("delete", rel, to_trash=to_trash, if_hash=if_hash))

    def move(self, src: str, dst: str, *, data: bytes | None = None, if_hash: str | None = None) -> None:
        """Move a file or folder; never overwrites ``dst``. ``data`` also replaces a file's content."""
        self._add(_Op("move", src, dst=dst, data=None if data is None else bytes(data), if_hash=if_hash))

    def commit(self) -> list[str]:
        """Apply every operation, all or nothing; returns the vault-relative paths touched."""
        if self._done:
            raise RuntimeError("this batch was already committed or discarded")
        self._done = True
        if not self._ops:
            return []
        return self._journal._commit(self._ops)

    def discard(self) -> None:
        self._done = True

    @property
    def operations(self) -> int:
        return len(self._ops)

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None and not self._done:
            self.commit()
        else:
            self.discard()

    def _add(self, op: _Op) -> None:
        if self._done:
            raise RuntimeError("this batch was already committed or discarded")
        self._ops.append(op)


def _each(action: Callable[[T], R], items: list[T]) -> list[R]:
    """``action(item)`` for every item, their results in order: one after the other when there are
    few, else on a few threads. Every call has ended when this returns (nothing is left running
    behind a failure, so a roll-back never races a write), and the first failure is then raised."""
    if len(items) < BULK_SYNC_FILES:
        return [action(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    def run(part: list[T]) -> list[R]:
        return [action(item) for item in part]

    parts = [items[i : i + _PER_TASK] for i in range(0, len(items), _PER_TASK)]
    with ThreadPoolExecutor(min(_THREADS, len(parts)), thread_name_prefix="mdstore-journal") as pool:
        futures = [pool.submit(run, part) for part in parts]
    return [result for future in futures for result in future.result()]


def _check_rel(rel: str) -> None:
    # The caller validated the path; this only keeps a bug elsewhere from writing outside the vault.
    if not rel or rel.startswith("/") or ".." in rel.split("/") or "\\" in rel or "\0" in rel:
        raise InvalidPath(f"path {rel!r} is not a validated vault-relative path")


def _check_parents(root: Path, rel: str) -> None:
    # Found now rather than after the commit point, where a failure would block recovery.
    parts = rel.split("/")
    for index in range(1, len(parts)):
        folder = root.joinpath(*parts[:index])
        if os.path.lexists(folder) and not folder.is_dir():
            raise InvalidPath(f"{rel}: {'/'.join(parts[:index])} is a file, not a folder")


def _hash_of(path: Path) -> str | None:
    try:
        return content_hash(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError):
        return None


def _mode_of(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except (FileNotFoundError, NotADirectoryError):
        return None


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")
