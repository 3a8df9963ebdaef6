"""The memory layer's values: insights, their filter, session entries, Dream's report.

They are frozen dataclasses read from notes; the notes stay the source of truth.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from ..errors import QueryError, ValidationError

SOURCES = ("agent", "user", "summarization", "system")
CATEGORIES = ("decision", "learning", "preference", "fact", "pattern", "general")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: Any, label: str) -> dt.datetime:
    """A timezone-aware UTC datetime from a datetime, date or ISO string (naive means UTC)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(f"{label}: {value!r} is not an ISO date or datetime") from None
    else:
        raise QueryError(f"{label}: expected a date or datetime, not {type(value).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise QueryError(f"{label}: {value!r} is out of range in UTC (years 1 to 9999)") from None


def end_of_day(moment: dt.datetime) -> dt.datetime:
    """The last microsecond of ``moment``'s day (``9999-12-31`` too: no day after it is needed)."""
    return moment.replace(hour=23, minute=59, second=59, microsecond=999999)


def time_range(after: Any, before: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``after``/``before`` as UTC datetimes; a date (or ``YYYY-MM-DD``) as ``before`` includes
    that whole day. An inverted range is a ``QueryError``."""
    start = None if after is None else as_utc(after, "after")
    end = None if before is None else as_utc(before, "before")
    whole_day = isinstance(before, dt.date) and not isinstance(before, dt.datetime)
    if end is not None and (whole_day or (isinstance(before, str) and len(before.strip()) == 10)):
        end = end_of_day(end)
    if start is not None and end is not None and start > end:
        raise QueryError(f"time range is inverted: after {iso(start)} is later than before {iso(end)}")
    return start, end


def iso(moment: dt.datetime) -> str:
    """The timestamp as written in memory notes: UTC, milliseconds, ``Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_choice(value: Any, choices: tuple[str, ...], label: str) -> str:
    if value not in choices:
        raise ValidationError(f"{label} {value!r} is not one of {', '.join(choices)}")
    return str(value)


@dataclass(frozen=True)
class Insight:
    """One insight note: its frontmatter fields, its body as ``content`` and its vault path.
    ``score`` is the ranking score when it comes from ``search_insights`` (else 0)."""

    id: str
    content: str
    user: str
    source: str
    category: str
    relevance: float
    created: dt.datetime
    path: str
    decayed_at: dt.datetime | None = None
    provenance: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "content": self.content,
            "user": self.user,
            "source": self.source,
            "category": self.category,
            "relevance": self.relevance,
            "created": iso(self.created),
            "decayed_at": iso(self.decayed_at) if self.decayed_at else None,
            "provenance": list(self.provenance),
            "metadata": self.metadata,
            "path": self.path,
            "score": self.score,
        }


@dataclass(frozen=True)
class InsightFilter:
    """Which insights ``search_insights`` may return; ``None`` fields do not filter. The date
    range is on ``created`` (inclusive); an inverted range is a ``QueryError``."""

    user: str | None = None
    category: str | None = None
    source: str | None = None
    min_relevance: float | None = None
    created_after: dt.datetime | dt.date | str | None = None
    created_before: dt.datetime | dt.date | str | None = None

    def __post_init__(self) -> None:
        if self.category is not None:
            check_choice(self.category, CATEGORIES, "filter category")
        if self.source is not None:
            check_choice(self.source, SOURCES, "filter source")
        if self.min_relevance is not None and not isinstance(self.min_relevance, int | float):
            raise QueryError(f"filter min_relevance must be a number, not {self.min_relevance!r}")
        after, before = self.bounds()
        if after and before and after > before:
            raise QueryError(
                f"filter date range is inverted: created_after {iso(after)} is later than "
                f"created_before {iso(before)}"
            )

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        return self._bounds

    @functools.cached_property
    def _bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:  # read once, not per insight
        after = None if self.created_after is None else as_utc(self.created_after, "created_after")
        before = None if self.created_before is None else as_utc(self.created_before, "created_before")
        if isinstance(self.created_before, dt.date) and not isinstance(self.created_before, dt.datetime):
            before = end_of_day(before) if before else None
        return after, before

    def admits(self, insight: Insight) -> bool:
        if self.user is not None and insight.user != self.user:
            return False
        if self.category is not None and insight.category != self.category:
            return False
        if self.source is not None and insight.source != self.source:
            return False
        if self.min_relevance is not None and insight.relevance < self.min_relevance:
            return False
        after, before = self.bounds()
        if after is not None and insight.created < after:
            return False
        return before is None or insight.created <= before


@dataclass(frozen=True)
class Entry:
    """One acknowledged entry of a session log."""

    id: str
    role: str
    content: str
    time: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "content": self.content, "time": iso(self.time)}


@dataclass(frozen=True)
class EntryHit:
    """A session entry found by ``search_sessions``: the entry, where it sits, and its score."""

    session: str
    id: str
    role: str
    content: str
    time: dt.datetime
    position: int  # the entry's index in its session (``log(session).range(position, position + 1)``)
    path: str  # the session note
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "time": iso(self.time),
            "position": self.position,
            "path": self.path,
            "score": self.score,
        }


@dataclass(frozen=True)
class DreamReport:
    """What one Dream cycle did."""

    window_start: dt.datetime
    window_end: dt.datetime
    sessions: int = 0
    entries: int = 0
    insights_created: int = 0
    insights_raised: int = 0
    insights_merged: int = 0
    insights_decayed: int = 0
    bytes_archived: int = 0
    summary: str | None = None
    commits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_start": iso(self.window_start),
            "window_end": iso(self.window_end),
            "sessions": self.sessions,
            "entries": self.entries,
            "insights_created": self.insights_created,
            "insights_raised": self.insights_raised,
            "insights_merged": self.insights_merged,
            "insights_decayed": self.insights_decayed,
            "bytes_archived": self.bytes_archived,
            "summary": self.summary,
            "commits": list(self.commits),
        }
