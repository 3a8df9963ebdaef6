"""How a word without ``field:`` is scored across fields: the boosts both engines use.

A default-field word becomes a disjunction-max over the fields below: a note scores by its best
field (plus ``tie`` times the others), so a word in a title outranks the same word repeated in a
long body. The numbers come from benchmarks/bench_relevance.py on the Dendron vault (title and
heading known-item queries, MRR@10); change them only with that benchmark's numbers in hand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Boosts:
    title: float = 4.0
    aliases: float = 3.0
    headings: float = 2.0
    body: float = 1.0
    name: float = 2.0  # file name
    tags: float = 2.0
    vocabulary: float = 0.5  # unstemmed words: only prefix and fuzzy queries use it
    tie: float = 0.3  # weight of the non-best fields in the disjunction-max

    def of(self, field: str) -> float:
        return float(getattr(self, field))


DEFAULT_BOOSTS = Boosts()
