"""Vault methods for full-text search and related notes (mixed into ``Vault``).

Filled in by the search wiring: ``search``, ``related``, ``similar``, ``reindex_search`` and the
``_search_listeners`` hook that keeps the search index current after each sync.
"""

from __future__ import annotations

from typing import Any


class SearchMethods:
    def _search_listeners(self) -> list[Any]:
        """Objects with ``on_synced(upserts, removed, generation, fresh)``, called after every sync."""
        return []
