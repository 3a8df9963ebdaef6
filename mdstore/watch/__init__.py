"""The watcher daemon: keeps every index current as files change and serves reads to other
processes over a local socket (docs/watch.md).

>>> from mdstore.watch import Watcher, daemon_status
>>> w = Watcher(vault).start()      # or vault.watch(foreground=False)
>>> daemon_status(vault.config)["running"]
True
>>> w.stop()

Heavy parts (watchdog) load when a watcher starts; importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .status import daemon_status

if TYPE_CHECKING:
    from .daemon import Watcher, subscribe
    from .subscriptions import ChangeEvent, Subscription

__all__ = ["ChangeEvent", "Subscription", "Watcher", "daemon_status", "run_daemon", "subscribe"]


def run_daemon(vault: Any, *, serve: bool = True) -> None:
    """Run the watcher on ``vault`` in the foreground until SIGINT/SIGTERM."""
    from .daemon import Watcher

    Watcher(vault, serve=serve).run()


def __getattr__(name: str) -> Any:
    if name in ("Watcher", "subscribe"):
        from . import daemon

        return getattr(daemon, name)
    if name in ("ChangeEvent", "Subscription"):
        from . import subscriptions

        return getattr(subscriptions, name)
    raise AttributeError(name)
