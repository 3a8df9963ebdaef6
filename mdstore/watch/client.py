"""How a process finds the running watcher daemon of its vault (the index owner) and talks to it."""

from __future__ import annotations

from typing import Any

from ..config import Config

SOCKET_NAME = "owner.sock"


def owner_client(config: Config) -> Any | None:
    """A client of the daemon that owns this vault's index, or None when no daemon runs
    (then the caller reads the index files directly)."""
    if not (config.state_dir / SOCKET_NAME).exists():
        return None
    return None  # the daemon and its protocol land with the watcher
