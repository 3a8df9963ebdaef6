"""``AutoCommitter``: the ``git.autocommit`` setting ("off" | "write" | "interval").

The Vault tells it which paths each API write touched (``notify``); it decides when to commit.
In "interval" mode the owner's loop calls ``tick()`` (cheap when nothing is due), or ``start()``
runs a daemon thread that does. A failed commit never fails the write that caused it: it is
logged on the ``mdstore.history`` logger, kept in ``last_error``, and retried with the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from ..config import GitSettings
from ..errors import ConfigError, MdstoreError
from .githistory import GitHistory
from .records import Commit

MODES = ("off", "write", "interval")
log = logging.getLogger("mdstore.history")


class AutoCommitter:
    def __init__(
        self,
        history: GitHistory | None,
        settings: GitSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.autocommit not in MODES:
            raise ConfigError(
                f"setting git.autocommit: {settings.autocommit!r} is not one of {', '.join(MODES)}"
            )
        if settings.autocommit != "off" and history is None:
            raise ConfigError(
                f"git.autocommit = {settings.autocommit!r} needs the vault to be a git repository"
            )
        if settings.autocommit_interval <= 0:
            raise ConfigError("setting git.autocommit_interval: must be a positive number of seconds")
        self.history = history
        self.mode = settings.autocommit
        self.interval = settings.autocommit_interval
        self.last_error: MdstoreError | None = None
        self._clock = clock
        self._pending: dict[str, None] = {}  # ordered set of vault paths written since the last commit
        self._since: float | None = None  # clock time of the oldest pending write
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._pending)

    def notify(self, paths: Sequence[str], message: str | None = None) -> Commit | None:
        """Record an API write of ``paths`` (include both names of a move); commit if the mode says so."""
        if self.mode == "off":
            return None
        with self._lock:
            if not self._pending:
                self._since = self._clock()
            self._pending.update(dict.fromkeys(paths))
        return self.flush(message) if self.mode == "write" else None

    def tick(self) -> Commit | None:
        """In "interval" mode, commit what is pending once the oldest write is ``interval`` old."""
        with self._lock:
            due = self._since is not None and self._clock() - self._since >= self.interval
        return self.flush() if self.mode == "interval" and due else None

    def flush(self, message: str | None = None) -> Commit | None:
        """Commit every pending path now (e.g. when the vault closes). ``None`` if nothing changed."""
        with self._lock:
            paths, self._pending, self._since = list(self._pending), {}, None
        if not paths or self.history is None:
            return None
        try:
            commit = self.history.commit(message, paths)
        except MdstoreError as exc:
            log.warning("autocommit of %d path(s) failed: %s", len(paths), exc)
            self.last_error = exc
            with self._lock:  # keep them for the next attempt, before anything written meanwhile
                self._pending = dict.fromkeys([*paths, *self._pending])
                self._since = self._clock() if self._since is None else self._since
            return None
        self.last_error = None
        return commit

    def start(self) -> None:
        """Run ``tick()`` in a daemon thread (for owners without a loop of their own)."""
        if self.mode != "interval" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mdstore-autocommit", daemon=True)
        self._thread.start()

    def stop(self, flush: bool = True) -> Commit | None:
        """Stop the thread started by ``start()``; commit what is pending unless ``flush`` is False."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
        return self.flush() if flush and self.mode != "off" else None

    def _run(self) -> None:
        step = min(self.interval / 2, 1.0)
        while not self._stop.wait(step):
            self.tick()
