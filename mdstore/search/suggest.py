""" "Did you mean": corrections for query words the index has never seen.

The engines index a ``vocabulary`` field of unstemmed words (stems like ``configur`` make poor
suggestions); an engine hands this module the words of that field that share the typed word's first
letter, with their document frequency, and this module picks the closest ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from mdstore.search.analysis import fold
from mdstore.search.query import Fuzzy, Node, Term, positive_leaves

MAX_SUGGESTIONS = 3
_WORD = re.compile(r"\w+")


def edit_distance(a: str, b: str, limit: int, *, transpositions: bool = False) -> int:
    """Edits from ``a`` to ``b``, or ``limit + 1`` once it exceeds ``limit``.

    Plain Levenshtein (insert, delete, substitute) is what both engines use for ``word~``;
    ``transpositions=True`` also counts swapping two neighbours as one edit (the commonest typo,
    used for suggestions).
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if transpositions and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1] if previous[-1] <= limit else limit + 1


def _max_edits(word: str) -> int:
    return 1 if len(word) <= 4 else 2


def corrections(word: str, candidates: Iterable[tuple[str, int]], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The closest ``candidates`` (word, document frequency) to ``word``: fewer edits, then more common."""
    edits = _max_edits(word)
    scored: list[tuple[int, int, str]] = []
    for candidate, frequency in candidates:
        if candidate == word:
            continue
        distance = edit_distance(word, candidate, edits, transpositions=True)
        if distance <= edits:
            scored.append((distance, -frequency, candidate))
    scored.sort()
    return [candidate for _, _, candidate in scored[:limit]]


def suggest(
    query: str,
    tree: Node | None,
    known: Callable[[str], bool],
    vocabulary: Callable[[str], Iterable[tuple[str, int]]],
) -> tuple[str, ...]:
    """Corrected versions of ``query``, replacing each word the index lacks by a close known word.

    ``known(word)`` says whether the vocabulary holds ``word``; ``vocabulary(first_letter)`` lists
    the vocabulary words starting with that letter.
    """
    fixes: dict[str, list[str]] = {}
    for leaf in positive_leaves(tree):
        if isinstance(leaf, (Term, Fuzzy)) and leaf.word not in fixes and not known(leaf.word):
            found = corrections(leaf.word, vocabulary(leaf.word[0]))
            if found:
                fixes[leaf.word] = found
    if not fixes:
        return ()
    out: list[str] = []
    for rank in range(MAX_SUGGESTIONS):

        def replace(match: re.Match[str], rank: int = rank) -> str:
            options = fixes.get(fold(match.group()))
            return options[min(rank, len(options) - 1)] if options else match.group()

        text = _WORD.sub(replace, query)
        if text not in out:
            out.append(text)
    return tuple(out)
