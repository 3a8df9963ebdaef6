"""Whoosh queries: the shared query tree (``query.py``) compiled to Whoosh query objects, and the
collector that ranks and counts their matches (``whoosh_engine.py`` runs them)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from mdstore.search.documents import META_KEY
from mdstore.search.query import (
    TEXT_FIELDS,
    And,
    Fuzzy,
    Keyword,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    positive_leaves,
)
from mdstore.search.ranking import Boosts


class Compiler:
    """The shared query tree → Whoosh query objects.

    A word without ``field:`` matches a note when it is in any text field or is a tag. Whoosh's
    matchers are Python, and a union over six fields under every word of an AND made a two-word
    query score each of its ~1,000 hits through dozens of matcher objects (20 ms on 10k notes). So
    words are *matched* in ``content`` (all text fields in one) or ``tags``, and the fields that
    weigh more than the body — title, aliases, headings, file name — add their boosted score on
    top where they also hold the word (``bonus``, added by ``_collect``): the field-weighted sum
    it was, at a third of the cost.
    """

    BONUS_FIELDS = tuple(field for field in TEXT_FIELDS if field != "body")

    def __init__(self, boosts: Boosts) -> None:
        from whoosh import query

        self.q = query
        self.boosts = boosts

    def default(self, make: Any, extra: list[Any]) -> Any:
        # a sum over fields (Or), not DisjunctionMax: whoosh's DisjunctionMaxMatcher mixes up the
        # scores of different documents (every hit gets the best one) and drops its tiebreak
        parts = [make(field, self.boosts.of(field)) for field in TEXT_FIELDS] + extra
        return self.q.Or(parts)

    def compile(self, node: Node) -> Any:
        q = self.q
        if isinstance(node, Term):
            if node.field is None:
                tag = q.Term("tags", node.word, boost=self.boosts.tags)
                return q.Or([q.Term("content", node.token, boost=self.boosts.body), tag])
            return q.Term(node.field, node.token)
        if isinstance(node, Phrase):
            if node.field is None:
                return self.default(lambda f, b: q.Phrase(f, list(node.tokens), boost=b), [])
            return q.Phrase(node.field, list(node.tokens))
        if isinstance(node, Prefix):
            if node.field is None:
                words = q.Prefix("vocabulary", node.prefix, boost=self.boosts.vocabulary)
                return q.Or([q.Prefix("content", node.prefix, boost=self.boosts.body), words])
            return q.Prefix(node.field, node.prefix)
        if isinstance(node, Fuzzy):

            def fuzzy(field: str, text: str, boost: float = 1.0) -> Any:
                return q.FuzzyTerm(field, text, boost=boost, maxdist=node.distance, prefixlength=0)

            if node.field is None:
                words = fuzzy("vocabulary", node.word, self.boosts.vocabulary)
                return q.Or([fuzzy("content", node.token, self.boosts.body), words])
            return fuzzy(node.field, node.token)
        if isinstance(node, Keyword):
            return q.Prefix(node.field, node.value) if node.prefix else q.Term(node.field, node.value)
        if isinstance(node, Not):
            return q.AndNot(q.Every(), self.compile(node.child))
        if isinstance(node, And):
            positive = [self.compile(c) for c in node.children if not isinstance(c, Not)]
            negative = [self.compile(c.child) for c in node.children if isinstance(c, Not)]
            base = q.And(positive) if positive else q.Every()
            return q.AndNot(base, q.Or(negative)) if negative else base
        assert isinstance(node, Or)
        return q.Or([self.compile(c) for c in node.children])

    def top(self, node: Node) -> Any:
        # Every() matches the bookkeeping document too; it is never a hit
        return self.q.AndNot(self.compile(node), self.q.Term("meta", META_KEY))

    def bonus(self, node: Node) -> list[Any]:
        """The boosted title/alias/heading/name terms of the query's default-field words."""
        return [
            self.q.Term(field, leaf.token, boost=self.boosts.of(field))
            for leaf in positive_leaves(node)
            if isinstance(leaf, Term) and leaf.field is None
            for field in self.BONUS_FIELDS
        ]


def collect(
    searcher: Any, query: Any, limit: int, wanted: set[int] | None, sort: str, bonus: Sequence[Any] = ()
) -> Any:
    """The top ``limit`` results, the exact count of all matches, and ``bonus`` terms' scores added
    to the matches that also hold them.

    Whoosh's default top-N collector swaps the matcher for a cheaper one once its heap is full,
    dropping branches that cannot reach the current minimum score: the right top N, but a total
    that misses every match it skipped. So this collector never swaps (``replace=0``) nor skips
    blocks (``usequality=False``): it visits each match once, which it has to for the count.
    """
    from whoosh import collectors

    collector: Any
    if sort == "score":
        collector = _bonus_collector()(limit, _bonus_scores(searcher, bonus))
    else:
        collector = collectors.SortingCollector("mtime", limit=limit, reverse=sort == "-mtime")
    if wanted is not None:
        collector = collectors.FilterCollector(collector, wanted)
    searcher.search_with_collector(query, collector)
    return collector.results()


def _bonus_scores(searcher: Any, terms: Sequence[Any]) -> dict[int, float]:
    """Top-level document number → the summed scores of the ``terms`` it holds. Title, alias and
    heading words are rare next to body words: these few short posting lists cost far less than
    asking every match of the query whether it holds each of them."""
    scores: dict[int, float] = {}
    if not terms:
        return scores
    context = searcher.context()
    for subsearcher, offset in searcher.leaf_searchers():
        for term in terms:
            matcher = term.matcher(subsearcher, context)
            while matcher.is_active():
                docnum = offset + matcher.id()
                scores[docnum] = scores.get(docnum, 0.0) + matcher.score()
                matcher.next()
    return scores


@functools.lru_cache(maxsize=1)
def _bonus_collector() -> Any:
    """Whoosh's top-N collector, adding each match's bonus score (a class made on first use: this
    module does not import Whoosh until it searches)."""
    from whoosh import collectors

    class BonusCollector(collectors.TopCollector):
        def __init__(self, limit: int, bonus: dict[int, float]) -> None:
            super().__init__(limit, usequality=False, replace=0)
            self.bonus = bonus

        def collect(self, sub_docnum: int) -> Any:
            docnum = self.offset + sub_docnum
            return self._collect(docnum, self.matcher.score() + self.bonus.get(docnum, 0.0))

    return BonusCollector
