"""``search_sessions``: recall of single session entries, across every session note of the memory
(archived ones included): BM25 over the entry's words, its role and its month, fused by rank with
the nearest vectors when embeddings are on (docs/memory.md, *Searching sessions*). Age does not
weigh: a fact told a year ago is as good an answer as one told today (``after``/``before`` narrow
by time instead).

Each entry is its own document, so a question finds the one turn that answers it rather than a
whole session that happens to use its words; the turns just before and after it in its note are
its context, their terms counted at ``entry_context_weight`` (a question's words are often in the
turn that asked or answered it). The entries are kept in this process and brought up
to date from the index note by note (catalog.py): an append to a session re-reads that note and
embeds only its new entries.
"""

from __future__ import annotations

import threading
from collections import Counter
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
    return tokens(entry.content) + labels(entry)


def labels(entry: Entry) -> list[str]:
    """The terms of an entry's role and month (not its words)."""
    month = f"{_MONTHS[entry.time.month - 1]} {entry.time.year}"  # English whatever the locale
    return tokens(entry.role) + tokens(month)


def around(keys: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Each entry key's previous and next entry in its note."""
    return {
        key: (keys[n - 1] if n else None, keys[n + 1] if n + 1 < len(keys) else None)
        for n, key in enumerate(keys)
    }


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

    def _index(self, key: str, own: dict[str, list[str]], prev: str | None, after: str | None) -> None:
        """Add ``key`` to the corpus with the turns around it as its context (its vector kept
        unless its text changed, when the vector update recomputes it)."""
        weight = self._settings.entry_context_weight
        context: Counter[str] = Counter()
        if weight > 0:
            for other in (prev, after):
                if other is not None:  # its words, not its role and month
                    context.update(own[other] if other in own else self.corpus.counts(other))
                    context.subtract(labels(self._entries[other][2]))
        scaled = {term: weight * count for term, count in context.items() if count > 0}
        if key in own:
            self.corpus.add(key, own[key], None, scaled)
        else:
            self.corpus.add(key, self.corpus.terms(key), self.corpus.vector(key), scaled)

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
            before = around(self._keys.get(path, []))
            keys = []
            own: dict[str, list[str]] = {}  # the terms of the entries that are new or changed
            for position, entry in enumerate(parse_entries(body), start=offset):
                key = f"{path}#{entry.id}"
                keys.append(key)
                known = self._entries.get(key)
                self._entries[key] = (name, path, entry, position)
                if known is None or known[2] != entry or key not in self.corpus:
                    found = self._snapshot.terms(key, self._fingerprint(key))
                    if found is None:
                        found = terms(entry)
                        self._snapshot.computed += 1
                    own[key] = found
                    new.append(key)
            for key in set(before) - set(keys):
                self._entries.pop(key, None)
                self.corpus.remove(key)
            self._keys[path] = keys
            # An entry is (re)indexed when its text or its neighbours' changed.
            for key, (prev, after) in around(keys).items():
                if key in own or before.get(key) != (prev, after) or prev in own or after in own:
                    self._index(key, own, prev, after)
        self._vectors.update(
            self.corpus, self.embeddings, lambda k: self._entries[k][2].content, new, self._fingerprint
        )
