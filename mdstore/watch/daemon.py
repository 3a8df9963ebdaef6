"""``Watcher``: the daemon that keeps every index of a vault current as its files change, and
serves reads to other processes (docs/watch.md).

Threads: watchdog's observer feeds the backlog (names only); one indexer thread takes due batches
and runs the one sync pipeline on them (targeted, or a full reconciling scan after a storm, an
inotify overflow, a git HEAD move, and every ``rescan_interval``); the socket server answers other
processes from the same Vault. The daemon holds the owner lock and the index's read-write
connection for its whole life, so readers in this process use cursors of that same DuckDB instance
and see each batch whole, when it commits.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from ..notes.model import SyncReport
from .backlog import Backlog, Batch
from .events import EventRouter, OverflowAlarm, event_filter, files_under
from .ownership import ROLE, SharedOwnerLock, claim
from .server import OwnerServer
from .status import remove_status, status_path, write_status
from .subscriptions import DEFAULT_PATTERN, ChangeEvent, Hub, Subscription, events_of
from .wire import SOCKET_NAME

if TYPE_CHECKING:
    from ..config import Config
    from ..core import VaultCore
    from ..index.lock import OwnerLock
    from ..team.live import LiveSync

log = logging.getLogger("mdstore.watch")


class Watched(Protocol):
    """What the watcher needs of the vault it watches (the ``Vault`` facade)."""

    config: Config
    _core: VaultCore

    def _watching(self, watcher: Watcher | None) -> None: ...
    def search_status(self) -> dict[str, Any]: ...
    def sql(self, query: str, params: Any = None) -> Any: ...
    def _catch_up_search(self, label: str) -> None: ...


class Watcher:
    """Watch ``vault`` (opened by the caller; the watcher makes it the owner).

    >>> w = Watcher(vault).start()   # background threads; w.stop() ends them
    >>> Watcher(vault).run()         # foreground until SIGINT/SIGTERM
    """

    def __init__(self, vault: Watched, *, serve: bool = True) -> None:
        self.vault = vault
        self.core = vault._core
        self.config = vault.config
        s = self.config.watch
        self.backlog = Backlog(
            s.debounce_ms / 1000, s.max_delay_ms / 1000, s.settle_ms / 1000, s.storm_threshold
        )
        self.hub = Hub()
        self.serve = serve
        self.router = EventRouter(self.config, self.backlog)
        self.alarm = OverflowAlarm(self.backlog)
        self._owner: OwnerLock | None = None
        self._turns: SharedOwnerLock | None = None
        self._observer: Any = None
        self._server: OwnerServer | None = None
        self._indexer: threading.Thread | None = None
        self._team: LiveSync | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._done = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._status_file = status_path(self.config)
        self._stats: dict[str, Any] = {
            "pid": os.getpid(),
            "role": ROLE,
            "vault": str(self.config.root),
            "started_at": time.time(),
            "last_event_at": None,
            "last_sync_at": None,
            "last_sync_seconds": None,
            "syncs": 0,
            "full_scans": 0,
            "socket": str(self.config.state_dir / SOCKET_NAME) if serve else None,
            "last_error": None,
        }

    # -- life ------------------------------------------------------------------------------------

    def start(self, wait: bool = True) -> Watcher:
        """Take ownership, start watching and serving, and run the catch-up scan (waited for unless
        ``wait=False``). ``IndexBusy`` if another daemon runs for this vault."""
        from .client import forget

        self._owner = claim(self.config)
        try:
            self._turns = SharedOwnerLock(self._owner)
            self.core.become_owner(self._turns, self.sync)
            self.vault._watching(self)
            self.core.add_closer(self.stop)  # closing the vault stops its watcher first
            forget(self.config)
            self._wake_r, self._wake_w = os.pipe()
            # Watch before the catch-up scan, so nothing changed during it is missed.
            self.alarm.attach()
            self._observer = self._start_observer()
            if self.serve:
                self._server = OwnerServer(
                    self.config.state_dir / SOCKET_NAME, self._operations(), self._handle_stream
                )
                self._server.start()
            self._heartbeat()
            self._indexer = threading.Thread(target=self._index_loop, name="mdstore-indexer", daemon=True)
            self._indexer.start()
            from ..team.live import start_live_sync

            self._team = start_live_sync(self)  # with [team] set: push changes, pull on notify
        except BaseException:
            self._teardown()
            raise
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the catch-up scan is done (the index matches the files as of start)."""
        return self._ready.wait(timeout)

    def run(self) -> None:
        """Start, then block until SIGINT/SIGTERM (or ``stop()``); finish the batch in flight, let go
        of the index and the socket, and return."""
        in_main = threading.current_thread() is threading.main_thread()
        previous: dict[signal.Signals, Any] = {}
        if self._owner is None:
            self.start(wait=False)
        try:
            if in_main:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    previous[sig] = signal.signal(sig, self._on_signal)
            while not self._stopping:
                try:
                    select.select([self._wake_r], [], [])
                except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for safety
                    continue
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Stop watching and serving; the batch in flight completes first. Idempotent."""
        self._stopping = True
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
        self._teardown()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_signal(self, signum: int, frame: Any) -> None:
        # Only a flag and a pipe write here: the main thread does the rest outside the handler.
        self._stopping = True
        os.write(self._wake_w, b"x")

    def _start_observer(self) -> Any:
        import warnings

        from watchdog.observers import Observer

        # watchdog warns (from its own thread) when a folder moved out comes back with the same
        # inode; harmless, but fatal to that thread where warnings are errors (-W error).
        warnings.filterwarnings(
            "ignore", message="Callback with id .* already exists", category=RuntimeWarning
        )
        observer = Observer()
        observer.schedule(
            cast(Any, self.router), str(self.config.root), recursive=True, event_filter=event_filter()
        )
        observer.daemon = True
        observer.start()
        return observer

    def _check_observer(self) -> None:
        """A dead observer thread hears nothing: start a new one and rescan what it may have missed."""
        if self._observer is None or self._observer.is_alive() or self._stopping:
            return
        log.error("the file watcher thread died; restarting it and rescanning")
        try:
            self._observer.stop()
        except Exception:  # already dead: nothing to stop
            pass
        self._observer = self._start_observer()
        self.backlog.request_full("watcher restarted")

    def _teardown(self) -> None:
        if self._done.is_set():
            return
        if self._team is not None:
            self._team.stop()
        self._stopping = True
        if self._observer is not None:
            self._observer.stop()
        self.backlog.close()
        if self._server is not None:
            self._server.close()
        if self._indexer is not None and self._indexer is not threading.current_thread():
            self._indexer.join()
        if self._observer is not None:
            self._observer.join(timeout=10)
        self.alarm.detach()
        self.hub.close()
        remove_status(self._status_file)
        if self._owner is not None:  # it became the owner: let go
            self.vault._watching(None)
            self.core.stop_owning()
            self.core.store.close()
            self._owner.release()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        self._done.set()

    # -- indexing --------------------------------------------------------------------------------

    def sync(self, paths: Sequence[str] | None = None, *, rebuild: bool = False) -> SyncReport:
        """The owner's sync (what the indexer runs and what clients' ``sync`` calls reach): one at a
        time, and its change events are published, in order, once the index has them."""
        assert self._turns is not None, "the watcher is not started"
        with self._turns.hold(self.config.index.busy_timeout):
            report = self.core.sync_here(list(paths) if paths is not None else None, rebuild=rebuild)
            self._stats["syncs"] += 1
            self._stats["last_sync_at"] = time.time()
            self._stats["last_sync_seconds"] = round(report.seconds, 4)
            if paths is None:
                self._stats["full_scans"] += 1
            if self.hub.has_subscribers and report.changed_count:
                self.hub.publish(events_of(report, self._hashes(report)))
        return report

    def _index_loop(self) -> None:
        settings = self.config.watch
        with self.core.store.holding():
            self._guarded(Batch(full=True, reason="start"))
            self._ready.set()
            self._heartbeat()
            next_rescan = time.monotonic() + settings.rescan_interval
            while not self._stopping:
                wait = min(settings.heartbeat_interval, max(next_rescan - time.monotonic(), 0.0))
                batch = self.backlog.take(wait)
                if self._stopping:
                    break
                if batch is None and time.monotonic() >= next_rescan:
                    batch = Batch(full=True, reason="rescan")
                if batch is not None:
                    self._guarded(batch)
                    if batch.full:
                        next_rescan = time.monotonic() + settings.rescan_interval
                self._check_observer()
                self._heartbeat()

    def _guarded(self, batch: Batch) -> None:
        try:
            self._run(batch)
        except Exception as exc:  # the daemon keeps running; the files are re-read by a full scan
            self._stats["last_error"] = f"{type(exc).__name__}: {exc}"
            log.error("indexing failed (%s); a full scan follows", self._stats["last_error"])
            if not self._stopping:
                self._done.wait(1.0)  # no hot loop on a persistent failure
                self.backlog.request_full("retry")

    def _run(self, batch: Batch) -> None:
        if batch.full:
            log.info("full scan (%s)", batch.reason)
            self.sync()
            return
        paths = set(batch.paths)
        for folder in batch.gone_folders:
            paths.update(self._indexed_under(folder))
        for folder in batch.new_folders:
            paths.update(files_under(self.config.root, folder, self.router.rules))
        if not paths:
            return
        if len(paths) >= self.config.watch.storm_threshold:
            self.sync()
        elif self.config.queue.watcher_jobs:
            from ..queue import enqueue_index, open_queue

            queue = open_queue(self.config)
            enqueue_index(queue, paths)
            queue.close()
        else:
            self.sync(sorted(paths))

    def _indexed_under(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        res = self.core.query(
            "SELECT path FROM notes WHERE starts_with(path, ?) UNION ALL "
            "SELECT path FROM attachments WHERE starts_with(path, ?)",
            [prefix, prefix],
        )
        return list(res.column("path"))

    def _hashes(self, report: SyncReport) -> dict[str, str]:
        wanted = list(report.added) + list(report.changed) + [new for _, new in report.moved]
        if not wanted:
            return {}
        res = self.core.query("SELECT path, hash FROM notes WHERE list_contains(?, path)", [wanted])
        return {r[0]: r[1] for r in res.rows}

    # -- status ----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Live numbers: backlog (paths waiting), lag_seconds (age of the oldest waiting event),
        events seen, syncs, full scans, overflows, last event and sync times."""
        out = dict(self._stats)
        out["events"] = self.router.count
        out["last_event_at"] = self.router.last_event_at
        out["overflows"] = self.alarm.overflows
        out["backlog"] = self.backlog.size
        out["lag_seconds"] = round(self.backlog.lag(), 3)
        out["heartbeat_at"] = time.time()
        out["ready"] = self._ready.is_set()
        return out

    def _heartbeat(self) -> None:
        try:
            write_status(self._status_file, self.status())
        except OSError as exc:  # the state folder is gone or full: keep indexing
            log.warning("cannot write %s: %s", self._status_file, exc)

    # -- serving ---------------------------------------------------------------------------------

    def _operations(self) -> dict[str, Callable[..., Any]]:
        """The socket's operations, each bound to what serves it (never looked up by wire name): the
        index read every read method of a client's Vault is built on, user ``sql`` (checked and run
        read-only here too), the sync that gives a client read-your-writes, the search side's status
        and catch-up, and the daemon's own status. Writes to notes happen in the client's process
        (they touch files, then call sync). Anything else (a private method, close()) is refused."""
        vault = self.vault
        return {
            "_query": self.core.query,
            "sql": vault.sql,
            "sync": self.sync,
            "search_status": vault.search_status,
            "_catch_up_search": vault._catch_up_search,
            "watch_status": self.status,
        }

    def _handle_stream(self, pattern: str) -> tuple[Any, Callable[[], None]]:
        return self.hub.stream(pattern)

    def subscribe(
        self, callback: Callable[[ChangeEvent], None], pattern: str = DEFAULT_PATTERN
    ) -> Subscription:
        """``callback(event)`` for each change matching ``pattern``, after the index has it."""
        return self.hub.subscribe(callback, pattern)


def subscribe(
    vault: Any, callback: Callable[[ChangeEvent], None], pattern: str = DEFAULT_PATTERN
) -> Subscription:
    """Change events of ``vault``: from the watcher running on it in this process, else from the
    vault's daemon over its socket. ``BackendUnavailable`` when neither runs."""
    from ..errors import BackendUnavailable
    from .client import owner_client

    watcher = getattr(vault, "_watcher", None)
    if isinstance(watcher, Watcher) and not watcher._stopping:
        return watcher.subscribe(callback, pattern)
    client = owner_client(vault.config)
    if client is None:
        raise BackendUnavailable(
            f"no watcher runs for {vault.config.root}: "
            "start `mdstore watch` (or vault.watch()) to get change events"
        )
    return client.subscribe(callback, pattern)  # type: ignore[no-any-return, unused-ignore]
