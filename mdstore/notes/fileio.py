"""Durable, atomic file writes: the only way mdstore puts bytes into a user's vault.

Every write goes to a temp file in the target's own folder (same file system, so the final
``os.replace`` is atomic), is flushed and fsync'd, takes over the permission bits of the file it
replaces, and is then renamed over the target; the folder is fsync'd so the rename itself survives a
power cut. A reader, an editor or a crash therefore sees the old bytes or the new bytes, never a
mix. Temp files carry a recognisable name (``is_temp_name``) so the scanner and the watcher ignore
them, and a failed write removes its temp file. The name also holds the writer's pid, so the temp
file of a writer that was killed is told apart from one still being written, and a full sync
removes it (``sweep_stale_temps``).

I/O failures (disk full, permission denied) propagate as ``OSError``, which names the path;
conditions that are mdstore's business (the note exists, the note is too large) are mdstore errors.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import NoteNotFound, NoteParseError, WriteConflict

TEMP_PREFIX = ".mdstore-tmp."
TEMP_SUFFIX = ".tmp"
# The target's name is embedded (shortened) so a leftover temp file says what it was for; the
# total stays far below the usual 255-byte NAME_MAX.
_NAME_BUDGET = 80
# A temp file named before names carried a pid: only removed once it is clearly abandoned.
STALE_UNNAMED_SECONDS = 3600.0

# A file changed this recently may change again within one tick of the file system's clock without
# its mtime moving ("racy git"; FAT's clock ticks every 2 s), so a stat this recent proves nothing:
# what was read of such a file is looked at again rather than trusted.
RACY_SECONDS = 2.0


def is_temp_name(name: str) -> bool:
    """True for a file name mdstore uses for a write in progress (scanner and watcher skip these)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def temp_name_for(target: str) -> str:
    """A fresh, unique temp file name for a write to the file named ``target``."""
    short = target.encode("utf-8", "surrogateescape")[:_NAME_BUDGET].decode("utf-8", "ignore")
    return f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(8).hex()}.{short}{TEMP_SUFFIX}"


def temp_writer_pid(name: str) -> int | None:
    """The pid of the process that made the temp file ``name``, if its name records one."""
    token = name[len(TEMP_PREFIX) :].split(".", 1)[0]
    pid, dash, _ = token.partition("-")
    return int(pid) if dash and pid.isdigit() else None


def sweep_stale_temps(root: Path, rels: list[str]) -> list[str]:
    """Remove the temp files among ``rels`` (vault-relative) whose writer is dead; returns those
    removed. A live writer's temp file is left alone: it is about to be renamed into place. A
    crashed batch's staged files must be recovered first (the journal does that at open)."""
    import time

    from ..watch.ownership import pid_alive

    removed: list[str] = []
    for rel in rels:
        path = root / rel
        pid = temp_writer_pid(path.name)
        try:
            if pid is not None:
                if pid_alive(pid):
                    continue
            elif time.time() - path.lstat().st_mtime < STALE_UNNAMED_SECONDS:
                continue
            path.unlink()
        except OSError:
            continue  # gone already, or not ours to remove: the next sync looks again
        removed.append(rel)
    return removed


def fsync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (creations, renames, deletions) durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (and Windows) cannot fsync a folder; the data itself is still synced.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)


def can_sync_file_system() -> bool:
    """Whether ``sync_file_system`` exists here (Linux ``syncfs``)."""
    return _syncfs() is not None


def sync_file_system(path: Path) -> None:
    """Make every write and folder entry on the file system holding ``path`` durable at once.

    One ``syncfs`` instead of an ``fsync`` per file: a batch of many files costs one flush of the
    disk instead of one each (on this kind of disk ~3.5 ms a flush, so 1,000 files 3.5 s against a
    fraction of a second). Call ``can_sync_file_system`` first; raises ``OSError`` naming ``path``
    when the flush fails.
    """
    syncfs = _syncfs()
    if syncfs is None:
        raise OSError(errno.ENOSYS, "syncfs is not available", str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        if syncfs(fd) != 0:
            import ctypes

            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(path))
    finally:
        os.close(fd)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    import ctypes  # only here: a one-note write never needs it

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


def make_folders(folder: Path, *, fsync: bool = True) -> list[Path]:
    """Create ``folder`` and its missing parents, fsync'ing each new entry; returns those created."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise
            continue
        created.append(path)
        if fsync:
            fsync_folder(path.parent)
    return created


def write_temp(
    folder: Path, target_name: str, data: bytes, *, fsync: bool = True, mode: int | None = None
) -> Path:
    """Write ``data`` to a new temp file in ``folder`` (flushed, fsync'd) and return its path.

    ``mode`` sets the permission bits; by default the process umask applies, as for any new file.
    The temp file is removed if anything fails.
    """
    while True:
        temp = folder / temp_name_for(target_name)
        try:
            write_new(temp, data, fsync=fsync, mode=mode)
        except FileExistsError:  # a 64-bit token collided: astronomically rare, just draw again
            continue
        return temp


def write_new(path: Path, data: bytes, *, fsync: bool = True, mode: int | None = None) -> None:
    """Create ``path`` (``FileExistsError`` if it exists) holding ``data``; removed again on failure.

    Not atomic by itself: callers write under a temp name and rename or link it into place.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, mode)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(path)
        raise


def atomic_write(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Replace the content of ``path`` with ``data`` atomically; create it (and its folders) if missing.

    The existing file's permission bits are kept. A symlinked note is written at its target, so the
    link stays a link. On any failure the temp file is removed and the original is untouched.
    """
    path = _follow_link(path)
    make_folders(path.parent, fsync=fsync)
    mode = _existing_mode(path)
    temp = write_temp(path.parent, path.name, data, fsync=fsync, mode=mode)
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise
    if fsync:
        fsync_folder(path.parent)


def create_exclusive(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Create ``path`` with ``data``; never overwrites. Raises ``WriteConflict`` if it exists.

    The content is written and fsync'd under a temp name first, then hard-linked to the final name:
    ``link`` fails when the name exists, so of two racing creators exactly one wins, and no reader
    ever sees a half-written file. Where hard links are not supported, ``O_EXCL`` on the final name
    is used instead (still exclusive, but a crash mid-write could leave a short file).
    """
    make_folders(path.parent, fsync=fsync)
    temp = write_temp(path.parent, path.name, data, fsync=fsync)
    try:
        try:
            os.link(temp, path, follow_symlinks=False)
        except FileExistsError:
            raise WriteConflict(f"{path}: already exists; create never overwrites") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            _create_without_link(path, data, fsync=fsync)
    finally:
        _unlink_quietly(temp)
    if fsync:
        fsync_folder(path.parent)


def read_note_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of the note at ``path``; ``NoteNotFound`` if missing, ``NoteParseError`` if too large."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise NoteNotFound(f"{path}: no such note") from None
    except IsADirectoryError:
        raise NoteNotFound(f"{path}: is a folder, not a note") from None
    if len(data) > max_bytes:
        raise NoteParseError(f"{path}: larger than the limit of {max_bytes} bytes")
    return data


def remove_file(path: Path, *, fsync: bool = True) -> bool:
    """Delete ``path`` durably; returns False if it was already gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    if fsync:
        fsync_folder(path.parent)
    return True


def _create_without_link(path: Path, data: bytes, *, fsync: bool) -> None:
    try:
        write_new(path, data, fsync=fsync)
    except FileExistsError:
        raise WriteConflict(f"{path}: already exists; create never overwrites") from None


def _follow_link(path: Path) -> Path:
    # Only the final component matters here: replacing a symlink with a file would break it.
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def _existing_mode(path: Path) -> int | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
    return stat.S_IMODE(st.st_mode)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
