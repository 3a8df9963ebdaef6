"""last_commits: who changed each file last, in one pass; the incremental variant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mdstore.config import GitSettings
from mdstore.history import GitHistory

from .conftest import git, make_repo, write

BOB = GitSettings(author_name="Bob", author_email="bob@example.org")
ANN = GitSettings(author_name="Ann", author_email="ann@example.org")


def test_last_commit_of_every_file(vault: Path, open_history: Callable[..., GitHistory]) -> None:
    ann, bob = open_history(vault, ANN), open_history(vault, BOB)
    write(vault, "a.md", "a " * 30)
    write(vault, "b.md", "b")
    write(vault, "c.md", "c")
    first = ann.commit()
    write(vault, "b.md", "b2")
    second = bob.commit()
    (vault / "a.md").rename(vault / "moved a.md")
    (vault / "c.md").unlink()
    write(vault, ".mdstore/state", "x")
    third = ann.commit()
    assert first and second and third
    result = bob.last_commits()
    assert set(result) == {"b.md", "moved a.md"}  # deleted c.md and the old name are gone
    assert (result["b.md"].rev, result["b.md"].author, result["b.md"].email) == (
        second.rev,
        "Bob",
        "bob@example.org",
    )
    assert (result["moved a.md"].rev, result["moved a.md"].author) == (third.rev, "Ann")
    assert result["b.md"].date.tzinfo is not None
    # A file deleted and added again is present, with the re-adding commit.
    write(vault, "c.md", "back")
    again = ann.commit()
    assert again and ann.last_commits()["c.md"].rev == again.rev


def test_last_commits_for_some_paths(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    write(vault, "b.md", "b")
    first = hist.commit()
    write(vault, "b.md", "b2")
    write(vault, "gone.md", "g")
    second = hist.commit()
    (vault / "gone.md").unlink()
    hist.commit()
    assert first and second
    result = hist.last_commits_for(["a.md", "b.md", "gone.md", "never.md"])
    assert {k: v.rev for k, v in result.items()} == {"a.md": first.rev, "b.md": second.rev}
    assert hist.last_commits_for([]) == {}


def test_empty_repository_has_no_last_commits(hist: GitHistory) -> None:
    assert hist.last_commits() == {}
    assert hist.last_commits_for(["a.md"]) == {}


def test_only_files_of_the_vault_folder(tmp_path: Path, open_history: Callable[..., GitHistory]) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo, "outside.md", "o")
    write(repo, "vault/in.md", "i")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "both")
    history = open_history(repo / "vault")
    assert set(history.last_commits()) == {"in.md"}
    assert list(history.tree_at("HEAD")) == [("in.md", b"i")]
