"""``VaultBatch``: the write operations of the Vault API, recorded and then applied all or nothing.

Every Vault write is a batch: ``vault.update(...)`` is a batch of one. An operation reads the note
(or the content an earlier operation of the same batch gave it), computes the new bytes with the
lossless editors (``notes/fmedit.py``) and records them with a compare-and-swap on the bytes it read,
so an edit made meanwhile in an editor is never clobbered. ``commit`` then applies everything:

- one plain write (the common case) goes straight through ``atomic_write``/``create_exclusive``:
  a single file replace is already atomic, and skipping the journal saves its fsyncs;
- anything else goes through the journal (``notes/journal.py``), which rolls an interrupted batch
  forward or back at the next open.

The batch knows nothing of the index: the Vault syncs the touched paths after ``commit``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidPath, MdstoreError, NoteNotFound, NoteParseError, WriteConflict
from ..notes.model import content_hash
from ..notes.paths import PathCache

if TYPE_CHECKING:
    from ..vault import Vault


@dataclass
class _Pending:
    kind: str  # "write" | "move" | "delete"
    path: str
    data: bytes | None = None
    dst: str | None = None
    if_hash: str | None = None
    create: bool = False
    permanent: bool = False


@dataclass(frozen=True)
class MoveReport:
    """What ``move`` did: every file moved (old path, new path) and the notes whose links changed.
    ``skipped``: notes whose links to the moved files were left as they are because the note is not
    UTF-8 text (mdstore never rewrites such a file); fix those links by hand."""

    moved: tuple[tuple[str, str], ...]
    rewritten: tuple[str, ...]
    links: int  # links rewritten, in all notes
    skipped: tuple[str, ...] = ()


class VaultBatch:
    """Writes recorded for one all-or-nothing commit; use ``with vault.batch() as b:``.

    The methods mirror the Vault's (``create``, ``update``, ``append``, ``move``, ``delete``); the files
    change when the ``with`` block ends without an exception (nothing changes if it raises).
    """

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._ops: list[_Pending] = []
        self._writes: dict[str, _Pending] = {}  # path -> its write op (later writes merge into it)
        self._state: dict[str, bytes | None] = {}  # content after the recorded ops (None: gone)
        self._done = False
        # Each folder moved: (its path, its new path, every folder under it, relative to it).
        self._moved_folders: list[tuple[str, str, list[str]]] = []
        self._paths = PathCache()  # the batch's path checks share folder listings
        self.touched: list[str] = []
        self.moves: list[MoveReport] = []

    # -- the operations ----------------------------------------------------------------------

    def create(
        self,
        path: str,
        frontmatter: Mapping[str, Any] | None = None,
        body: str = "",
        *,
        template: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> str:
        """Record a new note; ``WriteConflict`` (at once or at commit) if ``path`` exists."""
        from ..notes.fmedit import append_text, replace_body, set_keys

        rel = self._note(path)
        if self._current(rel) is not None:
            raise WriteConflict(f"{rel}: already exists; create never overwrites")
        data = b""
        if template is not None:
            data = self._template(template, rel, variables)
            if body:
                data = append_text(data, body, path=rel)
        elif body:
            data = replace_body(b"", body, path=rel)  # a body is never read back as frontmatter
        if frontmatter:
            data = set_keys(data, dict(frontmatter), path=rel)
        self._write(rel, data, create=True)
        return rel

    def update(
        self,
        path: str,
        set: Mapping[str, Any] | None = None,  # noqa: A002 - the API's word
        unset: Iterable[str] = (),
        body: str | None = None,
        *,
        if_hash: str | None = None,
    ) -> str:
        """Record a frontmatter/body edit (nothing is recorded if nothing changes); returns the path."""
        from ..notes.fmedit import replace_body, set_keys

        rel = self._note(path, must_exist=True)
        old = self._existing(rel, if_hash)
        if isinstance(unset, str):
            unset = [unset]
        new = set_keys(old, dict(set or {}), list(unset), path=rel)
        if body is not None:
            new = replace_body(new, body, path=rel)
        if new != old:
            self._write(rel, new, if_hash=if_hash, base=old)
        return rel

    def append(
        self, path: str, text: str, under_heading: str | None = None, *, if_hash: str | None = None
    ) -> str:
        """Record appended lines (at the end, or at the end of a heading's section); returns the path."""
        from ..notes.fmedit import append_text

        rel = self._note(path, must_exist=True)
        old = self._existing(rel, if_hash)
        new = append_text(old, text, under_heading, path=rel)
        if new != old:
            self._write(rel, new, if_hash=if_hash, base=old)
        return rel

    def write_bytes(
        self, path: str, data: bytes, *, if_hash: str | None = None, any_file: bool = False
    ) -> bool:
        """Record ``data`` as the whole new content of ``path`` (created if missing).
        ``any_file`` takes the path as given (an attachment), without adding a note extension."""
        rel = self._note(path, any_file=any_file)
        old = self._current(rel)
        if if_hash is not None and (old is None or content_hash(old) != if_hash):
            raise WriteConflict(f"{rel}: changed since it was read (if_hash did not match)")
        if old == data:
            return False
        self._write(rel, bytes(data), if_hash=if_hash, create=old is None, base=old)
        return True

    def delete(
        self, path: str, *, if_hash: str | None = None, permanent: bool = False, any_file: bool = False
    ) -> str:
        """Record the removal of a note: into ``.trash/`` (like Obsidian), or for good; returns its
        vault path."""
        rel = self._note(path, must_exist=True, any_file=any_file)
        if rel in self._writes or rel in self._state:
            raise InvalidPath(f"{rel}: already changed by this batch; delete it in a batch of its own")
        if if_hash is not None:
            self._existing(rel, if_hash)
        self._ops.append(_Pending("delete", rel, if_hash=if_hash, permanent=permanent))
        self._state[rel] = None
        return rel

    def move(self, src: str, dst: str, *, update_links: bool = True) -> MoveReport:
        """Record the move of a note or a folder (every file in it), and the link rewrites it needs."""
        from .moves import MovePlan, plan_move

        pairs = self._move_pairs(src, dst)
        for _old, new in pairs:
            self._paths.plan(self._vault.root, new)
        plan = plan_move(self._vault._core, dict(pairs), self._current) if update_links else MovePlan()
        rewrites = plan.rewrites
        links = 0
        for old, new in pairs:
            edit = rewrites.pop(old, None)
            data = edit[0] if edit else None
            links += edit[1] if edit else 0
            self._ops.append(_Pending("move", old, data=data, dst=new, if_hash=self._hash_now(old)))
            self._state[new] = data if data is not None else self._current(old)
            self._state[old] = None
        for rel, (data, count) in rewrites.items():
            links += count
            self._write(rel, data, if_hash=self._hash_now(rel))
        report = MoveReport(tuple(pairs), tuple(sorted(rewrites)), links, tuple(sorted(plan.skipped)))
        self.moves.append(report)
        return report

    # -- committing --------------------------------------------------------------------------

    def commit(self) -> list[str]:
        """Apply every recorded operation, all or nothing; returns the vault paths touched."""
        if self._done:
            raise RuntimeError("this batch was already committed or discarded")
        self._done = True
        if not self._ops:
            return []
        root = self._vault.root
        if len(self._ops) == 1 and self._ops[0].kind == "write":
            op = self._ops[0]
            self._single_write(root, op)
            self.touched = [op.path]
            return self.touched
        from ..notes.journal import Journal

        journal = Journal(root).begin()
        for op in self._ops:
            if op.kind == "write":
                journal.write(op.path, op.data or b"", if_hash=op.if_hash, create=op.create)
            elif op.kind == "delete":
                journal.delete(op.path, to_trash=not op.permanent, if_hash=op.if_hash)
            else:
                assert op.dst is not None
                journal.move(op.path, op.dst, data=op.data, if_hash=op.if_hash)
        journal.commit()
        touched: dict[str, None] = {}
        for op in self._ops:
            touched[op.path] = None
            if op.dst is not None:
                touched[op.dst] = None
        self.touched = list(touched)
        self._finish_folder_moves()
        return self.touched

    def discard(self) -> None:
        self._done = True

    def __enter__(self) -> VaultBatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None or self._done:
            self.discard()
            return
        self._vault._commit_batch(self)

    # -- internals ---------------------------------------------------------------------------

    def _note(self, path: str, *, must_exist: bool = False, any_file: bool = False) -> str:
        from ..notes.paths import validate_note_path

        self._check_open()
        exts = self._vault.config.vault.extensions
        rel = validate_note_path(
            self._vault.root, path, extensions=exts, add_extension=not any_file, cache=self._paths
        )
        if must_exist and self._current(rel) is None:
            from ..notes.paths import no_such_note

            raise no_such_note(self._vault.root, path, exts, f"no note {rel!r} in {self._vault.root}")
        return rel

    def _check_open(self) -> None:
        if self._done:
            raise RuntimeError("this batch was already committed or discarded")

    def _current(self, rel: str) -> bytes | None:
        """The content of ``rel`` as this batch leaves it so far (None: does not exist)."""
        if rel in self._state:
            return self._state[rel]
        try:
            return (self._vault.root / rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:  # unreadable: never mistaken for missing, never a raw traceback
            raise NoteParseError(f"cannot read {rel}: {exc.strerror or exc}") from exc

    def _hash_now(self, rel: str) -> str | None:
        if rel in self._state:
            return None  # changed inside this batch: the journal checks the original op instead
        data = self._current(rel)
        return None if data is None else content_hash(data)

    def _existing(self, rel: str, if_hash: str | None) -> bytes:
        data = self._current(rel)
        if data is None:
            raise NoteNotFound(f"no note {rel!r} in {self._vault.root}")
        if if_hash is not None and rel not in self._state and content_hash(data) != if_hash:
            raise WriteConflict(f"{rel}: changed since it was read (if_hash did not match)")
        return data

    def _write(
        self,
        rel: str,
        data: bytes,
        *,
        if_hash: str | None = None,
        create: bool = False,
        base: bytes | None = None,
    ) -> None:
        """Record ``data`` for ``rel``; ``base`` is the content the edit was computed from."""
        pending = self._writes.get(rel)
        if pending is not None:
            pending.data = data  # a second edit of the same note in this batch: one write of the result
        elif rel in self._state:
            raise InvalidPath(f"path {rel!r} is used by more than one operation of the batch")
        else:
            if if_hash is None and not create:
                # Compare-and-swap on what was read, always: an editor's save meanwhile wins over us.
                if_hash = content_hash(base) if base is not None else self._hash_now(rel)
            pending = _Pending("write", rel, data=data, if_hash=if_hash, create=create)
            if create:
                self._paths.plan(self._vault.root, rel)
            self._writes[rel] = pending
            self._ops.append(pending)
        self._state[rel] = data

    def _single_write(self, root: Path, op: _Pending) -> None:
        from ..notes.fileio import atomic_write, create_exclusive, make_folders

        target = root / op.path
        assert op.data is not None
        if op.create:
            try:
                create_exclusive(target, op.data)
            except WriteConflict:
                raise WriteConflict(f"{op.path}: already exists; create never overwrites") from None
            return
        if op.if_hash is not None:
            try:
                current = content_hash(target.read_bytes())
            except FileNotFoundError:
                raise WriteConflict(f"{op.path}: was deleted since it was read") from None
            if current != op.if_hash:
                raise WriteConflict(f"{op.path}: changed since it was read (if_hash did not match)")
        make_folders(target.parent)
        atomic_write(target, op.data)

    def _template(self, name: str, rel: str, variables: Mapping[str, Any] | None) -> bytes:
        from ..notes.fmedit import utf8_text
        from ..notes.paths import validate_note_path
        from .templates import TEMPLATE_FOLDER, render

        exts = self._vault.config.vault.extensions
        if "/" not in name:
            name = f"{TEMPLATE_FOLDER}/{name}"
        try:
            tpl = validate_note_path(
                self._vault.root, name, extensions=exts, must_exist=True, argument="template"
            )
        except NoteNotFound:
            raise NoteNotFound(f"no template {name!r} in {self._vault.root}") from None
        text = utf8_text((self._vault.root / tpl).read_bytes(), tpl)
        title = rel.rpartition("/")[2].rpartition(".")[0]
        return render(text, title, variables).encode("utf-8", "surrogateescape")

    def _move_pairs(self, src: str, dst: str) -> list[tuple[str, str]]:
        from ..notes.paths import renamed_in_place, validate_folder_path, validate_note_path

        self._check_open()
        root = self._vault.root
        exts = self._vault.config.vault.extensions
        text = src.rstrip("/")
        full = root / text
        if text and full.is_dir() and not full.is_symlink():
            folder = validate_folder_path(root, text, must_exist=True, argument="src", cache=self._paths)
            target = dst.rstrip("/")
            if (root / target).is_dir():
                target = f"{target}/{folder.rpartition('/')[2]}"
            new_folder = validate_folder_path(root, target, argument="dst", cache=self._paths)
            if new_folder == folder or new_folder.startswith(folder + "/"):
                raise InvalidPath(f"dst {dst!r}: cannot move folder {folder!r} into itself")
            if os.path.lexists(root / new_folder):
                raise WriteConflict(f"{new_folder}: already exists; a move never overwrites")
            pairs = []
            files, folders = _tree_under(full, folder)
            for path in sorted(files):
                old = f"{folder}/{path}"
                pairs.append((old, f"{new_folder}/{path}"))
            if not pairs:
                raise NoteNotFound(f"src {src!r}: the folder holds no files to move")
            self._moved_folders.append((folder, new_folder, folders))
            return pairs
        old = validate_note_path(
            root, src, extensions=exts, must_exist=True, argument="src", cache=self._paths
        )
        if self._current(old) is None:
            raise NoteNotFound(f"no note {old!r} in {root}")
        target = dst
        if dst.endswith("/") or (root / dst.rstrip("/")).is_dir():
            target = f"{dst.rstrip('/')}/{old.rpartition('/')[2]}"
        new = validate_note_path(
            root, target, extensions=exts, argument="dst", cache=self._paths, renaming=old
        )
        if new == old:
            raise InvalidPath(f"dst {dst!r}: is the note's own path")
        if self._current(new) is not None and not renamed_in_place(root, old, new):
            raise WriteConflict(f"{new}: already exists; a move never overwrites")
        return [(old, new)]

    def _finish_folder_moves(self) -> None:
        """A moved folder is moved file by file; then the folders that held no file (already empty
        before the move) are made at the destination, so the whole tree arrives, and the emptied
        folders at the source go, as with ``mv``. A crash in between leaves empty folders behind,
        never loses one."""
        from ..notes.fileio import make_folders

        root = self._vault.root
        for folder, new_folder, subfolders in self._moved_folders:
            for sub in subfolders:
                make_folders(root / new_folder / sub)
            top = root / folder
            for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass  # not empty: something appeared there meanwhile; leave it


def _tree_under(folder: Path, rel: str) -> tuple[list[str], list[str]]:
    """The files and the folders under ``folder`` (the vault folder ``rel``), relative to it;
    ``.git`` folders are left out (a repository is not moved piecemeal)."""
    out: list[str] = []
    folders: list[str] = []

    def unreadable(exc: OSError) -> None:
        # A folder that cannot be listed is not empty: moving part of it would scatter the notes.
        sub = Path(exc.filename).relative_to(folder).as_posix() if exc.filename else "."
        where = rel if sub == "." else f"{rel}/{sub}"
        reason = exc.strerror or exc
        raise MdstoreError(f"cannot read the folder {where}: {reason}; nothing was moved") from exc

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        base = Path(dirpath).relative_to(folder)
        folders.extend((base / d).as_posix() for d in dirnames if not os.path.islink(Path(dirpath, d)))
        for name in filenames:
            out.append((base / name).as_posix())
    return out, folders
