"""Keeping tool results small: pages of rows, clipped text with a marker, plain JSON values.

An agent pays for every character it reads, so no result is a multi-megabyte blob: lists come in
pages with ``next_offset``, long text is cut with a marker that says how to read on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import QueryError
from ..index.rows import json_default

MAX_LIMIT = 200
"""The most rows one call returns, whatever ``limit`` asks for."""

MAX_TEXT = 20_000
"""The most characters of note text one call returns (about 5k tokens)."""

MAX_DAYS = 36_600
"""The longest look back of ``recent_changes`` and ``weekly_review``: a century (a longer one
would reach before the year 1)."""

MAX_RESULT = 60_000
"""The most characters of JSON one result may hold; rows beyond it move to the next page."""


def plain(value: Any) -> Any:
    """``value`` as JSON types (dates as ISO strings, tuples as lists)."""
    return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))


def check_page(limit: int, offset: int) -> None:
    if limit < 1:
        raise QueryError(f"limit must be at least 1, not {limit}")
    if offset < 0:
        raise QueryError(f"offset must be 0 or more, not {offset}")


def page(
    rows: Sequence[Mapping[str, Any]], offset: int, limit: int, total: int | None = None
) -> dict[str, Any]:
    """One page of ``rows``, which start at ``offset``; ``rows`` may hold one row more than
    ``limit`` to show that a next page exists. Rows that would push the result past
    ``MAX_RESULT`` characters are left for the next page."""
    limit = min(limit, MAX_LIMIT)
    more = len(rows) > limit
    kept: list[Any] = []
    size = 0
    for row in rows[:limit]:
        item = _shrunk(plain(dict(row)))
        size += len(json.dumps(item, ensure_ascii=False))
        if kept and size > MAX_RESULT:
            more = True
            break
        kept.append(item)
    out: dict[str, Any] = {"rows": kept, "offset": offset}
    if total is not None:
        out["total"] = total
    out["next_offset"] = offset + len(kept) if more else None
    if more:
        out["truncated"] = f"more rows: call again with offset={offset + len(kept)}"
    return out


def clip(text: str, offset: int = 0, max_chars: int = MAX_TEXT) -> dict[str, Any]:
    """``text`` from ``offset``, at most ``max_chars`` characters, with a marker when cut."""
    if offset < 0:
        raise QueryError(f"offset must be 0 or more, not {offset}")
    if max_chars < 1:
        raise QueryError(f"max_chars must be at least 1, not {max_chars}")
    max_chars = min(max_chars, MAX_TEXT)
    part = text[offset : offset + max_chars]
    end = offset + len(part)
    out: dict[str, Any] = {"content": part, "offset": offset, "length": len(text)}
    if end < len(text):
        out["content"] = (
            part + f"\n[... truncated: {len(text) - end} more characters; call again with offset={end}]"
        )
        out["next_offset"] = end
    else:
        out["next_offset"] = None
    return out


def _shrunk(value: Any) -> Any:
    """``value`` with every string longer than ``MAX_TEXT`` cut, with a marker (one huge cell)."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + f"[... truncated: {len(value) - MAX_TEXT} more characters]"
    if isinstance(value, dict):
        return {k: _shrunk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shrunk(v) for v in value]
    return value
