"""The owner lock: whoever holds ``.mdstore/owner.lock`` is the one process that writes the indexes.

It is an ``flock`` on a file, so the kernel releases it when the holder dies; the file's text names
the holder (pid and role) so a waiting process can say who it is waiting for.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..config import ensure_state_dir
from ..errors import IndexBusy

LOCK_NAME = "owner.lock"

# Descriptors of flocks this process holds. A forked child (multiprocessing, Whoosh's parallel
# writer) would share each lock and keep it alive after this process dies — a vault locked by an
# orphan — so children close them right after the fork.
_held: set[int] = set()


def _close_held_in_child() -> None:
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_close_held_in_child)


def not_inherited(fd: int) -> None:
    """Keep this locked descriptor out of forked children."""
    _held.add(fd)


def released(fd: int) -> None:
    _held.discard(fd)


def flock_within(fd: int, timeout: float) -> bool:
    """Take an exclusive flock on ``fd``, trying again (5 ms, doubling to 100 ms) until
    ``timeout`` seconds have passed; False if another process still holds it then."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 0.1)


def flock_held(path: Path) -> bool:
    """Whether some process holds an flock on ``path`` now (False if the file does not exist)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we may have just taken
    return False


class Holdable:
    """``with lock.hold(timeout):`` for any lock with ``acquire(timeout)`` and ``release()``."""

    def acquire(self, timeout: float) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    @contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()


class OwnerLock(Holdable):
    """``.mdstore/owner.lock`` by default; ``name``/``subject`` make the same kind of lock for
    another job (the vault's write lock, ``writes/methods.py``)."""

    def __init__(
        self, state_dir: Path, role: str = "mdstore", name: str = LOCK_NAME, subject: str = "the index"
    ) -> None:
        self.path = state_dir / name
        self.role = role
        self.subject = subject
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0
        # flock keeps other processes out; this keeps other threads of this process out.
        self._thread_lock = threading.RLock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float) -> None:
        """Take the lock, waiting at most ``timeout`` seconds; re-entrant within one thread."""
        if not self._thread_lock.acquire(timeout=max(timeout, 0.001)):
            raise IndexBusy(
                f"{self.subject} of this vault is being written by another thread of this process; "
                f"gave up after {timeout:g} s"
            )
        if self._fd is not None:
            self._depth += 1
            return
        try:
            ensure_state_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            self._thread_lock.release()
            raise
        if not flock_within(fd, timeout):
            os.close(fd)
            self._thread_lock.release()
            holder = self.holder() or "another process"
            raise IndexBusy(
                f"{self.subject} of this vault is being written by {holder}; "
                f"gave up after {timeout:g} s (raise [index] busy_timeout to wait longer)"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.role}\n".encode(), 0)
        not_inherited(fd)
        self._fd = fd
        self._pid = os.getpid()
        self._depth = 1

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            self._thread_lock.release()
            return
        fd, self._fd = self._fd, None
        if self._pid != os.getpid():
            return  # a forked child: the descriptor was closed at the fork; nothing is ours
        released(fd)
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            self._thread_lock.release()

    def holder(self) -> str | None:
        """'pid 123 (mdstore watch)' for the current holder, or None if nobody holds it."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        if not text:
            return None
        pid, _, role = text.partition(" ")
        return f"pid {pid} ({role})" if role else f"pid {pid}"

    def is_locked(self) -> bool:
        """Whether some process (possibly this one) holds the lock right now."""
        if self._fd is not None:
            return True
        try:
            return flock_held(self.path)
        except OSError:
            return False
