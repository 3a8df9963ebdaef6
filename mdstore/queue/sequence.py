"""The queue's lock file: an ``flock`` that serialises id checks and hands out a sequence number.

Jobs (and channel messages) are ordered by this sequence, never by the wall clock, so FIFO order
holds even if the clock jumps back. The counter is 8 bytes at the start of ``<queue>/lock``.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = "lock"


class Sequence:
    def __init__(self, queue_dir: Path) -> None:
        self.path = queue_dir / LOCK
        self._fd: int | None = None
        self._pid = 0
        # flock is per open file, not per thread: threads of one process also need a mutex.
        self._mutex = threading.Lock()

    def _file(self) -> int:
        # A forked child must not share the parent's open file (it would share the flock too).
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._mutex:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def take(self, count: int = 1) -> int:
        """Reserve ``count`` numbers and return the first; call inside ``locked()``."""
        fd = self._file()
        raw = os.pread(fd, 8, 0)
        first = int.from_bytes(raw, "big") + 1 if len(raw) == 8 else 1
        os.pwrite(fd, (first + count - 1).to_bytes(8, "big"), 0)
        return first

    def current(self) -> int:
        """The last number handed out (0 if none), read without the lock."""
        raw = os.pread(self._file(), 8, 0)
        return int.from_bytes(raw, "big") if len(raw) == 8 else 0

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None
