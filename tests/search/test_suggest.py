"""Edit distance and "did you mean"."""

from __future__ import annotations

from mdstore.search.query import parse_query
from mdstore.search.suggest import corrections, edit_distance, suggest


def test_edit_distance() -> None:
    assert edit_distance("kitten", "sitting", 3) == 3
    assert edit_distance("kitten", "sitting", 2) == 3  # over the limit: limit + 1
    assert edit_distance("lookup", "lookpu", 2) == 2
    assert edit_distance("lookup", "lookpu", 2, transpositions=True) == 1
    assert edit_distance("", "ab", 2) == 2


def test_corrections_prefer_fewer_edits_then_frequent_words() -> None:
    vocabulary = [("lookup", 5), ("lockup", 50), ("look", 9), ("lookups", 1)]
    # lookup and lockup are one edit away (the more frequent first), lookups two, look three
    assert corrections("lokup", vocabulary) == ["lockup", "lookup", "lookups"]
    assert corrections("zzz", vocabulary) == []


def test_suggest_rewrites_only_unknown_words() -> None:
    vocab = {"tomatoes": 3, "compost": 2}

    def known(word: str) -> bool:
        return word in vocab

    def listing(letter: str) -> list[tuple[str, int]]:
        return [(w, n) for w, n in vocab.items() if w.startswith(letter)]

    query = "Tomatoes kompost"
    assert suggest(query, parse_query(query), known, listing) == ()  # first letter differs: not found
    query = "tomatos compst"
    assert suggest(query, parse_query(query), known, listing) == ("tomatoes compost",)
