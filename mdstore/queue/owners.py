"""Who is alive: each open spool queue holds an ``flock`` on ``owners/<token>.lock``.

Claimed job files and temp files carry their owner's token. The kernel drops the flock when the
process dies (even on ``kill -9``), so anyone can tell a dead owner's files from a live one's by
trying the lock, without trusting pids (which are reused, and differ across containers).
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path

from ..index.lock import flock_held, not_inherited, released

OWNERS = "owners"


class OwnerToken:
    """This process's token for one queue folder, created (already locked) on first use."""

    def __init__(self, queue_dir: Path) -> None:
        self.dir = queue_dir / OWNERS
        self._token: str | None = None
        self._fd: int | None = None
        self._pid = 0

    @property
    def token(self) -> str:
        # A forked child shares the parent's open file (and so its flock): it needs its own token.
        if self._token is None or self._pid != os.getpid():
            self._acquire()
        assert self._token is not None
        return self._token

    def _acquire(self) -> None:
        self._fd = None
        self.dir.mkdir(parents=True, exist_ok=True)
        while True:
            token = secrets.token_hex(6)
            # Lock under a temporary name, then rename into place: a lock file that others can see
            # is always already locked, so nobody mistakes a starting owner for a dead one.
            staging = self.dir / f".{token}.staging"
            fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                os.rename(staging, self.dir / f"{token}.lock")
                break
            except FileNotFoundError:
                # A cleaner took the staging file for a dead one in the instant before our flock.
                os.close(fd)
        not_inherited(fd)  # a forked child must not keep this queue owner "alive" after we die
        self._token, self._fd, self._pid = token, fd, os.getpid()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid() and self._token is not None:
            try:
                os.unlink(self.dir / f"{self._token}.lock")
            except FileNotFoundError:
                pass
            released(self._fd)
            os.close(self._fd)
        self._fd = None
        self._token = None


def is_alive(queue_dir: Path, token: str) -> bool:
    """True while the owner of ``token`` holds its lock."""
    return flock_held(queue_dir / OWNERS / f"{token}.lock")


def remove_dead(queue_dir: Path, keep: str | None = None) -> int:
    """Delete the lock files of owners that died; how many."""
    removed = 0
    try:
        names = os.listdir(queue_dir / OWNERS)
    except FileNotFoundError:
        return 0
    for name in names:
        path = queue_dir / OWNERS / name
        if name.startswith("."):
            # A staging file whose creator died between create and rename; a live one is locked.
            pass
        elif not name.endswith(".lock") or name[: -len(".lock")] == keep:
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            os.unlink(path)
            removed += 1
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed
