"""Team full-text search: ``websearch_to_tsquery`` over the weighted ``tsvector`` of ``team_notes``,
ranked with ``ts_rank_cd`` (title > headings > body), snippets from ``ts_headline``, exact total.

It runs through ``mdstore_search`` (schema migration 2), a SECURITY DEFINER function: under
row-level security the text-match operator is not leakproof, so the planner would check every row
of the table before matching instead of using the GIN index. The function filters on the caller's
spaces itself, computed from ``session_user``: passing another space only ever returns nothing.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import QueryError
from ..search.protocol import SearchHit, SearchResults, Snippet
from .query import find, run

# ts_headline's markers (set in mdstore_search): characters no note text uses.
_START, _STOP, _FRAGMENT = "\x02", "\x03", "\x04"
_SPACE = re.compile(r"\s+")


def search(
    conn: Any, space: str, text: str, *, limit: int = 10, offset: int = 0, **filters: Any
) -> SearchResults:
    """A page of the live notes of ``space`` matching ``text`` (web-search syntax: words,
    ``"a phrase"``, ``or``, ``-word``), best first. ``filters`` are team ``find()``'s keyword
    arguments (``where``, ``tag``, ``folder``, ...), narrowing the notes searched."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError("empty search query")
    if "\x00" in text:
        raise QueryError("search query contains a NUL character")
    if not isinstance(limit, int) or not isinstance(offset, int) or limit < 0 or offset < 0:
        raise QueryError("limit and offset must be non-negative integers")
    only: list[str] | None = None
    if filters:
        only = find(conn, space, **filters).paths()
        if not only:
            return SearchResults(total=0, hits=(), offset=offset)

    rows = run(conn, "SELECT * FROM mdstore_search(%s, %s, %s, %s, %s)", [space, text, limit, offset, only])
    total = next(int(r[4]) for r in rows if r[0] is None)
    hits = sorted(
        (
            SearchHit(path=r[0], title=r[1], score=float(r[2]), snippets=snippets(r[3]))
            for r in rows
            if r[0] is not None
        ),
        key=lambda h: (-h.score, h.path),
    )
    return SearchResults(total=total, hits=tuple(hits), offset=offset)


def snippets(headline: str | None) -> tuple[Snippet, ...]:
    """``ts_headline`` output (markers around matches, fragments delimited) as ``Snippet`` values."""
    out: list[Snippet] = []
    for fragment in (headline or "").split(_FRAGMENT):
        fragment = _SPACE.sub(" ", fragment).strip()
        if not fragment:
            continue
        text, spans, start = "", [], 0
        for i, part in enumerate(re.split(f"[{_START}{_STOP}]", fragment)):
            if i % 2:  # odd parts sat between a start and a stop marker
                start = len(text)
                text += part
                spans.append((start, len(text)))
            else:
                text += part
        out.append(Snippet(text=text, heading=None, spans=tuple(spans)))
    return tuple(out)
