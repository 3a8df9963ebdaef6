"""The daemon owns the index for its whole life: it takes the owner lock once, as "mdstore watch",
and its threads (indexer, socket requests) take turns writing through ``SharedOwnerLock``.

``OwnerLock`` ties its flock to the thread that took it, so the daemon cannot simply hand that
lock to other threads; this facade stands in for it inside the daemon's Vault.
"""

from __future__ import annotations

import os
import threading
import time

from ..config import Config
from ..errors import IndexBusy
from ..index.lock import Holdable, OwnerLock

ROLE = "mdstore watch"
SOCKET_NAME = "owner.sock"
"""The daemon's socket in the state folder; its presence tells a process that a daemon may run."""


def claim(config: Config) -> OwnerLock:
    """Take the owner lock for a daemon. Another daemon: ``IndexBusy`` naming it, at once. Another
    writer (a sync, an API write): wait for it up to ``index.busy_timeout``."""
    lock = OwnerLock(config.state_dir, role=ROLE)
    deadline = time.monotonic() + config.index.busy_timeout
    while True:
        try:
            # A short wait: a client probing the lock holds it for microseconds.
            lock.acquire(0.5)
            return lock
        except IndexBusy:
            holder = lock.holder()
            if holder and holder.endswith(f"({ROLE})") and holder_alive(holder):
                raise IndexBusy(
                    f"a watcher daemon already runs for {config.root}: {holder} holds the index "
                    "(stop it first; `mdstore status` shows it)"
                ) from None
            if time.monotonic() >= deadline:
                raise IndexBusy(
                    f"the index of {config.root} is being written by {holder or 'another process'}; "
                    f"gave up after {config.index.busy_timeout:g} s"
                ) from None


def holder_pid(holder: str | None) -> int | None:
    """The pid in an OwnerLock holder text such as 'pid 123 (mdstore watch)'."""
    if not holder or not holder.startswith("pid "):
        return None
    try:
        return int(holder.split()[1])
    except (IndexError, ValueError):
        return None


def holder_alive(holder: str | None) -> bool:
    pid = holder_pid(holder)
    return pid is not None and pid_alive(pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True


class SharedOwnerLock(Holdable):
    """What the daemon's Vault uses as its owner lock: the flock is held already, so taking it is
    only taking a turn among the daemon's threads."""

    def __init__(self, owner: OwnerLock) -> None:
        self._owner = owner
        self.path = owner.path
        self.role = owner.role
        self._turn = threading.RLock()

    @property
    def held(self) -> bool:
        return True

    def acquire(self, timeout: float) -> None:
        if not self._turn.acquire(timeout=max(timeout, 0.001)):
            raise IndexBusy(
                "the watcher daemon of this vault is busy indexing (a full scan?); "
                f"gave up after {timeout:g} s "
                "(raise [index] busy_timeout to wait longer)"
            )

    def release(self) -> None:
        self._turn.release()

    def holder(self) -> str | None:
        return self._owner.holder()

    def is_locked(self) -> bool:
        return True
