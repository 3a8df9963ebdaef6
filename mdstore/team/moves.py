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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .local import LocalFiles
    from .state import Base

SIMILAR = 0.5  # the share of lines two versions of one moved note have in common, at least
CANDIDATES = 500  # more gone or new notes than this (unmatched by bytes): only identical bytes count


def moves_here(
    root: Path,
    files: LocalFiles,
    bases: Mapping[str, Base],
    differ: list[str],
    unfiled: list[str],
    note_extensions: tuple[str, ...],
    fetch: Callable[[list[int]], dict[int, bytes]],
) -> dict[str, str]:
    """old path -> new path of the moves made here: a shared path with no file (``unfiled``)
    paired with a file that has no base (among ``differ``), first by identical bytes, then, for
    notes, by similar contents (``fetch`` gives the bytes of revisions: the gone notes' bases)."""
    fresh: dict[str, str] = {}
    for rel in differ:
        if rel not in bases:
            fresh.setdefault(files[rel].hash, rel)
    moves: dict[str, str] = {}
    for rel in unfiled:
        digest = bases[rel].hash
        if digest in fresh:
            moves[rel] = fresh.pop(digest)
    gone = [rel for rel in unfiled if rel not in moves and rel.lower().endswith(note_extensions)]
    paired = set(moves.values())
    new = [rel for rel in differ if rel not in bases and rel not in paired and files[rel].kind == "note"]
    if not gone or not new or len(gone) > CANDIDATES or len(new) > CANDIDATES:
        return moves
    now: dict[str, bytes] = {}
    for rel in new:
        try:
            now[rel] = (root / rel).read_bytes()
        except OSError:
            continue  # gone again since the look at the files: a new note for the next sync
    found = fetch([bases[rel].revision for rel in gone])
    before = {rel: found[bases[rel].revision] for rel in gone if bases[rel].revision in found}
    moves.update(similar_moves(before, now))
    return moves


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
