"""Connections to the DuckDB index file, shared by every Vault of this process.

DuckDB lets one process write a file or many processes read it, never both (FACTS). So reads use a
read-only connection that is closed after a short idle time (a held read connection blocks writers
in other processes), writes open a read-write connection only for the batch they apply, and a
process that cannot get the file within ``busy_timeout`` gets ``IndexBusy``, never DuckDB's raw
lock error. Within one process a single DuckDB instance serves every thread through cursors.

Every instance is opened sandboxed (``SANDBOX``): DuckDB itself refuses file access outside its own
database, and switching that back on. Every read runs read-only: on a read-only instance DuckDB
enforces it, and on the read-write instance of a writer or the watcher daemon each read cursor
starts a ``READ ONLY`` transaction. So what a query may do never depends on what the process did
before (user SQL gets the same walls wherever it runs; see ``usersql.py``).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ensure_state_dir
from ..errors import IndexBusy, MdstoreError

if TYPE_CHECKING:
    from .stats import StatSnapshot

log = logging.getLogger("mdstore.index")
DB_NAME = "index.duckdb"
IDLE_CLOSE_SECONDS = 0.25
# A read-write connection blocks every other process, so it lingers only briefly: long enough that
# back-to-back writes of one program skip the open + checkpoint (~40 ms each), short enough that
# readers elsewhere barely notice (they wait, bounded by busy_timeout, never fail at once).
IDLE_CLOSE_WRITE_SECONDS = 0.25
# A read-write connection does not checkpoint when it closes while the write-ahead log is smaller
# than this: a one-note write's checkpoint costs ~70 ms (a fifth of a CLI `set`), and every open,
# read-only too, replays the log (~0.1 ms per KB; a one-note write adds ~6 KB). So about ten small
# writes share one checkpoint, and a reader pays at most a few milliseconds for the log.
WAL_CHECKPOINT_BYTES = 64 * 1024

# mdstore loads rows through registered Arrow tables, never files, so it needs no external access.
# DuckDB refuses to switch it back on (or to widen allowed_directories or move temp_directory) while
# the database runs. The configuration is not locked: the cold build caps memory_limit for its
# duration; user SQL cannot SET anything (usersql.py).
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

_registry: dict[Path, IndexStore] = {}
_registry_lock = threading.Lock()


def close_all() -> None:
    """Close every connection of this process (at exit, so DuckDB shuts down cleanly)."""
    with _registry_lock:
        stores = list(_registry.values())
    for store in stores:
        store.close()


atexit.register(close_all)


def store_for(state_dir: Path, busy_timeout: float) -> IndexStore:
    """The one IndexStore of this process for the index under ``state_dir``."""
    path = (state_dir / DB_NAME).resolve()
    with _registry_lock:
        store = _registry.get(path)
        if store is None:
            store = _registry[path] = IndexStore(path)
        store.busy_timeout = busy_timeout
        return store


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return (
        "Could not set lock" in text
        or "Conflicting lock" in text
        or "different configuration" in text
        or "database is locked" in text
    )


class IndexStore:
    def __init__(self, path: Path, busy_timeout: float = 10.0) -> None:
        self.path = path
        # A writer announces itself with this file; readers then let go of the database and wait,
        # so a reader querying in a loop cannot starve the writer.
        self.intent = path.with_name("writer.waiting")
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._con: Any = None
        self._read_only = True
        self._users = 0
        self._holds = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None
        # Every file's stat as the index holds it, left by this process's last sync (stats.py).
        self.stats: StatSnapshot | None = None

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A cursor for reading. Raises IndexBusy if a writer keeps the file past the timeout."""
        with self._lock:
            if self._con is not None and self._read_only and self._writer_waiting():
                self._wait_idle()
                self._close()
            if self._con is None:
                self._con = self._connect(read_only=True)
                self._read_only = True
            self._users += 1
            con = self._con
            read_write = not self._read_only
        try:
            cursor = con.cursor()
            try:
                with _translated():
                    if read_write:
                        cursor.execute("BEGIN TRANSACTION READ ONLY")
                    yield cursor
            finally:
                cursor.close()  # ends the read-only transaction, if any
        finally:
            with self._lock:
                self._users -= 1
                self._last_used = time.monotonic()
                self._schedule_close()

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A read-write connection for one batch; the caller must hold the owner lock (which also
        keeps two writers of this process apart). Readers of this process keep using cursors of
        the same instance meanwhile: DuckDB gives them the last committed state."""
        with self._lock:
            if self._con is not None and self._read_only:
                self._wait_idle()
                self._close()
            if self._con is None:
                ensure_state_dir(self.path.parent)
                self.intent.write_bytes(b"%d" % os.getpid())
                try:
                    self._con = self._connect(read_only=False)
                finally:
                    self.intent.unlink(missing_ok=True)
                self._read_only = False
                self._con.execute("PRAGMA disable_checkpoint_on_shutdown")
            self._users += 1
            con = self._con
        try:
            with _translated():
                yield con
        finally:
            with self._lock:
                self._users -= 1
                self._last_used = time.monotonic()
                # Unless a sync or the daemon holds the connection, it closes after a short idle.
                if self._holds == 0:
                    self._schedule_close()

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Keep the read-write connection open across the write() blocks inside (for short syncs,
        where opening and checkpointing twice would cost more than the work)."""
        with self._lock:
            self._holds += 1
        try:
            yield
        finally:
            with self._lock:
                self._holds -= 1
                if self._holds == 0:
                    self._last_used = time.monotonic()
                    self._schedule_close()

    def close(self) -> None:
        with self._lock:
            self._close()

    # -- internals -------------------------------------------------------------------------------

    def _connect(self, read_only: bool) -> Any:
        import duckdb

        deadline = time.monotonic() + self.busy_timeout
        delay = 0.01
        while True:
            try:
                if read_only and self._writer_waiting():
                    raise _WriterFirst
                return duckdb.connect(str(self.path), read_only=read_only, config=dict(SANDBOX))
            except (duckdb.IOException, duckdb.ConnectionException, _WriterFirst) as exc:
                if not isinstance(exc, _WriterFirst) and not _is_lock_error(exc):
                    raise MdstoreError(f"cannot open the index {self.path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"the index {self.path} is in use by another process; gave up after "
                        f"{self.busy_timeout:g} s (is a sync running? raise [index] busy_timeout "
                        "to wait longer)"
                    ) from exc
                # Release our own lock while we wait, so a writer elsewhere can finish.
                self._lock.release()
                try:
                    time.sleep(delay)
                finally:
                    self._lock.acquire()
                delay = min(delay * 2, 0.2)
            except duckdb.Error as exc:
                raise MdstoreError(f"cannot open the index {self.path}: {exc}") from exc

    def _writer_waiting(self) -> bool:
        from ..watch.ownership import pid_alive

        try:
            age = time.time() - self.intent.stat().st_mtime
            pid = int(self.intent.read_bytes().strip() or 0)
        except (OSError, ValueError):
            return False
        if pid and not pid_alive(pid):
            return False  # a writer killed while it waited: readers need not defer to it
        return age < max(self.busy_timeout, 60.0)  # a marker without a live pid goes stale

    def _wait_idle(self) -> None:
        while self._users > 0:
            self._lock.release()
            try:
                time.sleep(0.002)
            finally:
                self._lock.acquire()

    def _close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._con is not None and self._users == 0:
            try:
                if not self._read_only and self._wal_bytes() >= WAL_CHECKPOINT_BYTES:
                    self._checkpoint()
                self._con.close()
            finally:
                self._con = None

    def _wal_bytes(self) -> int:
        try:
            return self.path.with_name(self.path.name + ".wal").stat().st_size
        except OSError:
            return 0

    def _checkpoint(self) -> None:
        import duckdb

        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # the log stays and is replayed at the next open: nothing lost
            log.debug("no checkpoint at close of %s: %s", self.path, exc)

    def _schedule_close(self) -> None:
        if self._timer is not None or self._con is None:
            return
        delay = IDLE_CLOSE_SECONDS if self._read_only else IDLE_CLOSE_WRITE_SECONDS
        timer = threading.Timer(delay, self._idle_check)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _idle_check(self) -> None:
        with self._lock:
            self._timer = None
            if self._con is None:
                return
            idle = time.monotonic() - self._last_used
            limit = IDLE_CLOSE_SECONDS if self._read_only else IDLE_CLOSE_WRITE_SECONDS
            if self._holds == 0 and self._users == 0 and (idle >= limit or self._writer_waiting()):
                self._close()
            elif self._holds == 0:
                self._schedule_close()


class _WriterFirst(Exception):
    """A writer is waiting for the file: readers step back."""


@contextmanager
def _translated() -> Iterator[None]:
    """DuckDB's exceptions become mdstore's (QueryError), here where DuckDB is called."""
    try:
        yield
    except Exception as exc:
        translated = _translate(exc)
        if translated is exc:
            raise
        raise translated from exc


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, MdstoreError):
        return exc
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return exc
    if isinstance(exc, duckdb.Error):
        from ..errors import QueryError

        return QueryError(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return exc
