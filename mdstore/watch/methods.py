"""Vault methods of the watcher (mixed into ``Vault``): ``watch`` and ``subscribe``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .daemon import Watcher
    from .subscriptions import ChangeEvent, Subscription


class WatchMethods:
    _watcher: Watcher | None = None  # the watcher running on this Vault in this process, if any

    def watch(self, foreground: bool = True, *, serve: bool = True) -> Watcher:
        """Keep every index current as files change and (``serve``) answer other processes' reads
        on ``.mdstore/owner.sock``. ``foreground`` blocks until SIGINT/SIGTERM; otherwise returns the
        running ``Watcher`` once its catch-up scan is done (call ``.stop()``). ``IndexBusy`` if a
        watcher already runs for this vault."""
        from .daemon import Watcher

        watcher = Watcher(self, serve=serve)  # type: ignore[arg-type]
        if foreground:
            watcher.run()
            return watcher
        return watcher.start()

    def _watching(self, watcher: Watcher | None) -> None:
        """Called by a watcher that starts (or stops) on this Vault: ``subscribe`` then uses it."""
        self._watcher = watcher

    def subscribe(self, callback: Callable[[ChangeEvent], None], pattern: str = "**/*.md") -> Subscription:
        """Call ``callback(event)`` on a background thread for every change to a path matching
        ``pattern`` (created, changed, moved, deleted; with the content hash), once the index has
        it. Needs a watcher: in this process, or the daemon (``mdstore watch``). ``close()`` the
        returned subscription to end it."""
        from .daemon import subscribe

        return subscribe(self, callback, pattern)
