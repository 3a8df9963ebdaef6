"""GitHistory.commit: what is staged, messages, identity, empty changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from mdstore.config import GitSettings
from mdstore.errors import ConfigError
from mdstore.history import Change, GitHistory, HistoryError, default_message

from .conftest import git, make_repo, write


def test_commit_everything_never_stages_the_state_folder(vault: Path, hist: GitHistory) -> None:
    # No .gitignore here: the exclusion must not depend on one.
    write(vault, "a.md", "a\n")
    write(vault, "sub/b.md", "b\n")
    write(vault, ".mdstore/index.duckdb", "state")
    commit = hist.commit()
    assert commit is not None
    assert [(c.kind, c.path) for c in commit.changes] == [("A", "a.md"), ("A", "sub/b.md")]
    assert git(vault, "ls-files").split() == ["a.md", "sub/b.md"]
    assert commit.rev == git(vault, "rev-parse", "HEAD").strip()
    assert commit.rev.startswith(commit.short)
    assert commit.date.tzinfo is not None
    assert (commit.author, commit.email) == ("Ann Author", "ann@example.org")


def test_nothing_to_commit_returns_none(vault: Path, hist: GitHistory) -> None:
    assert hist.commit() is None  # not even a first commit yet
    write(vault, "a.md", "a\n")
    assert hist.commit() is not None
    assert hist.commit() is None
    assert hist.commit(paths=["a.md"]) is None
    assert hist.commit(paths=["never-existed.md"]) is None
    assert hist.commit(paths=[]) is None
    write(vault, ".mdstore/x", "only state changed")
    assert hist.commit() is None


def test_commit_all_includes_deletions_and_renames(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "alpha " * 20 + "\n")
    write(vault, "b.md", "b\n")
    hist.commit()
    (vault / "a.md").rename(vault / "renamed.md")
    (vault / "b.md").unlink()
    commit = hist.commit()
    assert commit is not None
    assert set(commit.changes) == {Change("R", "renamed.md", "a.md"), Change("D", "b.md")}
    assert git(vault, "ls-files").split() == ["renamed.md"]


def test_commit_given_paths_leaves_everything_else_alone(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a\n")
    write(vault, "b.md", "b\n")
    write(vault, "gone.md", "g\n")
    hist.commit()
    write(vault, "a.md", "a2\n")
    write(vault, "b.md", "b2\n")
    write(vault, "staged-by-user.md", "s\n")
    git(vault, "add", "staged-by-user.md")
    (vault / "gone.md").unlink()

    commit = hist.commit("edit a, drop gone", paths=["a.md", "gone.md"])
    assert commit is not None
    assert commit.message == "edit a, drop gone"
    assert set(commit.changes) == {Change("M", "a.md"), Change("D", "gone.md")}
    status = git(vault, "status", "--porcelain").splitlines()
    assert sorted(status) == [" M b.md", "A  staged-by-user.md"]


def test_default_message_lists_the_changes(vault: Path, hist: GitHistory) -> None:
    for name in ("a.md", "b.md", "c.md", "d.md"):
        write(vault, name, name)
    commit = hist.commit()
    assert commit is not None
    subject, _, body = commit.message.partition("\n\n")
    assert subject == "mdstore: add 4 notes (a.md, b.md, c.md, ...)"
    assert body.splitlines() == ["A a.md", "A b.md", "A c.md", "A d.md"]
    write(vault, "a.md", "changed")
    (vault / "b.md").unlink()
    write(vault, "pic.png", b"\x89PNG")
    assert hist.commit().message.startswith("mdstore: update 3 files (a.md, b.md, pic.png)")  # type: ignore[union-attr]
    assert default_message([Change("M", "x.md")]) == "mdstore: update 1 note (x.md)\n\nM x.md"


def test_messages_keep_lines_git_would_treat_as_comments(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    commit = hist.commit("#journal entry\n\n# not a comment\n")
    assert commit is not None
    assert commit.message == "#journal entry\n\n# not a comment"
    assert git(vault, "log", "-1", "--format=%B").strip() == "#journal entry\n\n# not a comment"


def test_without_settings_the_repositorys_git_identity_is_used(
    vault: Path, open_history: Callable[..., GitHistory]
) -> None:
    write(vault, "a.md", "a")
    commit = open_history(vault, GitSettings()).commit()
    assert commit is not None
    assert (commit.author, commit.email) == ("Git Config User", "config@example.org")


def test_no_identity_anywhere_is_a_config_error(
    tmp_path: Path, open_history: Callable[..., GitHistory]
) -> None:
    vault = make_repo(tmp_path / "anon", identity=False)
    git(vault, "config", "user.useConfigOnly", "true")  # no guessing from the host name
    write(vault, "a.md", "a")
    with pytest.raises(ConfigError, match="git.author_name"):
        open_history(vault, GitSettings()).commit()


def test_a_git_failure_becomes_one_history_error(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    (vault / ".git" / "index.lock").write_text("")
    with pytest.raises(HistoryError, match="index.lock") as info:
        hist.commit()
    assert "\n" not in str(info.value)
    assert info.value.__cause__ is not None


def test_a_briefly_held_index_lock_is_waited_for(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    lock = vault / ".git" / "index.lock"
    lock.write_text("")
    timer = threading.Timer(0.2, lock.unlink)  # another git process finishing its work
    timer.start()
    try:
        assert hist.commit() is not None
    finally:
        timer.join()


def test_gitignored_files_are_skipped_not_fatal(vault: Path, hist: GitHistory) -> None:
    write(vault, ".gitignore", "*.tmp\n")
    write(vault, "a.md", "a")
    write(vault, "scratch.tmp", "x")
    commit = hist.commit(paths=["a.md", "scratch.tmp", ".gitignore"])
    assert commit is not None
    assert sorted(c.path for c in commit.changes) == [".gitignore", "a.md"]


@pytest.mark.parametrize("name", ["spaced name.md", "ünïcødé/日本語.md", "a[1]*?.md", 'quote"s.md'])
def test_awkward_file_names(vault: Path, hist: GitHistory, name: str) -> None:
    write(vault, name, "v1\n")
    write(vault, "other[1].md", "x")  # a glob would match this too if paths were patterns
    commit = hist.commit(paths=[name])
    assert commit is not None
    assert commit.changes == (Change("A", name),)
    write(vault, name, "v2\n")
    hist.commit()
    assert [r.path for r in hist.history(name)] == [name, name]
    assert hist.show(name, "HEAD~1") == b"v1\n"
    assert name in hist.last_commits()
    assert dict(hist.tree_at("HEAD"))[name] == b"v2\n"
