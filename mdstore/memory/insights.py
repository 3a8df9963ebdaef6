"""Insights: one note per insight, ``<folder>/insights/<id>.md``; frontmatter holds the fields,
the body holds the content. Search fuses the vault's full-text engine with vectors (ranking.py).

The search keeps a catalog of every insight (fields, terms and, with embeddings, vectors) in this
process, read from the index and brought up to date note by note when the index changes
(catalog.py, retrieval.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import MdstoreError, NoteNotFound, ValidationError
from ..search.analysis import tokens
from . import ranking
from .catalog import NoteSet
from .embeddings import Vectors
from .insightlog import InsightLog, note_of, record
from .naming import digest, encodable, note_text
from .preferences import _check_value
from .records import CATEGORIES, SOURCES, Insight, InsightFilter, as_utc, check_choice, iso, utc_now
from .retrieval import Corpus
from .snapshot import Snapshot

if TYPE_CHECKING:
    from ..config import MemorySettings
    from ..vault import Vault
    from .embeddings import EmbeddingProvider

log = logging.getLogger("mdstore.memory")

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
        self._log = InsightLog(vault, settings, self._create)
        self._catalog = _Catalog(vault, folder, self._log.pending)

    def path(self, insight_id: str) -> str:
        return f"{self.folder}/{insight_id}.md"

    def store(self, content: str, **fields: Any) -> Insight:
        """Store an insight (``plan``'s arguments), or return the one holding the same content.
        Acknowledged once it is in the journal; its note follows (insightlog.py)."""
        planned = self.plan(content, **fields)
        if isinstance(planned, Insight):
            return planned
        path, front, body = planned
        if (self._vault.root / path).exists():  # a note the index has not seen yet: look again
            self._vault.sync(paths=[path])
            planned = self.plan(content, **fields)
            if isinstance(planned, Insight):
                return planned
        key = front["content_key"]
        found: list[Insight] = []

        def make(waiting: list[dict[str, Any]]) -> dict[str, Any] | None:
            for line in waiting:
                same = line.get("key") == key
                if same or line.get("path") == path:
                    note = note_of(line)
                    if note is None:
                        continue
                    if not same and content_key(str(note[1].get("user") or ""), note[2]) != key:
                        raise ValidationError(
                            f"an insight with id {front['id']!r} and other content exists already"
                        )
                    found.append(from_fields(*note))
                    return None
            return record(path, front, body)

        self._log.add(make)
        return found[0] if found else from_fields(path, front, body)

    def flush(self) -> int:
        """Create the notes of the insights waiting in the journal (of any process)."""
        return self._log.flush()

    def close(self) -> None:
        self._log.close()
        self._catalog.save()

    def _create(self, lines: list[dict[str, Any]]) -> int:
        """Create the notes of journal lines, in one batch. A note already there with the same
        content was written by a flush cut short; another note that took the name meanwhile (by
        hand) keeps it, and the insight gets a new id."""
        todo = []
        for line in lines:
            note = note_of(line)
            if note is None:
                log.warning("insights: unreadable journal line for %r left out", line.get("id"))
                continue
            path, front, body = note
            body = note_text(body)  # a line of a version that let a NUL through: still written
            if (self._vault.root / path).exists():
                if self._holds(path, front):
                    continue
                old, front = front["id"], {**front, "id": f"{front['id']}-{front['content_key'][:8]}"}
                path = self.path(front["id"])
                log.warning("insights: %s was taken by another note; insight %s stored as %s", old, old, path)
                if (self._vault.root / path).exists() and self._holds(path, front):
                    continue
            todo.append((path, front, body))
        if todo:
            with self._vault.batch() as b:
                for path, front, body in todo:
                    b.create(path, front, body)
        return len(todo)

    def _holds(self, path: str, front: Mapping[str, Any]) -> bool:
        try:
            note = self._vault.get(path)
        except MdstoreError:
            return False
        return content_key(str(note.frontmatter.get("user") or ""), note.body) == front["content_key"]

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
        if "\x00" in content or not encodable(content):
            raise ValidationError("insight content must be text, without NUL characters or lone surrogates")
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
        path = self.path(insight_id)
        for line in reversed(self._log.pending()):  # first: a flush meanwhile only writes the note
            waiting = note_of(line) if line.get("path") == path else None
            if waiting is not None:
                return from_fields(*waiting)
        try:
            note = self._vault.get(path)
        except NoteNotFound:
            raise NoteNotFound(f"no insight {insight_id!r}") from None
        return from_fields(note.path, note.frontmatter, note.body)

    def delete(self, insight_id: str) -> None:
        """Move the insight's note to the vault's trash (recoverable, like every delete)."""
        self.get(insight_id)
        if any(line.get("path") == self.path(insight_id) for line in self._log.pending()):
            self._log.flush()
        self._vault.delete(self.path(insight_id))

    def all(self) -> list[Insight]:
        return self._catalog.insights(self.embeddings)

    def search(self, query: str, limit: int = 10, filter: InsightFilter | None = None) -> list[Insight]:  # noqa: A002
        if not isinstance(query, str):
            raise ValidationError(f"search query must be a string, not {type(query).__name__}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError(f"limit must be a positive integer, not {limit!r}")
        wanted = filter or InsightFilter()
        with self._catalog.current(self.embeddings) as corpus:
            by_path = self._catalog.by_path

            def admit(path: str) -> bool:
                return wanted.admits(by_path[path])

            fused = ranking.retrieve(
                corpus, query, self.embeddings, self._settings.vector_weight, limit, admit
            )
            now = utc_now()
            scored = []
            for path, base in fused.items():
                insight = by_path[path]
                w = ranking.weight(
                    insight.relevance,
                    insight.created,
                    now,
                    self._settings.half_life_days,
                    self._settings.recency_weight,
                )
                scored.append((base * w, path))
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
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
    """Every insight (and its text and vector in a ``Corpus``), kept current with the index and
    the journal of insights whose notes are not written yet."""

    def __init__(self, vault: Vault, folder: str, pending: Callable[[], list[dict[str, Any]]]) -> None:
        self._notes = NoteSet(vault, "starts_with(path, ?)", [folder.rstrip("/") + "/"])
        self._pending = pending
        self._waiting: set[str] = set()  # paths known from the journal only
        self.corpus = Corpus()
        self.by_path: dict[str, Insight] = {}
        self._snapshot = Snapshot(vault.config.state_dir / "memory" / "snapshots" / "insights.npz")
        self._vectors = Vectors(self._snapshot)
        self._lock = threading.Lock()

    @contextmanager
    def current(self, provider: EmbeddingProvider | None) -> Iterator[Corpus]:
        """The corpus, up to date, held for this thread until the ``with`` block ends."""
        with self._lock:
            self._snapshot.load()
            lines = self._pending()  # first: a flush meanwhile only moves them into the index
            changes = self._notes.changes()
            for path in changes.removed:
                self.by_path.pop(path, None)
                self.corpus.remove(path)
            new = []
            for path, _, front, body in changes.upserts:
                self._waiting.discard(path)
                self._add(path, front, body)
                new.append(path)
            waiting: dict[str, dict[str, Any]] = {}
            for line in lines:
                where = line.get("path")
                if isinstance(where, str) and where not in self._notes.hashes:
                    waiting[where] = line
            for path in self._waiting - set(waiting):  # written since, or under another id
                if path not in self._notes.hashes:
                    self.by_path.pop(path, None)
                    self.corpus.remove(path)
            for path, line in waiting.items():
                note = note_of(line) if path not in self._waiting else None
                if note is not None and note[0] == path:
                    self._add(*note)
                    new.append(path)
            self._waiting = set(waiting)
            self._vectors.update(self.corpus, provider, self._text, new, self._fingerprint)
            yield self.corpus

    def save(self) -> None:
        with self._lock:
            self._vectors.save(self.corpus, self._fingerprint)

    def _text(self, path: str) -> str:
        return self.by_path[path].content

    def _fingerprint(self, path: str) -> str:
        return digest(self.by_path[path].content)[:16]

    def _add(self, path: str, front: Mapping[str, Any], body: str) -> None:
        insight = self.by_path[path] = from_fields(path, front, body)
        terms = self._snapshot.terms(path, self._fingerprint(path))
        if terms is None:
            terms = tokens(insight.content)
            self._snapshot.computed += 1
        self.corpus.add(path, terms)

    def insights(self, provider: EmbeddingProvider | None) -> list[Insight]:
        with self.current(provider):
            return [self.by_path[p] for p in sorted(self.by_path)]
