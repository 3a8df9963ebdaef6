"""Agent memory on the vault: preferences, insights, session logs and Dream (docs/memory.md)."""

from __future__ import annotations

from .embeddings import EmbeddingProvider, LsaEmbeddings
from .memory import Memory
from .records import CATEGORIES, SOURCES, DreamReport, Entry, EntryHit, Insight, InsightFilter
from .sessions import SessionLog

__all__ = [
    "CATEGORIES",
    "SOURCES",
    "DreamReport",
    "EmbeddingProvider",
    "Entry",
    "EntryHit",
    "Insight",
    "InsightFilter",
    "LsaEmbeddings",
    "Memory",
    "SessionLog",
]
