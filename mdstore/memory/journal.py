"""The durable write-behind journal of one session log, ``.mdstore/memory/sessions/<key>/``, and
of the insights, ``.mdstore/memory/insights/`` (insightlog.py).

An append is one JSON line written (``O_APPEND``) to ``live.jsonl`` under an exclusive ``flock``
of ``lock``: once ``append`` returns, the entry is in the kernel's page cache, so a ``kill -9`` of
the writer loses nothing (with ``fsync`` on, a power cut neither). A flush *rotates* ``live.jsonl``
to ``r-<ns>.jsonl`` (a rename, under the same lock, so appenders never wait for the note write),
writes the rotated entries to the session note, then deletes the rotated file. Entries carry ids,
so a flush interrupted between the note write and the delete is finished by the next one without
writing an entry twice. Readers take a shared lock to read the journal files, then read the note.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..index.lock import flock_within

LIVE = "live.jsonl"
META = "meta.json"


class SessionJournal:
    def __init__(self, folder: Path, session: str, *, fsync: bool = False) -> None:
        self.folder = folder
        self.session = session
        self._fsync = fsync
        self._lock_fd: int | None = None
        # flock excludes other processes only: two threads of this one (an appender and the
        # background flusher) share the descriptor, and flock would let both in at once. Then a
        # rotation could slip between an append's look at the live file and its write, and the
        # line would land in a rotated file already read, and be deleted with it.
        self._threads = threading.Lock()
        self._live_fd: int | None = None
        self._live_ino: int | None = None
        self._remember = False  # remember_session was called: a remade folder gets meta.json again

    # -- writing -------------------------------------------------------------------------------

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._locked(fcntl.LOCK_EX):
            fd = self._live()
            os.write(fd, line)
            if self._fsync:
                os.fsync(fd)

    def write_if(
        self, make: Callable[[list[dict[str, Any]]], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Write the record ``make`` returns given the pending ones (nothing for None), both
        under the exclusive lock: no other process adds a record in between."""
        with self._locked(fcntl.LOCK_EX):
            found = make(self._pending_here())
            if found is not None:
                fd = self._live()
                os.write(fd, (json.dumps(found, ensure_ascii=False) + "\n").encode("utf-8"))
                if self._fsync:
                    os.fsync(fd)
            return found

    def rotate(self) -> None:
        """Move the live file aside for a flush (appends continue in a new live file)."""
        with self._locked(fcntl.LOCK_EX):
            live = self.folder / LIVE
            try:
                if live.stat().st_size == 0:
                    return
            except FileNotFoundError:
                return
            # Names sort by time: rotated files are flushed in the order they were written.
            os.replace(live, self.folder / f"r-{time.time_ns():020d}-{os.getpid()}.jsonl")

    def rotated(self) -> list[Path]:
        return sorted(self.folder.glob("r-*.jsonl"))

    def read_rotated(self) -> list[dict[str, Any]]:
        return [r for p in self.rotated() for r in read_records(p)]

    def pending(self) -> list[dict[str, Any]]:
        """Every acknowledged entry not yet known to be in the note, oldest first."""
        if not self.folder.is_dir():
            return []
        with self._locked(fcntl.LOCK_SH):
            return self._pending_here()

    def _pending_here(self) -> list[dict[str, Any]]:
        return [*self.read_rotated(), *read_records(self.folder / LIVE)]

    @contextmanager
    def flushing(self, wait: float = 0.0) -> Iterator[bool]:
        """The flush turn of this session (one flusher at a time, across processes); yields
        False when another flusher still has it after ``wait`` seconds."""
        while True:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.folder / "flush.lock", os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # removed between the two: make it anew
                continue
            mine = flock_within(fd, wait)
            if not mine or _same_file(fd, self.folder / "flush.lock"):
                break
            os.close(fd)  # a turn taken on a removed folder's lock excludes no one: take it again
        try:
            yield mine
        finally:
            os.close(fd)  # closing releases the flock

    def remember_session(self) -> None:
        """Name the session in ``meta.json`` (how other processes find what waits in a journal);
        written again whenever the folder has to be made anew."""
        self._remember = True
        self._write_meta()

    def _write_meta(self) -> None:
        meta = self.folder / META
        if not meta.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{META}.{os.getpid()}"
            tmp.write_text(json.dumps({"session": self.session}), encoding="utf-8")
            os.replace(tmp, meta)

    def close(self) -> None:
        with self._threads:
            for fd in (self._live_fd, self._lock_fd):
                if fd is not None:
                    os.close(fd)
            self._live_fd = self._lock_fd = None

    # -- internals -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        with self._threads:
            fd = self._lock()
            fcntl.flock(fd, mode)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock(self) -> int:
        """The lock file's descriptor, holding no lock yet. Dream removes a journal folder with
        nothing waiting (under its lock, remove_idle): a descriptor of a lock file that is no
        longer in the folder locks nothing, so the folder is made anew and the lock reopened."""
        while True:
            if self._lock_fd is None:
                try:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    self._lock_fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
                    if self._remember:
                        self._write_meta()
                except FileNotFoundError:  # removed again between the two: make it anew
                    continue
            if _same_file(self._lock_fd, self.folder / "lock"):
                return self._lock_fd
            # Removed: the live file went with it, and appends must go to the new folder's.
            for fd in (self._lock_fd, self._live_fd):
                if fd is not None:
                    os.close(fd)
            self._lock_fd = self._live_fd = self._live_ino = None

    def _live(self) -> int:
        """The live file's descriptor, reopened when a flush (of any process) rotated it away."""
        path = self.folder / LIVE
        try:
            ino = path.stat().st_ino
        except FileNotFoundError:
            ino = None
        if self._live_fd is None or ino != self._live_ino:
            if self._live_fd is not None:
                os.close(self._live_fd)
                self._live_fd = None  # closed: never closed twice, even if the open fails
            self._live_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._live_ino = os.fstat(self._live_fd).st_ino
        return self._live_fd


def remove_idle(folder: Path) -> bool:
    """Remove a session journal's folder if nothing waits in it and no process is writing or
    flushing it (both its locks taken without waiting); False when it was left. A process that
    still holds the journal open makes the folder anew at its next write (``_lock``)."""
    import shutil

    fds = []
    try:
        for name in ("flush.lock", "lock"):  # the order of a flush: its turn, then the journal
            try:
                fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                return False  # removed meanwhile
            fds.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            if not _same_file(fd, folder / name):
                return False  # removed and made anew meanwhile
        try:
            live = (folder / LIVE).stat().st_size
        except FileNotFoundError:
            live = 0
        if live or any(folder.glob("r-*.jsonl")):
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True
    finally:
        for fd in fds:
            os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = path.stat()
    except FileNotFoundError:
        return False
    here = os.fstat(fd)
    return (here.st_ino, here.st_dev) == (there.st_ino, there.st_dev)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a journal file; a torn last line (a crash mid-write, before the
    append was acknowledged) is ignored."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for raw in data.split(b"\n")[:-1]:  # after the last newline: nothing, or a torn line
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict) and "id" in record:
            out.append(record)
    return out
