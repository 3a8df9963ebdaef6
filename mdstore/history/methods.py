"""Vault methods over git history (mixed into ``Vault``): commit, history, show, diff, restore,
snapshot, snapshots."""

from __future__ import annotations


class HistoryMethods:
    pass
