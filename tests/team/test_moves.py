"""A move made here travels as a move even when the moved note's bytes changed on the way (``mv``
rewrote its links to itself, or it was edited before the sync): an edit made elsewhere at the old
path lands in the moved note, in either sync order, and nothing is lost."""

from __future__ import annotations

import pytest

import mdstore
from mdstore.team.moves import similar_moves
from tests.team.conftest import Clone, read, tree, write

NOTE = "# n\nline1 self [[note]]\nline2\nline3\n"
REF = "see [[note]] and [x](note.md)\n"
PLAN = "---\ntitle: Plan\nstatus: draft\nowner: ann\n---\n# Plan\n\none\ntwo\nthree\nfour\n"


def _shared(clone: Clone, notes: dict[str, str]) -> tuple[mdstore.Vault, mdstore.Vault]:
    a, b = clone("a"), clone("b")
    for path, text in notes.items():
        write(a, path, text)
    a.team.sync()
    b.team.sync()
    return a, b


def _sync(first: str, a: mdstore.Vault, b: mdstore.Vault) -> None:
    """Mover (a) or editor (b) first, then each again until both have everything."""
    order = (a, b) if first == "mover" else (b, a)
    for vault in order + order:
        vault.team.sync()


def _actions(vault: mdstore.Vault, path: str) -> list[str]:
    return [row["action"] for row in vault.team.log(path)]


@pytest.mark.parametrize("first", ["mover", "editor"])
def test_mv_rewriting_the_notes_own_link_keeps_the_edit_made_elsewhere(clone: Clone, first: str) -> None:
    a, b = _shared(clone, {"note.md": NOTE, "ref.md": REF})
    a.move("note.md", "dir/moved.md")  # rewrites [[note]] in the note itself: new bytes
    assert "[[moved]]" in read(a, "dir/moved.md")
    write(b, "note.md", NOTE.replace("line2", "line2 EDITED-IN-B"))
    _sync(first, a, b)
    moved = "# n\nline1 self [[moved]]\nline2 EDITED-IN-B\nline3\n"
    assert tree(a) == tree(b)
    assert set(tree(a)) == {"dir/moved.md", "ref.md"}
    assert read(a, "dir/moved.md") == moved
    assert "move" in _actions(a, "dir/moved.md")


@pytest.mark.parametrize("first", ["mover", "editor"])
def test_moved_and_edited_here_edited_there_merges_at_the_new_path(clone: Clone, first: str) -> None:
    a, b = _shared(clone, {"Plan.md": PLAN})
    a.move("Plan.md", "Archive/Plan.md")
    write(a, "Archive/Plan.md", read(a, "Archive/Plan.md").replace("one\n", "ONE\n"))
    write(b, "Plan.md", PLAN.replace("four\n", "FOUR\n"))
    _sync(first, a, b)
    both = PLAN.replace("one\n", "ONE\n").replace("four\n", "FOUR\n").encode()
    assert tree(a) == tree(b) == {"Archive/Plan.md": both}


@pytest.mark.parametrize("policy", ["keep-both", "mine", "theirs"])
@pytest.mark.parametrize("first", ["mover", "editor"])
def test_moved_and_edited_here_overlapping_edit_there_follows_the_policy(
    clone: Clone, first: str, policy: str
) -> None:
    a, b = _shared(clone, {"Plan.md": PLAN})
    a.move("Plan.md", "Archive/Plan.md")
    write(a, "Archive/Plan.md", read(a, "Archive/Plan.md").replace("two\n", "ann's two\n"))
    write(b, "Plan.md", PLAN.replace("two\n", "bob's two\n"))
    order = (a, b) if first == "mover" else (b, a)
    for vault in order + order:
        vault.team.sync(policy=policy)
    assert tree(a) == tree(b)
    # The clone that syncs second meets the overlap: "mine" is its version.
    first_in, second = ("ann's two", "bob's two") if first == "mover" else ("bob's two", "ann's two")
    if policy == "keep-both":  # the version committed first at the path, the other beside it
        (copy,) = [p for p in tree(a) if p != "Archive/Plan.md"]
        assert copy.startswith("Archive/Plan (conflict ")
        assert first_in in read(a, "Archive/Plan.md") and second in read(a, copy)
        return
    assert set(tree(a)) == {"Archive/Plan.md"}
    if policy == "mine":
        assert second in read(a, "Archive/Plan.md")
    else:
        assert first_in in read(a, "Archive/Plan.md")
        trashed = [f.read_text() for f in (order[1].root / ".trash").rglob("*.md")]
        assert any(second in t for t in trashed)


@pytest.mark.parametrize("first", ["mover", "editor"])
def test_a_renamed_folder_whose_notes_links_change_keeps_the_edits_made_elsewhere(
    clone: Clone, first: str
) -> None:
    d1 = "# d1\nsee [[Dir/d2]]\nd1 body\nmore\n"
    d2 = "# d2\nback to [[Dir/d1]]\nd2 body\nmore\n"
    a, b = _shared(clone, {"Dir/d1.md": d1, "Dir/d2.md": d2})
    a.move("Dir", "Dir2")
    assert "[[Dir2/d2]]" in read(a, "Dir2/d1.md")
    write(b, "Dir/d1.md", d1.replace("d1 body", "d1 body, bob's edit"))
    write(b, "Dir/d2.md", d2 + "bob's line\n")
    _sync(first, a, b)
    assert tree(a) == tree(b)
    assert set(tree(a)) == {"Dir2/d1.md", "Dir2/d2.md"}
    assert read(a, "Dir2/d1.md") == "# d1\nsee [[Dir2/d2]]\nd1 body, bob's edit\nmore\n"
    assert read(a, "Dir2/d2.md") == "# d2\nback to [[Dir2/d1]]\nd2 body\nmore\nbob's line\n"


@pytest.mark.parametrize("first", ["deleter", "editor"])
def test_a_delete_and_an_unrelated_new_note_are_no_move(clone: Clone, first: str) -> None:
    a, b = _shared(clone, {"Plan.md": PLAN})
    (a.root / "Plan.md").unlink()
    # Same frontmatter keys and shape, different words: not the same note.
    other = "---\ntitle: Shop\nstatus: done\nowner: ann\n---\n# Shop\n\neggs\nmilk\nbread\n"
    write(a, "Shop.md", other)
    write(b, "Plan.md", PLAN.replace("one\n", "ONE\n"))
    _sync("mover" if first == "deleter" else "editor", a, b)
    assert (
        tree(a) == tree(b) == {"Plan.md": PLAN.replace("one\n", "ONE\n").encode(), "Shop.md": other.encode()}
    )
    assert _actions(a, "Shop.md") == ["create"]


def test_similar_moves_pairs_each_note_once_best_first() -> None:
    old = {"a.md": b"# a\nx\ny\nz\n", "b.md": b"# b\np\nq\nr\n"}
    new = {
        "n1.md": b"# a\nx\ny\nz changed\n",  # 3 of 4 lines of a
        "n2.md": b"# a\nx\ny\nz\nw\n",  # 4 of 5 lines of a: the better match
        "n3.md": b"# c\nunrelated\n\n\n",
    }
    assert similar_moves(old, new) == {"a.md": "n2.md"}


def test_similar_moves_ignores_blank_lines_and_empty_notes() -> None:
    assert similar_moves({"a.md": b"\n\n\nx\n"}, {"b.md": b"\n\n\ny\n"}) == {}
    assert similar_moves({"a.md": b""}, {"b.md": b"\n"}) == {}
