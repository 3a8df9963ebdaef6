"""Which of a clone's new files are its deleted files moved, when their bytes changed on the way.

A move made here reaches the server as a move only if the sync recognises it: a path gone here
paired with a path new here. Identical bytes are the plain case (``Exchange._local_moves``). But
``mdstore mv`` rewrites the moved note's links to itself, and a note may be edited after it was
moved and before the next sync: its bytes differ from the old path's. Like git's rename detection,
such a pair is a move when the two versions have at least half their lines in common, each gone
path paired with at most one new path, the most similar pairs first. Blank lines are not counted
(every note has them), so two unrelated notes do not look alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

SIMILAR = 0.5  # the share of lines two versions of one moved note have in common, at least
CANDIDATES = 500  # more gone or new notes than this (unmatched by bytes): only identical bytes count


def similar_moves(gone: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict[str, str]:
    """old path -> new path for the pairs whose contents are similar enough, best match first."""
    old_lines = {path: _lines(data) for path, data in gone.items()}
    new_lines = {path: _lines(data) for path, data in new.items()}
    scored: list[tuple[float, str, str]] = []
    for old, a in old_lines.items():
        for path, b in new_lines.items():
            score = _similarity(a, b)
            if score >= SIMILAR:
                scored.append((score, old, path))
    # Best first; among equals, by path, so that every clone would pair them alike.
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    moves: dict[str, str] = {}
    taken: set[str] = set()
    for _score, old, path in scored:
        if old not in moves and path not in taken:
            moves[old] = path
            taken.add(path)
    return moves


def _lines(data: bytes) -> Counter[bytes]:
    return Counter(line.strip() for line in data.splitlines() if line.strip())


def _similarity(a: Counter[bytes], b: Counter[bytes]) -> float:
    """The lines the two have in common, as a share of the longer one's (0 for two empty notes:
    nothing says they are one note)."""
    longer = max(a.total(), b.total())
    if not longer or min(a.total(), b.total()) < SIMILAR * longer:
        return 0.0
    return (a & b).total() / longer
