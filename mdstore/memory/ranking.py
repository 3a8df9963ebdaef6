"""How ``search_insights`` orders insights (docs/memory.md, *Ranking*).

Each retriever (the vault's full-text engine; the vectors when embeddings are on) gives a ranked
list. Reciprocal-rank fusion turns ranks into one score, so no retriever's raw scale dominates:

    fused(d)  = Σ over lists  weight(list) / (RRF_K + rank(d))     rank from 1; text 1, vectors vector_weight

The text ranking is BM25 over the query's analysed terms, less the words that only make it a question
and the pieces an apostrophe leaves ("Ann's": "s").
    recency   = 0.5 ** (age_days / half_life_days)
    score(d)  = fused(d) × relevance(d) × (1 − recency_weight + recency_weight × recency)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .embeddings import EmbeddingProvider
    from .retrieval import Corpus

RRF_K = 60  # the constant of Cormack et al.'s reciprocal-rank fusion: damps the top ranks' lead


def fuse(rankings: Iterable[tuple[Sequence[str], float]], k: int = RRF_K) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of ``(ranking, weight)`` pairs."""
    scores: dict[str, float] = {}
    for ranking, weight in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return scores


def recency(created: dt.datetime, now: dt.datetime, half_life_days: float) -> float:
    """1 for a new insight, 0.5 after one half-life, towards 0 after that."""
    age = max((now - created).total_seconds(), 0.0) / 86400.0
    return float(0.5 ** (age / half_life_days))


def weight(
    relevance: float, created: dt.datetime, now: dt.datetime, half_life_days: float, recency_weight: float
) -> float:
    fresh = recency(created, now, half_life_days)
    return max(relevance, 0.0) * (1.0 - recency_weight + recency_weight * fresh)


def retrieve(
    corpus: Corpus,
    query: str,
    provider: EmbeddingProvider | None,
    vector_weight: float,
    limit: int,
    admit: Callable[[str], bool] | None = None,
) -> dict[str, float]:
    """Fused scores of the documents that BM25 or the vectors find for ``query`` (``admit``
    decides which documents may be returned at all)."""
    pool = max(limit * 10, 100)
    rankings: list[tuple[Sequence[str], float]] = []
    terms = dict.fromkeys(query_terms(query), 1.0)
    if terms:
        rankings.append((corpus.bm25(terms, pool, admit), 1.0))
    if provider is not None and corpus.has_vectors and query.strip():
        from .embeddings import as_matrix

        vector = as_matrix(provider, [query])[0]
        if vector.any():
            rankings.append((corpus.nearest(vector, pool, admit), vector_weight))
    return fuse(rankings)


def query_terms(query: str) -> list[str]:
    """The analysed terms of ``query`` without the words that only make it a question ("what",
    "which", "did"...), which match chit-chat rather than the answer, and without the pieces an
    apostrophe leaves ("Ann's" → "ann" + "s", "I'll" → "i" + "ll"): single letters and ``ll``,
    ``re``, ``ve``, which match every entry with a contraction. All kept when nothing else is left."""
    from ..search.analysis import tokens

    terms = tokens(query)
    kept = [t for t in terms if t not in _question_words() and not _fragment(t)]
    return kept or terms


def _fragment(term: str) -> bool:
    return (len(term) == 1 and term.isalpha()) or term in _FRAGMENTS


_FRAGMENTS = frozenset({"ll", "re", "ve"})


@functools.cache
def _question_words() -> frozenset[str]:
    from ..search.analysis import tokens

    return frozenset(tokens(QUESTION_WORDS))


QUESTION_WORDS = "what which where when who whom whose why how did does do doing done is are was were"
