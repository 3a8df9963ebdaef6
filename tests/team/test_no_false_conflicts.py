"""No false conflicts: 1,000 random trials of each edit pattern two people make at once on one
note (different paragraphs, adjacent lines, both appending at the end, different frontmatter keys)
merge cleanly, to exactly the note with both edits. A smaller number of trials goes the whole way
through two clones and PostgreSQL and must never leave a conflict copy."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import yaml

from mdstore.team.merge import merge
from tests.team.conftest import Clone, read, tree, write

TRIALS = 1000
Trial = Callable[[random.Random], tuple[bytes, bytes, bytes, bytes]]  # base, ours, theirs, expected


def _words(rng: random.Random, n: int) -> str:
    return " ".join(
        rng.choice(["alpha", "beta", "gamma", "delta", "log", "note", "plan", "idea"]) for _ in range(n)
    )


def _front(keys: dict[str, str]) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in keys.items()) + "---\n"


def _lines_note(rng: random.Random) -> tuple[dict[str, str], list[str]]:
    keys = {f"k{i}": _words(rng, 1) for i in range(rng.randint(2, 6))}
    lines = [f"line {i} {_words(rng, rng.randint(1, 6))}" for i in range(rng.randint(4, 30))]
    return keys, lines


def _text(keys: dict[str, str], lines: list[str]) -> bytes:
    return (_front(keys) + "\n".join(lines) + "\n").encode()


def paragraphs(rng: random.Random) -> tuple[bytes, bytes, bytes, bytes]:
    keys = {"title": "Doc"}
    paras = [f"para {i} {_words(rng, rng.randint(3, 12))}" for i in range(rng.randint(2, 15))]
    i, j = rng.sample(range(len(paras)), 2)
    ours, theirs, both = list(paras), list(paras), list(paras)
    ours[i] = both[i] = f"ours {i} {_words(rng, 4)}"
    theirs[j] = both[j] = f"theirs {j} {_words(rng, 4)}"

    def doc(ps: list[str]) -> bytes:
        return (_front(keys) + "\n\n".join(ps) + "\n").encode()

    return doc(paras), doc(ours), doc(theirs), doc(both)


def adjacent_lines(rng: random.Random) -> tuple[bytes, bytes, bytes, bytes]:
    keys, lines = _lines_note(rng)
    i = rng.randrange(len(lines) - 1)
    ours, theirs, both = list(lines), list(lines), list(lines)
    ours[i] = both[i] = f"ours edit {_words(rng, 3)}"
    theirs[i + 1] = both[i + 1] = f"theirs edit {_words(rng, 3)}"
    if rng.random() < 0.5:  # either side may come first in the file
        ours, theirs = theirs, ours
    return _text(keys, lines), _text(keys, ours), _text(keys, theirs), _text(keys, both)


def both_append(rng: random.Random) -> tuple[bytes, bytes, bytes, bytes]:
    keys, lines = _lines_note(rng)
    mine = [f"- ours {_words(rng, 3)}" for _ in range(rng.randint(1, 3))]
    other = [f"- theirs {_words(rng, 3)}" for _ in range(rng.randint(1, 3))]
    return (
        _text(keys, lines),
        _text(keys, lines + mine),
        _text(keys, lines + other),
        _text(keys, lines + other + mine),  # the one committed first (theirs) first
    )


def frontmatter_keys(rng: random.Random) -> tuple[bytes, bytes, bytes, bytes]:
    keys, lines = _lines_note(rng)
    a, b = rng.sample(sorted(keys), 2)
    ours, theirs, both = dict(keys), dict(keys), dict(keys)
    ours[a] = both[a] = "ours-value"
    theirs[b] = both[b] = "theirs-value"
    if rng.random() < 0.5:  # and each side may add a key of its own
        ours["added_by_ours"] = both["added_by_ours"] = "x"
        theirs["added_by_theirs"] = both["added_by_theirs"] = "y"
    return _text(keys, lines), _text(ours, lines), _text(theirs, lines), _text(both, lines)


KINDS: dict[str, Trial] = {
    "paragraphs": paragraphs,
    "adjacent_lines": adjacent_lines,
    "both_append": both_append,
    "frontmatter_keys": frontmatter_keys,
}


def _same_note(got: bytes, want: bytes) -> bool:
    if got == want:
        return True
    # Frontmatter keys merged per key may come in another order: compare values and body.
    g_head, _, g_body = got.decode().partition("\n---\n")
    w_head, _, w_body = want.decode().partition("\n---\n")
    return g_body == w_body and yaml.safe_load(g_head[4:]) == yaml.safe_load(w_head[4:])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_1000_trials_merge_cleanly(kind: str) -> None:
    rng = random.Random(f"no-false-conflict-{kind}")
    for trial in range(TRIALS):
        base, ours, theirs, want = KINDS[kind](rng)
        got = merge(base, ours, theirs)
        assert got is not None, (kind, trial, base, ours, theirs)
        assert _same_note(got, want), (kind, trial, got, want)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_through_two_clones_never_a_conflict_copy(kind: str, clone: Clone) -> None:
    rng = random.Random(f"two-clones-{kind}")
    a, b = clone("a"), clone("b")
    for trial in range(8):
        base, ours, theirs, want = KINDS[kind](rng)
        path = f"{kind}-{trial}.md"
        write(a, path, base)
        a.team.sync()
        b.team.sync()
        write(a, path, theirs)
        write(b, path, ours)
        a.team.sync()
        report = b.team.sync()
        a.team.sync()
        assert report.conflicts == (), (kind, trial)
        assert _same_note(read(b, path).encode(), want), (kind, trial)
    assert tree(a) == tree(b)
