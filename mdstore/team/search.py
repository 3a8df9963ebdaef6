"""Full-text search over a team space in PostgreSQL: a generated, weighted ``tsvector`` (title >
headings > body) with a GIN index, ``websearch_to_tsquery`` syntax, ranked and highlighted.

The query runs through ``mdstore_search`` (``schema.py``), which filters on the caller's own spaces
so the index is used under row-level security. Results are the local search's types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import QueryError
from ..search.protocol import SearchHit, SearchResults, Snippet

if TYPE_CHECKING:
    import psycopg

_OPEN, _CLOSE, _FRAGMENT = "\x02", "\x03", "\x04"  # ts_headline's markers (never in note text)


def search(
    conn: psycopg.Connection[Any], space: str, text: str, *, limit: int = 10, offset: int = 0
) -> SearchResults:
    """The notes of ``space`` matching ``text`` (web-search syntax: words, "phrases", -not, or)."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError("empty search query")
    if "\x00" in text:  # PostgreSQL text cannot hold NUL: refuse it here, not as a driver traceback
        raise QueryError("search query contains a NUL character")
    if not isinstance(limit, int) or limit < 1:
        raise QueryError(f"limit must be a positive integer, not {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise QueryError(f"offset must be a non-negative integer, not {offset!r}")
    rows = conn.execute(
        "SELECT path, title, rank, snippet, total FROM mdstore_search(%s, %s, %s, %s)",
        (space, text, limit, offset),
    ).fetchall()
    conn.commit()
    total = int(rows[0][4]) if rows else 0
    if not rows and offset:
        total = _count(conn, space, text)
    hits = tuple(
        SearchHit(path, title, round(float(rank), 6), _snippets(snippet))
        for path, title, rank, snippet, _ in rows
    )
    return SearchResults(total=total, hits=hits, offset=offset)


def _count(conn: psycopg.Connection[Any], space: str, text: str) -> int:
    """The total when a page past the end came back empty."""
    row = conn.execute("SELECT count(*) FROM mdstore_search(%s, %s, NULL, 0)", (space, text)).fetchone()
    conn.commit()
    return int(row[0]) if row else 0


def _snippets(marked: str | None) -> tuple[Snippet, ...]:
    """ts_headline's fragments as Snippets, the markers turned into spans."""
    out: list[Snippet] = []
    for fragment in (marked or "").split(_FRAGMENT):
        clean = " ".join(fragment.replace(_OPEN, "").replace(_CLOSE, "").split())
        if clean:
            out.append(Snippet(text=clean, heading=None, spans=_respan(fragment, clean)))
    return tuple(out)


def _respan(marked: str, clean: str) -> tuple[tuple[int, int], ...]:
    """The spans of the marked words in ``clean`` (whitespace collapsed), in order."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in marked.split(_OPEN)[1:]:
        word = " ".join(piece.partition(_CLOSE)[0].split())
        found = clean.find(word, cursor)
        if word and found >= 0:
            spans.append((found, found + len(word)))
            cursor = found + len(word)
    return tuple(spans)
