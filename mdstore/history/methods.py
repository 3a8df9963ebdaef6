"""Vault methods over git history (mixed into ``Vault``): commit, history, show, diff, restore,
snapshot, snapshots."""

from __future__ import annotations


from typing import Any


class HistoryMethods:
    def _history_listeners(self) -> list[Any]:
        """Sync listeners of the history layer (e.g. the last-commit table), see index/sync.py."""
        return []
