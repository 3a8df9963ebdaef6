"""Reading the past: history (renames followed, cache), show, diff, tree_at."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdstore.errors import NoteNotFound
from mdstore.history import GitHistory, RevisionNotFound

from .conftest import git, write

BODY = "shared paragraph that keeps rename detection sure of itself\n" * 5


@pytest.fixture
def renamed(vault: Path, hist: GitHistory) -> GitHistory:
    """old.md: created, edited, renamed to dir/new.md, edited again; other.md committed in between."""
    write(vault, "old.md", BODY)
    hist.commit("create")
    write(vault, "old.md", BODY + "v2\n")
    hist.commit("edit old")
    write(vault, "other.md", "unrelated\n")
    hist.commit("other")
    (vault / "dir").mkdir()
    (vault / "old.md").rename(vault / "dir" / "new.md")
    hist.commit("move")
    write(vault, "dir/new.md", BODY + "v2\nv3\n")
    hist.commit("edit new\n\nwith a body")
    return hist


def test_history_follows_renames_newest_first(renamed: GitHistory) -> None:
    revisions = renamed.history("dir/new.md")
    assert [(r.subject, r.kind, r.path, r.old_path) for r in revisions] == [
        ("edit new", "M", "dir/new.md", None),
        ("move", "R", "dir/new.md", "old.md"),
        ("edit old", "M", "old.md", None),
        ("create", "A", "old.md", None),
    ]
    first = revisions[0]
    assert first.message == "edit new\n\nwith a body"
    assert (first.author, first.email) == ("Ann Author", "ann@example.org")
    assert first.date.tzinfo is not None
    assert first.rev.startswith(first.short) and len(first.rev) == 40


def test_history_limit_and_cache(vault: Path, renamed: GitHistory) -> None:
    assert [r.subject for r in renamed.history("dir/new.md", limit=2)] == ["edit new", "move"]
    full = renamed.history("dir/new.md")
    assert len(full) == 4
    assert renamed.history("dir/new.md", limit=1) == full[:1]  # served from the full cached list
    assert renamed.history("dir/new.md", limit=0) == []
    full.clear()  # callers get copies, not the cache
    assert len(renamed.history("dir/new.md")) == 4
    # A new commit moves HEAD, so the cache is not stale.
    write(vault, "dir/new.md", "rewritten\n")
    renamed.commit("rewrite")
    assert renamed.history("dir/new.md")[0].subject == "rewrite"


def test_history_of_a_deleted_note_and_of_nothing(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    hist.commit("add")
    (vault / "a.md").unlink()
    hist.commit("remove")
    assert [(r.subject, r.kind) for r in hist.history("a.md")] == [("remove", "D"), ("add", "A")]
    with pytest.raises(NoteNotFound):
        hist.history("never.md")
    write(vault, "untracked.md", "u")
    assert hist.history("untracked.md") == []


def test_history_before_the_first_commit(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    assert hist.history("a.md") == []
    with pytest.raises(RevisionNotFound):
        hist.show("a.md", "HEAD")


def test_show_reads_the_path_the_note_had_then(renamed: GitHistory) -> None:
    revisions = {r.subject: r.rev for r in renamed.history("dir/new.md")}
    assert renamed.show("dir/new.md", revisions["create"]) == BODY.encode()
    assert renamed.show("dir/new.md", revisions["edit old"]) == (BODY + "v2\n").encode()
    assert renamed.show("dir/new.md", "HEAD") == (BODY + "v2\nv3\n").encode()
    # "other" did not touch the note: its version there is the one from "edit old", at old.md.
    assert renamed.show("dir/new.md", "HEAD~2") == (BODY + "v2\n").encode()


def test_show_is_byte_exact(vault: Path, hist: GitHistory) -> None:
    data = b"---\r\ntitle: x\r\n---\r\n\r\nno final newline\n\n\n"
    write(vault, "crlf.md", data)
    hist.commit()
    assert hist.show("crlf.md", "HEAD") == data
    write(vault, "crlf.md", b"")
    hist.commit()
    assert hist.show("crlf.md", "HEAD") == b""


def test_show_gives_the_bytes_a_checkout_would_write(vault: Path, hist: GitHistory) -> None:
    write(vault, ".gitattributes", "*.md text eol=crlf\n")
    write(vault, "win.md", b"line one\r\nline two\r\n")
    hist.commit()
    assert git(vault, "cat-file", "-p", "HEAD:win.md") == "line one\nline two\n"  # stored normalised
    assert hist.show("win.md", "HEAD") == b"line one\r\nline two\r\n"


def test_show_errors_name_the_revision_or_the_note(vault: Path, renamed: GitHistory) -> None:
    with pytest.raises(RevisionNotFound, match="'no-such-branch'"):
        renamed.show("dir/new.md", "no-such-branch")
    with pytest.raises(RevisionNotFound):
        renamed.show("dir/new.md", "--all")
    with pytest.raises(RevisionNotFound):
        renamed.show("dir/new.md", "HEAD~99")
    with pytest.raises(NoteNotFound, match="other.md did not exist"):
        renamed.show("other.md", "HEAD~4")  # before it was created
    (vault / "other.md").unlink()
    renamed.commit("drop other")
    with pytest.raises(NoteNotFound):
        renamed.show("other.md", "HEAD")


def test_show_accepts_tags_and_branches(vault: Path, renamed: GitHistory) -> None:
    git(vault, "tag", "before-move", "HEAD~2")
    git(vault, "branch", "side", "HEAD~4")
    assert renamed.show("dir/new.md", "before-move") == (BODY + "v2\n").encode()
    assert renamed.show("dir/new.md", "side") == BODY.encode()


def test_diff_between_revisions_and_the_working_tree(vault: Path, renamed: GitHistory) -> None:
    text = renamed.diff("dir/new.md", "HEAD~1", "HEAD")
    assert text.splitlines()[:2] == ["--- a/dir/new.md\tHEAD~1", "+++ b/dir/new.md\tHEAD"]
    assert "+v3" in text.splitlines()
    # Across the rename: the old side is read from old.md.
    across = renamed.diff("dir/new.md", "HEAD~4")
    assert across.splitlines()[:2] == ["--- a/old.md\tHEAD~4", "+++ b/dir/new.md\tworking tree"]
    assert renamed.diff("dir/new.md", "HEAD") == ""
    write(vault, "dir/new.md", BODY + "v2\nv3\nunsaved")
    lines = renamed.diff("dir/new.md", "HEAD").splitlines()
    assert lines[-2:] == ["+unsaved", "\\ No newline at end of file"]


def test_diff_where_one_side_does_not_exist(vault: Path, renamed: GitHistory) -> None:
    added = renamed.diff("other.md", "HEAD~4", "HEAD")
    assert added.splitlines()[:2] == ["--- /dev/null\tHEAD~4", "+++ b/other.md\tHEAD"]
    (vault / "other.md").unlink()
    deleted = renamed.diff("other.md", "HEAD")
    assert deleted.splitlines()[1] == "+++ /dev/null\tworking tree"
    with pytest.raises(NoteNotFound):
        renamed.diff("never.md", "HEAD")


def test_tree_at_reads_every_file_of_a_revision(vault: Path, renamed: GitHistory) -> None:
    write(vault, "img/pic.png", b"\x89PNG\x00")
    renamed.commit()
    assert list(renamed.tree_at("HEAD~3")) == [
        ("old.md", (BODY + "v2\n").encode()),
        ("other.md", b"unrelated\n"),
    ]
    assert dict(renamed.tree_at("HEAD"))["img/pic.png"] == b"\x89PNG\x00"
    assert [p for p, _ in renamed.tree_at("HEAD", extensions=(".md",))] == ["dir/new.md", "other.md"]


def test_tree_at_a_bad_revision_fails_at_the_call(renamed: GitHistory) -> None:
    with pytest.raises(RevisionNotFound):
        renamed.tree_at("nope")
