"""Insights: one note per insight, ``<folder>/insights/<id>.md``; frontmatter holds the fields,
the body holds the content. Search fuses the vault's full-text engine with vectors (ranking.py).

The search keeps a catalog of every insight (fields and, with embeddings, a vector matrix) in this
process, read from the index and refreshed when the index generation moves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import NoteNotFound, ValidationError, WriteConflict
from . import ranking
from .naming import digest
from .preferences import _check_value
from .records import CATEGORIES, SOURCES, Insight, InsightFilter, as_utc, check_choice, iso, utc_now

if TYPE_CHECKING:
    from ..config import MemorySettings
    from ..vault import Vault
    from .embeddings import EmbeddingProvider

_ID = re.compile(r"^[\w-]{1,80}$")


def content_key(user: str, content: str) -> str:
    """Two insights of one user with this key hold the same content (case and spacing aside)."""
    return digest(user + "\0" + " ".join(content.split()).casefold())[:16]


def link(path: str) -> str:
    """A wikilink to a note by its file name, which resolves wherever Dream moves the note
    (memory note names are unique: one per session, insight id or day)."""
    name = path.rsplit("/", 1)[-1]
    return f"[[{name[:-3] if name.endswith('.md') else name}]]"


class Insights:
    def __init__(self, vault: Vault, folder: str, settings: MemorySettings) -> None:
        self._vault = vault
        self.folder = folder
        self._settings = settings
        self.embeddings: EmbeddingProvider | None = None
        self._catalog = _Catalog(vault, folder)

    def path(self, insight_id: str) -> str:
        return f"{self.folder}/{insight_id}.md"

    def store(self, content: str, **fields: Any) -> Insight:
        """Store an insight (``plan``'s arguments), or return the one holding the same content."""
        planned = self.plan(content, **fields)
        if isinstance(planned, Insight):
            return planned
        path, front, body = planned
        try:
            note = self._vault.create(path, front, body)
        except WriteConflict:
            raise ValidationError(
                f"an insight with id {front['id']!r} and other content exists already"
            ) from None
        return from_fields(note.path, note.frontmatter, note.body)

    def plan(
        self,
        content: str,
        *,
        user: str,
        source: str,
        category: str,
        relevance: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
        id: str | None = None,  # noqa: A002 - the API's word
        provenance: tuple[str, ...] = (),
        created: dt.datetime | None = None,
    ) -> Insight | tuple[str, dict[str, Any], str]:
        """The stored insight with this content, or the note to create for it: (path,
        frontmatter, body). Dream creates many in one batch."""
        if not isinstance(content, str) or not content.strip():
            raise ValidationError("insight content is empty")
        if not isinstance(user, str) or not user.strip():
            raise ValidationError(f"insight user must be a non-empty string, not {user!r}")
        check_choice(source, SOURCES, "insight source")
        check_choice(category, CATEGORIES, "insight category")
        if isinstance(relevance, bool) or not isinstance(relevance, int | float) or relevance < 0:
            raise ValidationError(f"insight relevance must be a number >= 0, not {relevance!r}")
        if metadata is not None:
            if not isinstance(metadata, Mapping):
                raise ValidationError(f"insight metadata must be a mapping, not {type(metadata).__name__}")
            _check_value(dict(metadata), "insight metadata")
        key = content_key(user, content)
        if id is None:
            id = f"ins-{key}"  # noqa: A001
        elif not isinstance(id, str) or not _ID.match(id):
            raise ValidationError(f"insight id {id!r} must be 1-80 letters, digits, - or _")
        existing = self._same_content(id, key)
        if existing is not None:
            return existing
        front: dict[str, Any] = {
            "id": id,
            "type": "insight",
            "user": user,
            "source": source,
            "category": category,
            "relevance": float(relevance),
            "created": iso(created or utc_now()),
            "decayed_at": None,
            "provenance": [link(p) if not p.startswith("[[") else p for p in provenance],
            "content_key": key,
        }
        if metadata:
            front["metadata"] = dict(metadata)
        return self.path(id), front, content.strip() + "\n"

    def get(self, insight_id: str) -> Insight:
        if not isinstance(insight_id, str) or not _ID.match(insight_id):
            raise NoteNotFound(f"no insight {insight_id!r}")
        try:
            note = self._vault.get(self.path(insight_id))
        except NoteNotFound:
            raise NoteNotFound(f"no insight {insight_id!r}") from None
        return from_fields(note.path, note.frontmatter, note.body)

    def delete(self, insight_id: str) -> None:
        """Move the insight's note to the vault's trash (recoverable, like every delete)."""
        self.get(insight_id)
        self._vault.delete(self.path(insight_id))

    def all(self) -> list[Insight]:
        return self._catalog.current(self.embeddings)[0]

    def search(self, query: str, limit: int = 10, filter: InsightFilter | None = None) -> list[Insight]:  # noqa: A002
        from ..search.analysis import words

        if not isinstance(query, str):
            raise ValidationError(f"search query must be a string, not {type(query).__name__}")
        if not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"limit must be a positive integer, not {limit!r}")
        wanted = filter or InsightFilter()
        insights, vectors = self._catalog.current(self.embeddings)
        by_path = self._catalog.by_path
        pool = max(limit * 10, 100)
        rankings: list[tuple[list[str], float]] = []
        terms = list(dict.fromkeys(words(query)))
        if terms:
            where = {
                k: v
                for k, v in (("user", wanted.user), ("category", wanted.category), ("source", wanted.source))
                if v is not None
            }
            hits = self._vault.search(
                " OR ".join(terms), folder=self.folder, where=where or None, limit=pool, snippets=False
            )
            rankings.append(([h.path for h in hits.hits if h.path in by_path], 1.0))
        if vectors is not None and self.embeddings is not None and query.strip():
            from .embeddings import as_matrix

            sims = vectors @ as_matrix(self.embeddings, [query])[0]
            order = sims.argsort()[::-1][:pool]
            rankings.append(([insights[i].path for i in order if sims[i] > 0], self._settings.vector_weight))
        fused = ranking.fuse(rankings)
        now = utc_now()
        scored = []
        for path, base in fused.items():
            insight = by_path[path]
            if not wanted.admits(insight):
                continue
            w = ranking.weight(
                insight.relevance,
                insight.created,
                now,
                self._settings.half_life_days,
                self._settings.recency_weight,
            )
            scored.append((base * w, path))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        from dataclasses import replace

        return [replace(by_path[p], score=s) for s, p in scored[:limit]]

    def _same_content(self, insight_id: str, key: str) -> Insight | None:
        """The stored insight holding the same content, if any (an id taken by other content is
        an error, raised by ``create``)."""
        # One query for both questions: store_insight is on an agent's hot path.
        rows = self._vault.sql(
            "SELECT 'same' AS why, path FROM properties WHERE key = 'content_key' AND v_text = ? "
            "AND starts_with(path, ?) UNION ALL SELECT 'id' AS why, path FROM notes WHERE path = ?",
            [key, self.folder + "/", self.path(insight_id)],
        ).to_dicts()
        for row in sorted(rows, key=lambda r: r["why"] != "same"):
            found = self.get(str(row["path"]).rsplit("/", 1)[-1][:-3])
            if row["why"] == "same" or content_key(found.user, found.content) == key:
                return found
            raise ValidationError(f"an insight with id {insight_id!r} and other content exists already")
        return None

    def exists(self, insight_id: str) -> bool:
        return bool(self._vault.sql("SELECT 1 FROM notes WHERE path = ?", [self.path(insight_id)]).rows)


def from_fields(path: str, front: Mapping[str, Any], body: str) -> Insight:
    """An ``Insight`` from its note's frontmatter and body (hand edits are read leniently)."""

    def moment(value: Any) -> dt.datetime | None:
        try:
            return as_utc(value, "created") if value is not None else None
        except Exception:
            return None

    try:
        relevance = float(front.get("relevance", 1.0))
    except (TypeError, ValueError):
        relevance = 1.0
    provenance = front.get("provenance") or []
    metadata = front.get("metadata")
    return Insight(
        id=str(front.get("id") or path.rsplit("/", 1)[-1][:-3]),
        content=body.strip(),
        user=str(front.get("user") or ""),
        source=str(front.get("source") or "agent"),
        category=str(front.get("category") or "general"),
        relevance=relevance,
        created=moment(front.get("created")) or dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        path=path,
        decayed_at=moment(front.get("decayed_at")),
        provenance=tuple(str(p) for p in provenance) if isinstance(provenance, list) else (),
        metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
    )


class _Catalog:
    """Every insight and its vector, as of the index generation it was read at."""

    def __init__(self, vault: Vault, folder: str) -> None:
        self._vault = vault
        self._prefix = folder.rstrip("/") + "/"
        self._generation: Any = None
        self._insights: list[Insight] = []
        self._hashes: list[str] = []
        self._vectors: Any = None
        self._provider: Any = None
        self.by_path: dict[str, Insight] = {}
        self._lock = threading.Lock()

    def current(self, provider: EmbeddingProvider | None) -> tuple[list[Insight], Any]:
        with self._lock:
            generation = self._vault.sql("SELECT value FROM meta WHERE key = 'generation'").first()
            if generation != self._generation or provider is not self._provider:
                self._reload(provider)
                self._generation = generation
            return self._insights, self._vectors

    def _reload(self, provider: EmbeddingProvider | None) -> None:
        rows = self._vault.sql(
            "SELECT path, hash, frontmatter, body FROM notes WHERE starts_with(path, ?) ORDER BY path",
            [self._prefix],
        )
        old = {i.path: (h, n) for n, (i, h) in enumerate(zip(self._insights, self._hashes, strict=True))}
        insights: list[Insight] = []
        hashes: list[str] = []
        for path, digest_, front, body in rows.rows:
            data = json.loads(front) if isinstance(front, str) else (front or {})
            insights.append(from_fields(path, data if isinstance(data, dict) else {}, body or ""))
            hashes.append(digest_ or "")
        self._vectors = None if provider is None else self._embed(provider, insights, hashes, old)
        self._insights, self._hashes, self._provider = insights, hashes, provider
        self.by_path = {i.path: i for i in insights}

    def _embed(
        self,
        provider: EmbeddingProvider,
        insights: list[Insight],
        hashes: list[str],
        old: dict[str, tuple[str, int]],
    ) -> Any:
        import numpy as np

        from .embeddings import LsaEmbeddings, as_matrix

        texts = [i.content for i in insights]
        if isinstance(provider, LsaEmbeddings) and (
            provider.fitted_on == 0 or len(texts) > 1.5 * provider.fitted_on + 10
        ):
            provider.fit(texts)  # a model fitted on a much smaller corpus misses most of its words
            return as_matrix(provider, texts)
        if provider is not self._provider or self._vectors is None:
            return as_matrix(provider, texts)
        out = np.zeros((len(texts), self._vectors.shape[1]), dtype=np.float32)
        fresh = []
        for n, (insight, h) in enumerate(zip(insights, hashes, strict=True)):
            before = old.get(insight.path)
            if before is not None and before[0] == h:
                out[n] = self._vectors[before[1]]
            else:
                fresh.append(n)
        if fresh:
            out[fresh] = as_matrix(provider, [texts[n] for n in fresh])
        return out
