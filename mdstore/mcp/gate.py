"""The one way tools reach the vault: one call at a time, index reads kept fresh, and writes
announced to resource subscribers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..vault import Vault

FRESH_SECONDS = 5.0
"""Index reads sync the vault first when the last sync is older than this, so edits made in an
editor show up without a watcher (with the watcher daemon running, a sync is a cheap round trip)."""

NOTE_SCHEME = "note://"


def note_uri(path: str) -> str:
    return NOTE_SCHEME + path


class Gate:
    """Serialised access to one ``Vault`` for the server's worker threads."""

    def __init__(self, vault: Vault, fresh_seconds: float = FRESH_SECONDS) -> None:
        self.vault = vault
        self._lock = threading.Lock()
        self._fresh_seconds = fresh_seconds
        self._synced = -float("inf")
        # Set by the server while it runs: publishes "note://path changed" to subscribers.
        self.announce: Callable[[Sequence[str]], None] | None = None

    @contextmanager
    def use(self, *, index: bool = False) -> Iterator[Vault]:
        """The vault, for one tool call. ``index``: the call reads the index, so sync first when
        the last sync is stale."""
        with self._lock:
            if index and time.monotonic() - self._synced > self._fresh_seconds:
                self.vault.sync()
                self._synced = time.monotonic()
            yield self.vault

    def wrote(self, *paths: str) -> None:
        """Tell subscribers that these notes changed (the server's own writes)."""
        if self.announce is not None and paths:
            self.announce(paths)
