"""How the spool writes files: whole contents go to a temp file first, then one ``rename`` publishes
them, so a reader never sees half a file. With ``durable`` the file and the folders whose entries
changed are fsynced, so a state change also survives a power cut, not only a process crash."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

TMP = "tmp"
TMP_SUFFIX = ".tmp"
_counter = itertools.count()


def write_temp(queue_dir: Path, token: str, data: bytes, durable: bool) -> Path:
    """Write ``data`` to a new file in ``tmp/`` named after its owner's token (so a dead writer's
    leftovers can be recognised and removed) and return its path."""
    path = queue_dir / TMP / f"{token}.{os.getpid()}.{next(_counter)}{TMP_SUFFIX}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    return path


def fsync_dir(path: Path) -> None:
    """Make the entries of ``path`` (names added, removed, renamed) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_owner(name: str) -> str | None:
    """The owner token in a temp file's name, or None for a name the spool did not make."""
    if not name.endswith(TMP_SUFFIX):
        return None
    token, _, _ = name.partition(".")
    return token or None
