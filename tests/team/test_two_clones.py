"""Two clones editing the same note: what merges, what becomes a conflict copy, and that nothing
is ever lost."""

from __future__ import annotations

import pytest

from mdstore.errors import SyncConflict
from tests.team.conftest import Clone, read, tree, write

NOTE = "---\ntitle: Plan\nstatus: draft\nowner: ann\n---\n# Plan\n\none\ntwo\nthree\nfour\n"


def _shared(clone: Clone, text: str = NOTE, path: str = "Plan.md", **team: object):  # type: ignore[no-untyped-def]
    a, b = clone("a", **team), clone("b", **team)
    write(a, path, text)
    a.team.sync()
    b.team.sync()
    return a, b


def test_different_frontmatter_keys_both_win(clone: Clone) -> None:
    a, b = _shared(clone)
    a.update("Plan.md", set={"status": "done"})
    b.update("Plan.md", set={"owner": "bob", "due": "2026-12-24"})
    a.team.sync()
    report = b.team.sync()
    assert report.merged == ("Plan.md",) and report.conflicts == ()
    a.team.sync()
    assert tree(a) == tree(b)
    fm = a.get("Plan.md").frontmatter
    assert (fm["status"], fm["owner"], str(fm["due"])) == ("done", "bob", "2026-12-24")


def test_same_key_changed_differently_keeps_both(clone: Clone) -> None:
    a, b = _shared(clone)
    a.update("Plan.md", set={"status": "done"})
    b.update("Plan.md", set={"status": "dropped"})
    a.team.sync()
    report = b.team.sync()
    assert len(report.conflicts) == 1
    copy = report.conflicts[0]
    assert copy.startswith("Plan (conflict ") and copy.endswith(").md")
    assert b.get("Plan.md").frontmatter["status"] == "done"  # the version committed first keeps the path
    assert b.get(copy).frontmatter["status"] == "dropped"  # the other is beside it
    a.team.sync()
    assert tree(a) == tree(b)  # the copy was pushed too
    assert b.team.conflicts().column("original") == ["Plan.md"]


def test_body_edits_on_different_and_adjacent_lines_merge(clone: Clone) -> None:
    a, b = _shared(clone)
    write(a, "Plan.md", NOTE.replace("two\n", "TWO\n"))
    write(b, "Plan.md", NOTE.replace("three\n", "THREE\n"))
    a.team.sync()
    assert b.team.sync().conflicts == ()
    assert "TWO\nTHREE\n" in read(b, "Plan.md")


def test_both_appending_at_the_end_keeps_both_in_revision_order(clone: Clone) -> None:
    a, b = _shared(clone)
    a.append("Plan.md", "- from ann")
    b.append("Plan.md", "- from bob")
    a.team.sync()
    b.team.sync()
    a.team.sync()
    assert read(a, "Plan.md").endswith("four\n- from ann\n- from bob\n")
    assert tree(a) == tree(b)


def test_body_overlap_is_a_conflict_copy_and_policies(clone: Clone) -> None:
    a, b = _shared(clone)
    write(a, "Plan.md", NOTE.replace("two\n", "ann's two\n"))
    write(b, "Plan.md", NOTE.replace("two\n", "bob's two\n"))
    a.team.sync()
    with pytest.raises(SyncConflict, match="Plan.md"):
        b.team.sync(policy="fail")
    assert "bob's two" in read(b, "Plan.md")  # fail: nothing changed here
    b.team.sync(policy="mine")
    a.team.sync()
    assert "bob's two" in read(a, "Plan.md")
    assert any(r["path"] == "Plan.md" for r in a.team.log("Plan.md"))  # ann's version stays in history


def test_theirs_policy_keeps_the_local_version_in_the_trash(clone: Clone) -> None:
    a, b = _shared(clone)
    write(a, "Plan.md", NOTE.replace("two\n", "ann's two\n"))
    write(b, "Plan.md", NOTE.replace("two\n", "bob's two\n"))
    a.team.sync()
    b.team.sync(policy="theirs")
    assert "ann's two" in read(b, "Plan.md")
    trashed = [p.read_text() for p in (b.root / ".trash").rglob("*.md")]
    assert any("bob's two" in t for t in trashed)


def test_an_edit_beats_a_delete_both_ways(clone: Clone) -> None:
    a, b = _shared(clone)
    a.delete("Plan.md")
    b.update("Plan.md", set={"status": "kept"})
    a.team.sync()
    b.team.sync()  # b's edit meets a's delete: the edit wins and is pushed again
    a.team.sync()
    assert a.get("Plan.md").frontmatter["status"] == "kept"
    # And the other way round: the edit is pushed first, the delete meets it.
    a.update("Plan.md", set={"status": "again"})
    b.delete("Plan.md")
    a.team.sync()
    b.team.sync()
    assert b.get("Plan.md").frontmatter["status"] == "again"
    assert tree(a) == tree(b)


def test_a_pulled_delete_goes_to_the_trash(clone: Clone) -> None:
    a, b = _shared(clone)
    a.delete("Plan.md")
    a.team.sync()
    assert b.team.sync().deleted == ("Plan.md",)
    assert not (b.root / "Plan.md").exists()
    assert [p.name for p in (b.root / ".trash").rglob("*.md")] == ["Plan.md"]


def test_moves_travel_as_moves_and_meet_edits(clone: Clone) -> None:
    a, b = _shared(clone)
    a.move("Plan.md", "Projects/Plan.md")
    a.team.sync()
    assert b.team.sync().moved == (("Plan.md", "Projects/Plan.md"),)
    assert tree(a) == tree(b)
    # Move here, edit there: the edit lands in the moved note.
    b.move("Projects/Plan.md", "Archive/Plan.md")
    write(a, "Projects/Plan.md", read(a, "Projects/Plan.md").replace("one\n", "ONE\n"))
    a.team.sync()
    b.team.sync()
    a.team.sync()
    assert tree(a) == tree(b)
    assert "ONE" in read(b, "Archive/Plan.md") and not (b.root / "Projects/Plan.md").exists()


def test_move_and_edit_here_edit_there_keeps_both_edits(clone: Clone) -> None:
    """A note moved and then edited here before a sync, edited at its old path elsewhere: the
    move is recognised by the notes' likeness, and both edits meet in the moved note."""
    a, b = _shared(clone)
    b.move("Plan.md", "Archive/Plan.md")
    write(b, "Archive/Plan.md", read(b, "Archive/Plan.md").replace("four\n", "four\nbob's line\n"))
    write(a, "Plan.md", read(a, "Plan.md").replace("one\n", "ONE\n"))
    a.team.sync()
    b.team.sync()
    a.team.sync()
    assert tree(a) == tree(b)
    both = NOTE.replace("one\n", "ONE\n").replace("four\n", "four\nbob's line\n").encode()
    assert tree(b) == {"Archive/Plan.md": both}


def test_a_pulled_move_and_a_pulled_edit_of_its_old_path_keep_every_edit(clone: Clone) -> None:
    """A clone that pulled a move but lost its state (killed before saving it) sees the move as
    its own again. When the moved note was edited meanwhile and its old path revived by an edit
    that met the delete, both edits end up in the moved note."""
    a, b = _shared(clone)
    c = clone("c")
    c.team.sync()
    state = b.root / ".mdstore" / "team"
    before = {f.name: f.read_bytes() for f in state.iterdir() if f.is_file()}
    write(c, "Plan.md", read(c, "Plan.md").replace("two\n", "TWO from c\n"))  # not yet synced
    a.move("Plan.md", "Archive/Plan.md")
    a.team.sync()
    b.team.sync()  # pulls the move ...
    for f in state.iterdir():  # ... and is killed before its state is written
        if f.is_file() and f.name not in before:
            f.unlink()
    for name, data in before.items():
        (state / name).write_bytes(data)
    b.close()
    a.append("Archive/Plan.md", "- a's line")
    a.team.sync()
    c.team.sync()  # c's edit meets the delete: the edit wins, Plan.md lives again
    b = clone("b")
    b.team.sync()
    for v in (a, c, b, a, c):
        v.team.sync()
    assert tree(a) == tree(b) == tree(c)
    everything = "".join(x.decode() for x in tree(a).values())
    assert "a's line" in everything and "TWO from c" in everything, tree(a)


def test_edit_here_move_there(clone: Clone) -> None:
    a, b = _shared(clone)
    write(b, "Plan.md", NOTE.replace("one\n", "ONE\n"))
    a.move("Plan.md", "Projects/Plan.md")
    a.team.sync()
    b.team.sync()
    a.team.sync()
    assert tree(a) == tree(b)
    texts = [v.decode() for v in tree(a).values()]
    assert any("ONE" in t for t in texts)  # the edit survives (in the moved note or beside it)


@pytest.mark.parametrize("first", ["mover", "editor"])
def test_moved_there_edited_here_ends_at_the_new_path_with_the_edit(clone: Clone, first: str) -> None:
    a, b = _shared(clone)
    (a.root / "Archive").mkdir()
    (a.root / "Plan.md").rename(a.root / "Archive/Plan.md")  # a plain mv, outside mdstore
    write(b, "Plan.md", NOTE + "bob's line\n")
    if first == "mover":
        a.team.sync()
        report = b.team.sync()
        assert report.moved == (("Plan.md", "Archive/Plan.md"),) and report.pushed == ("Archive/Plan.md",)
        assert report.conflicts == ()
        a.team.sync()
    else:
        b.team.sync()
        a.team.sync()
        b.team.sync()
    assert tree(a) == tree(b) == {"Archive/Plan.md": (NOTE + "bob's line\n").encode()}


def test_a_folder_renamed_there_carries_the_edit_made_here(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Dir/d1.md", "# d1\nd1\n")
    write(a, "Dir/d2.md", "# d2\nd2\n")
    a.team.sync()
    b.team.sync()
    (a.root / "Dir").rename(a.root / "Dir2")
    write(b, "Dir/d1.md", "# d1\nd1\nbob's edit\n")
    a.team.sync()
    b.team.sync()
    a.team.sync()
    assert tree(a) == tree(b) == {"Dir2/d1.md": b"# d1\nd1\nbob's edit\n", "Dir2/d2.md": b"# d2\nd2\n"}


def test_moved_and_edited_there_edited_here_merges_at_the_new_path(clone: Clone) -> None:
    a, b = _shared(clone)
    a.move("Plan.md", "Archive/Plan.md")
    a.team.sync()
    write(a, "Archive/Plan.md", NOTE.replace("one\n", "ONE\n"))
    a.team.sync()  # the new path's latest revision is an edit: only the history says it was moved
    write(b, "Plan.md", NOTE.replace("four\n", "FOUR\n"))
    report = b.team.sync()
    assert report.merged == ("Archive/Plan.md",) and report.conflicts == ()
    a.team.sync()
    both = NOTE.replace("one\n", "ONE\n").replace("four\n", "FOUR\n").encode()
    assert tree(a) == tree(b) == {"Archive/Plan.md": both}


@pytest.mark.parametrize("policy", ["keep-both", "mine", "theirs"])
def test_moved_and_edited_there_overlapping_edit_here_follows_the_policy(clone: Clone, policy: str) -> None:
    a, b = _shared(clone)
    write(a, "Plan.md", NOTE.replace("two\n", "ann's two\n"))
    a.team.sync()
    a.move("Plan.md", "Archive/Plan.md")
    a.team.sync()  # the move's revision carries ann's edit, which b has not pulled
    write(b, "Plan.md", NOTE.replace("two\n", "bob's two\n"))
    with pytest.raises(SyncConflict, match="Archive/Plan.md"):
        b.team.sync(policy="fail")
    assert "bob's two" in read(b, "Plan.md") and not (b.root / "Archive/Plan.md").exists()
    report = b.team.sync(policy=policy)
    a.team.sync()
    assert tree(a) == tree(b)
    assert not (b.root / "Plan.md").exists()
    if policy == "keep-both":
        (copy,) = report.conflicts
        assert copy.startswith("Archive/Plan (conflict ") and set(tree(b)) == {"Archive/Plan.md", copy}
        assert "ann's two" in read(b, "Archive/Plan.md") and "bob's two" in read(b, copy)
    elif policy == "mine":
        assert set(tree(b)) == {"Archive/Plan.md"} and "bob's two" in read(b, "Archive/Plan.md")
    else:
        assert set(tree(b)) == {"Archive/Plan.md"} and "ann's two" in read(b, "Archive/Plan.md")
        trashed = [p.read_text() for p in (b.root / ".trash").rglob("*.md")]
        assert any("bob's two" in t for t in trashed)


def test_case_only_name_clash_keeps_both(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Note.md", "ann's note\n")
    write(b, "note.md", "bob's note\n")
    a.team.sync()
    report = b.team.sync()
    a.team.sync()
    assert tree(a) == tree(b)
    names = sorted(tree(b))
    assert "Note.md" in names and "note.md" not in names and len(names) == 2
    assert report.conflicts and read(b, report.conflicts[0]) == "bob's note\n"


def test_a_case_only_rename_reaches_the_other_clone(clone: Clone) -> None:
    a, b = _shared(clone)
    (a.root / "Plan.md").rename(a.root / "plan.md")
    a.team.sync()
    b.team.sync()
    assert set(tree(b)) == {"plan.md"} and b.team.status()["revision"] == a.team.status()["revision"]
    write(a, "plan.md", read(a, "plan.md").replace("one\n", "ONE\n"))
    write(b, "plan.md", read(b, "plan.md").replace("four\n", "FOUR\n"))
    for v in (a, b, a):
        v.team.sync()
    assert (
        tree(a) == tree(b) == {"plan.md": NOTE.replace("one\n", "ONE\n").replace("four\n", "FOUR\n").encode()}
    )


def test_names_differing_only_in_unicode_form_keep_both(clone: Clone) -> None:
    nfc, nfd = "caf\u00e9.md", "cafe\u0301.md"  # NFD is how macOS writes names
    a, b = clone("a"), clone("b")
    write(a, nfc, "ann's note\n")
    write(b, nfd, "bob's note\n")
    a.team.sync()
    report = b.team.sync()
    a.team.sync()
    assert tree(a) == tree(b)
    assert set(tree(b)) == {nfc, report.conflicts[0]} and read(b, report.conflicts[0]) == "bob's note\n"
    assert b.team.status()["revision"] == a.team.status()["revision"]


def test_lost_state_is_rebuilt_without_conflicts(clone: Clone) -> None:
    a, b = _shared(clone)
    a.update("Plan.md", set={"status": "done"})
    a.team.sync()
    (b.root / ".mdstore" / "team" / "state.bin").unlink()
    report = b.team.sync()
    assert report.conflicts == () and report.pulled == ("Plan.md",)
    assert tree(a) == tree(b)
    (a.root / ".mdstore" / "team" / "state.bin").unlink()
    again = a.team.sync()
    assert again.conflicts == () and again.pushed == () and again.pulled == ()
    (a.root / ".mdstore" / "team" / "state.bin").write_bytes(b"\x00garbage")  # a damaged state is a lost one
    a.close()
    a = clone("a")
    assert a.team.sync().changed_count == 0 and tree(a) == tree(b)


def test_odd_files_sync_byte_for_byte(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "bad utf8.md", b"caf\xe9 \xff\xfe\n")
    write(a, "binary.md", bytes(range(256)) * 4)
    write(a, "big.md", b"# Big\n" + b"lorem ipsum dolor sit amet\n" * 800_000)  # ~21 MB
    write(a, "crlf.md", b"---\r\ntitle: x\r\n---\r\nline\r\n")
    a.team.sync()
    b.team.sync()
    assert tree(a) == tree(b)
    # Concurrent edits of a binary note cannot merge: both versions are kept.
    write(a, "binary.md", bytes(range(256)) * 5)
    write(b, "binary.md", bytes(range(255, -1, -1)) * 4)
    a.team.sync()
    report = b.team.sync()
    assert len(report.conflicts) == 1
    a.team.sync()
    assert tree(a) == tree(b)


def test_generated_section_is_never_a_conflict(clone: Clone) -> None:
    text = "# Memory\n\n<!-- mdstore:generated -->\n- old summary\n<!-- /mdstore:generated -->\n\nnotes\n"
    a, b = _shared(clone, text, path="MEMORY.md")
    write(a, "MEMORY.md", text.replace("old summary", "summary by ann"))
    write(b, "MEMORY.md", text.replace("old summary", "summary by bob").replace("notes\n", "notes\nmore\n"))
    a.team.sync()
    report = b.team.sync()
    assert report.conflicts == ()
    assert "more" in read(b, "MEMORY.md") and read(b, "MEMORY.md").count("summary by") == 1


def test_lost_state_with_edits_on_both_sides_is_rebuilt_in_one_pass(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    for i in range(6):
        write(a, f"n{i}.md", f"note {i}\n")
    a.team.sync()
    b.team.sync()
    for i in (0, 1, 2):
        write(a, f"n{i}.md", f"note {i}\nedited by ann\n")
    a.team.sync()
    (b.root / ".mdstore" / "team" / "state.bin").unlink()
    report = b.team.sync()
    assert report.conflicts == () and report.merged == () and report.pushed == ()
    assert sorted(report.pulled) == ["n0.md", "n1.md", "n2.md"]
    a.team.sync()
    assert tree(a) == tree(b)
    # A file edited here while the state was lost cannot be told apart from a concurrent edit:
    # both versions are kept, nothing is overwritten.
    write(b, "n5.md", "note 5\nedited by bob\n")
    (b.root / ".mdstore" / "team" / "state.bin").unlink()
    report = b.team.sync()
    assert len(report.conflicts) == 1 and read(b, report.conflicts[0]) == "note 5\nedited by bob\n"
