"""``vault.memory``: the agent memory namespace (docs/memory.md).

Everything it stores is an ordinary note under ``[memory] folder`` (default ``Memory/``), written
and read through the public ``Vault`` methods, so find, search, history, sync and git see it.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, ValidationError
from .embeddings import EmbeddingProvider, LsaEmbeddings
from .insights import Insights
from .preferences import Preferences
from .recall import SessionRecall
from .records import DreamReport, EntryHit, Insight, InsightFilter
from .sessions import SessionLog

if TYPE_CHECKING:
    from ..vault import Vault

Consolidator = Callable[[list[Any]], str]
"""Writes a window's summary from its entries (e.g. an LLM call) instead of the extractive one."""

MAX_HOURS = 100 * 366 * 24  # a Dream window or interval of a century: anything longer is a mistake


def dream_hours(value: object, label: str = "window_hours") -> float:
    """``value`` as a number of hours for Dream: more than 0, at most a century."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{label} must be a number of hours, not {value!r}")
    if not (math.isfinite(value) and 0 < value <= MAX_HOURS):
        raise ValidationError(
            f"{label} must be more than 0 and at most {MAX_HOURS} (a century), not {value!r}"
        )
    return float(value)


class Memory:
    """Preferences, insights, session logs and the Dream cycle of one vault."""

    def __init__(self, vault: Vault) -> None:
        settings = vault.config.memory
        for key in ("half_life_days", "flush_seconds", "dream_interval_hours", "dream_window_hours"):
            if getattr(settings, key) <= 0:
                raise ConfigError(f"setting memory.{key} must be greater than 0")
        for key in ("dream_interval_hours", "dream_window_hours"):
            if getattr(settings, key) > MAX_HOURS:
                raise ConfigError(f"setting memory.{key} must be at most {MAX_HOURS} (a century)")
        for key in (
            "flush_entries",
            "part_entries",
            "dimensions",
            "dream_min_sessions",
            "pattern_min_sessions",
        ):
            if getattr(settings, key) < 1:
                raise ConfigError(f"setting memory.{key} must be at least 1")
        for key in ("vector_weight", "entry_vector_weight", "entry_context_weight"):
            if getattr(settings, key) < 0:
                raise ConfigError(f"setting memory.{key} must be 0 or more")
        if not 0 <= settings.recency_weight <= 1 or not 0 < settings.merge_threshold <= 1:
            raise ConfigError("settings memory.recency_weight and memory.merge_threshold must lie in 0..1")
        self._vault = vault
        self.settings = settings
        self.folder = settings.folder.strip("/")
        self._preferences = Preferences(vault, f"{self.folder}/preferences")
        self._insights = Insights(vault, f"{self.folder}/insights", settings)
        self._recall = SessionRecall(vault, self.folder, settings)
        if settings.embeddings == "lsa":
            self._insights.embeddings = LsaEmbeddings(settings.dimensions)
            self._recall.embeddings = LsaEmbeddings(settings.dimensions)
        self._logs: dict[str, SessionLog] = {}
        self._lock = threading.Lock()
        self._flush_turn = threading.Lock()

    def __repr__(self) -> str:
        return f"<Memory of {self._vault.root}>"

    # -- preferences ---------------------------------------------------------------------------

    def get_preference(self, user: str, key: str, default: Any = None) -> Any:
        return self._preferences.get(user, key, default)

    def set_preference(self, user: str, key: str, value: Any, category: str | None = None) -> None:
        self._preferences.set(user, key, value, category)

    def delete_preference(self, user: str, key: str) -> bool:
        return self._preferences.delete(user, key)

    def list_preferences(self, user: str, category: str | None = None) -> dict[str, Any]:
        return self._preferences.list(user, category)

    # -- insights ------------------------------------------------------------------------------

    def store_insight(
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
    ) -> Insight:
        """Store an insight; the same content for the same user returns the stored one."""
        return self._insights.store(
            content,
            user=user,
            source=source,
            category=category,
            relevance=relevance,
            metadata=metadata,
            id=id,
            provenance=tuple(provenance),
        )

    def get_insight(self, insight_id: str) -> Insight:
        return self._insights.get(insight_id)

    def delete_insight(self, insight_id: str) -> None:
        self._insights.delete(insight_id)

    def search_insights(
        self,
        query: str,
        limit: int = 10,
        filter: InsightFilter | None = None,  # noqa: A002 - the API's word
    ) -> list[Insight]:
        """Insights ranked by text match (fused with vectors when embeddings are on), relevance
        and recency (docs/memory.md, *Ranking*)."""
        return self._insights.search(query, limit, filter)

    @property
    def embeddings(self) -> EmbeddingProvider | None:
        return self._insights.embeddings

    @embeddings.setter
    def embeddings(self, provider: EmbeddingProvider | None) -> None:
        """The provider for insights and session entries (an ``LsaEmbeddings`` is fitted on each
        of the two separately: session entries get a copy of it)."""
        if provider is not None and not isinstance(provider, EmbeddingProvider):
            raise ConfigError("an embedding provider needs embed(), embed_batch() and dimensions")
        self._insights.embeddings = provider
        if isinstance(provider, LsaEmbeddings):
            self._recall.embeddings = LsaEmbeddings(provider.dimensions)
        else:
            self._recall.embeddings = provider

    def search_sessions(
        self,
        query: str,
        limit: int = 10,
        *,
        session: str | None = None,
        role: str | None = None,
        after: dt.datetime | dt.date | str | None = None,
        before: dt.datetime | dt.date | str | None = None,
    ) -> list[EntryHit]:
        """Single session entries ranked for ``query``, across every session (archived ones too),
        optionally only of one ``session``, one ``role`` or a time range (docs/memory.md,
        *Searching sessions*). Entries this process appended are flushed first."""
        with self._lock:
            logs = list(self._logs.values())
        for session_log in logs:
            if session_log.waiting:
                session_log.flush()
        return self._recall.search(query, limit, session=session, role=role, after=after, before=before)

    # -- session logs --------------------------------------------------------------------------

    def log(self, session: str) -> SessionLog:
        with self._lock:
            found = self._logs.get(session)
            if found is None:
                found = self._logs[session] = SessionLog(
                    self._vault, self.folder, session, self.settings, self._flush_turn
                )
            return found

    def flush(self) -> int:
        """Write every waiting session entry and insight (of this vault, any process) to its
        note; returns how many."""
        from .dream import pending_sessions

        written = self._insights.flush()
        return written + sum(self.log(name).flush() for name in pending_sessions(self._vault))

    def close(self) -> None:
        with self._lock:
            logs, self._logs = list(self._logs.values()), {}
        self._insights.close()
        for session_log in logs:
            session_log.close()
        self._recall.save()

    # -- dream ---------------------------------------------------------------------------------

    def dream(
        self,
        *,
        window_hours: float | None = None,
        now: dt.datetime | None = None,
        consolidator: Consolidator | None = None,
        dry_run: bool = False,
    ) -> DreamReport:
        """Run one consolidation cycle over the sessions of the last ``window_hours`` (more than
        0, at most a century; default ``[memory] dream_window_hours``)."""
        from .dream import Dream

        hours = self.settings.dream_window_hours if window_hours is None else dream_hours(window_hours)
        return Dream(self, self._vault, consolidator=consolidator).run(
            window_hours=hours, now=now, dry_run=dry_run
        )

    def schedule_dream(self) -> Any:
        """Enqueue the next scheduled Dream job (``memory-dream``), due in ``dream_interval_hours``."""
        from .dream import schedule

        return schedule(self._vault)
