"""How a word without ``field:`` is scored across fields: the boosts both engines use.

A default-field word becomes an OR over the fields below, each BM25-scored and multiplied by its
boost, summed: a word in a title or file name counts more than the same word in a long body.
(Not disjunction-max: Whoosh's implementation of it is broken, see whoosh_engine.py.)

The numbers come from benchmarks/bench_relevance.py on the Dendron vault (title and heading
known-item queries, MRR@10); change them only with that benchmark's numbers in hand.

Measured with tantivy on Dendron (1,012 notes; title / heading MRR@10; docs/search.md has the table):
all boosts 1: 0.737 / 0.543 · title 4, name 2, headings 2: 0.813 / 0.514 · title 8: 0.837 / 0.494 ·
these (title 6, name 1, headings 3): 0.818 / 0.523. A higher title boost helps title queries and
hurts heading queries; these values balance the two.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Boosts:
    title: float = 6.0
    aliases: float = 3.0
    headings: float = 3.0
    body: float = 1.0
    name: float = 1.0  # file name (in Obsidian vaults mostly the title again; in Dendron the hierarchy)
    tags: float = 2.0
    vocabulary: float = 0.5  # unstemmed words: only prefix and fuzzy queries use it

    def of(self, field: str) -> float:
        return float(getattr(self, field))


DEFAULT_BOOSTS = Boosts()
