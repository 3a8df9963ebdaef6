"""Vault methods that write notes (mixed into ``Vault``): create, update, append, move, delete,
batches and collections. Every write is atomic and lossless (docs/writing.md)."""

from __future__ import annotations


class WriteMethods:
    pass
