"""Continuous team sync inside the watcher daemon (``mdstore watch`` with ``[team]`` set).

One thread syncs the clone when there is a reason to:

- a local change: the watcher publishes it once indexed (after its debounce), and the thread
  pushes it;
- a notification on ``mdstore_team`` (LISTEN/NOTIFY) whose payload ``space:revision`` names this
  space beyond what the clone has pulled;
- every ``[team] poll_seconds``, in case a notification was missed.

When the server cannot be reached the vault keeps working: the changes wait in the files (their
difference from the bases is the outbox, which survives a restart), ``vault.team.status()`` reports
the error, and the thread retries with exponential backoff (1 s doubling to 60 s) until the server
is back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import MdstoreError

if TYPE_CHECKING:
    import psycopg

    from ..vault import Vault
    from ..watch.subscriptions import ChangeEvent, Subscription

log = logging.getLogger("mdstore.team")
BACKOFF_MAX = 60.0


class LiveSync:
    """``LiveSync(vault).start(subscribe)`` — ``subscribe(callback)`` delivers local change events."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.settings = vault.config.team
        self._wake = threading.Event()
        self._changed: set[str] = set()  # local paths the watcher reported since the last sync
        self._full = True  # the next sync looks at every file (start, poll, after a failure)
        self._stopping = False
        self._listener: psycopg.Connection[Any] | None = None
        self._thread: threading.Thread | None = None
        self._subscription: Subscription | None = None
        self.syncs = 0
        self.failures = 0
        self.last_error: str | None = None

    def start(self, subscribe: Any) -> LiveSync:
        self._subscription = subscribe(self._on_change, "**")
        self._thread = threading.Thread(target=self._run, name="mdstore-team-sync", daemon=True)
        self._thread.start()
        return self

    def _on_change(self, event: ChangeEvent) -> None:
        self._changed.add(event.path)
        if event.old_path:
            self._changed.add(event.old_path)
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._subscription is not None:
            self._subscription.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._close_listener()

    def _run(self) -> None:
        delay = 0.0  # backoff after a failure; 0 while the server answers
        next_poll = 0.0  # sync at once on start: catch up with what happened while stopped
        while not self._stopping:
            now = time.monotonic()
            polling = now >= next_poll
            if not (self._wake.is_set() or polling):
                self._wait(min(next_poll - now, 1.0))
                continue
            self._wake.clear()
            changed, self._changed = self._changed, set()
            full, self._full = self._full or polling, False
            try:
                self._ensure_listener()
                self.vault.team.sync(paths=None if full else changed)
                self.syncs += 1
                self.last_error = None
                delay = 0.0
                next_poll = time.monotonic() + self.settings.poll_seconds
            except MdstoreError as exc:
                self.failures += 1
                self.last_error = str(exc)
                self._close_listener()
                self._full = True
                delay = min(BACKOFF_MAX, max(1.0, delay * 2))
                log.warning("team sync failed (%s); retrying in %.0f s", exc, delay)
                next_poll = time.monotonic() + delay
                self._wake.clear()
            except Exception as exc:  # noqa: BLE001 - the daemon outlives a bug in one sync
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("team sync failed")
                self._full = True
                delay = min(BACKOFF_MAX, max(1.0, delay * 2))
                next_poll = time.monotonic() + delay

    def _wait(self, timeout: float) -> None:
        """Until a local change, a notification for this space, or ``timeout``."""
        conn = self._listener
        if conn is None:
            self._wake.wait(timeout)
            return
        end = time.monotonic() + timeout
        while not self._wake.is_set() and not self._stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                for note in conn.notifies(timeout=min(left, 0.1)):
                    if note.payload.partition(":")[0] == self.settings.space:
                        self._wake.set()
                        break
            except Exception:  # noqa: BLE001 - the connection dropped: the next sync reconnects
                self._close_listener()
                self._wake.set()
                return

    def _ensure_listener(self) -> None:
        if self._listener is not None:
            return
        from ..pg import connect
        from .remote import CHANNEL

        conn = connect(self.settings.database_url(), autocommit=True)
        conn.execute(f"LISTEN {CHANNEL}")
        self._listener = conn

    def _close_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass


def start_live_sync(watcher: Any) -> LiveSync | None:
    """The watcher's team thread, when ``[team]`` names a database and a space (else None)."""
    settings = watcher.vault.config.team
    if not (settings.url and settings.space):
        return None
    return LiveSync(watcher.vault).start(watcher.subscribe)
