"""``search_sessions``: recall of single session entries, across every session note of the memory
(archived ones included): BM25 over the entry's words, its role and its month, fused by rank with
the nearest vectors when embeddings are on (docs/memory.md, *Searching sessions*). Age does not
weigh: a fact told a year ago is as good an answer as one told today (``after``/``before`` narrow
by time instead).

Each entry is its own document, so a question finds the one turn that answers it rather than a
whole session that happens to use its words. The entries are kept in this process and brought up
to date from the index note by note (catalog.py): an append to a session re-reads that note and
embeds only its new entries.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..search.analysis import tokens
from . import ranking
from .catalog import NoteSet
from .embeddings import Vectors
from .naming import digest
from .records import Entry, EntryHit, time_range
from .retrieval import Corpus
from .sessions import parse_entries
from .snapshot import Snapshot

if TYPE_CHECKING:
    from ..config import MemorySettings
    from ..vault import Vault
    from .embeddings import EmbeddingProvider

_SESSION_NOTES = (
    "starts_with(path, ?) AND path IN (SELECT path FROM properties WHERE key = 'type' AND v_text = 'session')"
)


def terms(entry: Entry) -> list[str]:
    """What an entry is found by: its words, its role (a speaker's name) and its month ("March
    2026"), so "what did Ann say in March" can find it."""
    month = f"{_MONTHS[entry.time.month - 1]} {entry.time.year}"  # English whatever the locale
    return tokens(entry.content) + tokens(entry.role) + tokens(month)


_MONTHS = "January February March April May June July August September October November December".split()


class SessionRecall:
    """Every entry of every session note under the memory folder, searchable."""

    def __init__(self, vault: Vault, folder: str, settings: MemorySettings) -> None:
        self._settings = settings
        self._notes = NoteSet(vault, _SESSION_NOTES, [folder.rstrip("/") + "/"])
        self.corpus = Corpus()
        self.embeddings: EmbeddingProvider | None = None
        self._snapshot = Snapshot(vault.config.state_dir / "memory" / "snapshots" / "entries.npz")
        self._vectors = Vectors(self._snapshot)
        self._entries: dict[str, tuple[str, str, Entry, int]] = {}  # key -> session, path, entry, position
        self._keys: dict[str, list[str]] = {}  # note path -> its entries' keys, in order
        self._lock = threading.Lock()

    def search(
        self,
        query: str,
        limit: int = 10,
        *,
        session: str | None = None,
        role: str | None = None,
        after: Any = None,
        before: Any = None,
    ) -> list[EntryHit]:
        if not isinstance(query, str):
            raise ValidationError(f"search query must be a string, not {type(query).__name__}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError(f"limit must be a positive integer, not {limit!r}")
        for name, value in (("session", session), ("role", role)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{name} must be a string, not {value!r}")
        start, end = time_range(after, before)
        entries = self._entries

        def admit(key: str) -> bool:
            name, _, entry, _ = entries[key]
            return (
                (session is None or name == session)
                and (role is None or entry.role == role)
                and (start is None or entry.time >= start)
                and (end is None or entry.time <= end)
            )

        with self._lock:
            self._refresh()
            fused = ranking.retrieve(
                self.corpus, query, self.embeddings, self._settings.entry_vector_weight, limit, admit
            )
            scored = sorted(((score, key) for key, score in fused.items()), key=lambda p: (-p[0], p[1]))
            out = []
            for score, key in scored[:limit]:
                name, path, entry, position = entries[key]
                out.append(
                    EntryHit(name, entry.id, entry.role, entry.content, entry.time, position, path, score)
                )
            return out

    def save(self) -> None:
        """Keep what this process computed for the next one (at close)."""
        with self._lock:
            self._vectors.save(self.corpus, self._fingerprint)

    def _fingerprint(self, key: str) -> str:
        entry = self._entries[key][2]
        return digest(f"{entry.role}\0{entry.time.isoformat()}\0{entry.content}")[:16]

    def _refresh(self) -> None:
        self._snapshot.load()
        changes = self._notes.changes()
        for path in changes.removed:
            for key in self._keys.pop(path, []):
                self._entries.pop(key, None)
                self.corpus.remove(key)
        new: list[str] = []
        for path, _, front, body in changes.upserts:
            name = str(front.get("session") or path.rsplit("/", 1)[-1][:-3])
            try:
                offset = max(int(front.get("offset") or 0), 0)  # entries in the session's earlier parts
            except (TypeError, ValueError):
                offset = 0
            old = set(self._keys.get(path, []))
            keys = []
            for position, entry in enumerate(parse_entries(body), start=offset):
                key = f"{path}#{entry.id}"
                keys.append(key)
                known = self._entries.get(key)
                self._entries[key] = (name, path, entry, position)
                if known is None or known[2] != entry:
                    found = self._snapshot.terms(key, self._fingerprint(key))
                    if found is None:
                        found = terms(entry)
                        self._snapshot.computed += 1
                    self.corpus.add(key, found)
                    new.append(key)
            for key in old - set(keys):
                self._entries.pop(key, None)
                self.corpus.remove(key)
            self._keys[path] = keys
        self._vectors.update(
            self.corpus, self.embeddings, lambda k: self._entries[k][2].content, new, self._fingerprint
        )
