"""Text search combined with ``find()``'s structured filters, one code path for ``Vault.search`` and
``Vault.find(text=...)`` so both answer the same question with the same notes in the same order.

DuckDB evaluates the filters (tags, frontmatter, folders, links, dates, tasks) and hands the engine
the matching paths as ``restrict``; the engine ranks. With a sort other than relevance, the engine
gives every match and DuckDB orders and pages them, exactly as ``find()`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from mdstore.errors import QueryError
from mdstore.index.query import Query, to_sql
from mdstore.result import Result
from mdstore.search.protocol import SearchBackend, SearchHit, SearchResults
from mdstore.search.query import parse_query

Run = Callable[[str, Sequence[Any]], Result]
"""The Vault's read path: SQL and parameters → rows."""

RELEVANCE = ("score", "relevance")


def sort_keys(sort: str | Sequence[str] | None) -> str | list[str] | None:
    """``sort`` for ``build_query``: relevance (``None``, ``"score"``) stays empty; ``mtime`` is
    accepted as the engines' name for ``modified``."""
    if sort is None:
        return None
    keys = [sort] if isinstance(sort, str) else list(sort)
    out: list[str] = []
    for key in keys:
        for part in str(key).split(","):
            part = part.strip()
            if part.lstrip("-") in RELEVANCE:
                continue
            out.append({"mtime": "modified", "-mtime": "-modified"}.get(part, part))
    return out or None


def _conditions(q: Query) -> bool:
    """Whether ``q`` filters anything (sorting and paging aside)."""
    return replace(q, sort=[], limit=None, offset=0) != Query()


def candidates(q: Query, run: Run) -> list[str] | None:
    """The paths passing ``q``'s filters, or ``None`` when it has none (every note qualifies)."""
    if not _conditions(q):
        return None
    sql, params = to_sql(replace(q, sort=[], limit=None, offset=0), columns="n.path")
    return run(sql, params).column("path")


def search(engine: SearchBackend, text: str, q: Query, run: Run, *, snippets: bool = True) -> SearchResults:
    """One page of hits for ``text`` among the notes passing ``q`` (its filters, sort and paging)."""
    if not isinstance(text, str):
        raise QueryError(f"a search query is text, not {type(text).__name__}")
    parse_query(text)  # a malformed query is reported before any filter runs
    restrict = candidates(q, run)
    everything = max(engine.count(), 1)
    if not q.sort:
        limit = q.limit if q.limit is not None else everything
        found = engine.search(text, limit=limit, offset=q.offset, restrict=restrict, snippets=snippets)
        return replace(found, offset=q.offset)
    # Sorted by note fields: rank every match, then let DuckDB order and page them like find().
    matches = engine.search(text, limit=everything, restrict=restrict, snippets=False)
    if not matches.hits:
        return replace(matches, offset=q.offset)
    by_path = {hit.path: hit for hit in matches.hits}
    sql, params = to_sql(
        Query(sort=q.sort, limit=q.limit, offset=q.offset, paths=list(by_path)), columns="n.path"
    )
    order = run(sql, params).column("path")
    if snippets and order:
        detailed = engine.search(text, limit=len(order), restrict=order, snippets=True)
        by_path.update({hit.path: replace(hit, score=by_path[hit.path].score) for hit in detailed.hits})
    hits = tuple(by_path[path] for path in order if path in by_path)
    return SearchResults(matches.total, hits, matches.suggestions, offset=q.offset)


def find_rows(engine: SearchBackend, text: str, q: Query, run: Run) -> tuple[Result, list[SearchHit]]:
    """``find()``'s rows (its columns, without tags) for the hits of ``text``, in hit order."""
    found = search(engine, text, q, run, snippets=False)
    hits = list(found.hits)
    sql, params = to_sql(Query(paths=[hit.path for hit in hits]))
    page = run(sql, params)
    rows = {row[0]: row for row in page.rows}
    kept = [hit for hit in hits if hit.path in rows]  # a note the engine knows but DuckDB no longer does
    return Result(page.columns, [rows[hit.path] for hit in kept]), kept
