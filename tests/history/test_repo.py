"""Finding the repository: non-repos, subfolder vaults, path checks, init and .gitignore."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mdstore.errors import InvalidPath, NotAGitRepo, VaultNotFound
from mdstore.history import GitHistory, ensure_gitignore, init

from .conftest import SETTINGS, git, make_repo, write


def test_a_folder_outside_any_repository_is_not_a_git_repo(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(
        NotAGitRepo, match=r"is not a git repository \(run `mdstore init --git` or `git init`\)"
    ):
        GitHistory(folder, SETTINGS)


def test_a_missing_folder_is_not_a_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultNotFound):
        GitHistory(tmp_path / "nowhere", SETTINGS)


def test_a_vault_inside_a_repository_uses_vault_relative_paths(
    tmp_path: Path, open_history: Callable[..., GitHistory]
) -> None:
    repo = make_repo(tmp_path / "project")
    vault = repo / "docs" / "my notes"
    write(vault, "a.md", "a\n")
    write(vault, ".mdstore/index.db", "state")
    write(repo, "src/code.py", "print()\n")
    history = open_history(vault)
    assert history.repo_root == repo.resolve()

    commit = history.commit()
    assert commit is not None
    assert [c.path for c in commit.changes] == ["a.md"]
    # Only the vault was committed: the project's own file stays untracked.
    assert "?? src/" in git(repo, "status", "--porcelain")
    assert git(repo, "ls-files").split("\n")[0] == "docs/my notes/a.md"

    write(vault, "a.md", "a\nb\n")
    history.commit()
    assert [(r.path, r.kind) for r in history.history("a.md")] == [("a.md", "M"), ("a.md", "A")]
    assert history.show("a.md", "HEAD~1") == b"a\n"
    assert list(history.tree_at("HEAD")) == [("a.md", b"a\nb\n")]
    assert set(history.last_commits()) == {"a.md"}


def test_paths_must_be_vault_relative(hist: GitHistory) -> None:
    for bad in ("../outside.md", "/etc/passwd", "", ".mdstore/index.db", ".git/config"):
        with pytest.raises(InvalidPath):
            hist.history(bad)
        with pytest.raises(InvalidPath):
            hist.commit(paths=[bad])


def test_init_creates_a_repository_that_ignores_the_state_folder(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    history = init(vault, SETTINGS)
    try:
        assert (vault / ".git").is_dir()
        assert (vault / ".gitignore").read_text() == ".mdstore/\n"
        write(vault, "n.md", "n\n")
        write(vault, ".mdstore/db", "x")
        commit = history.commit()
        assert commit is not None
        assert sorted(c.path for c in commit.changes) == [".gitignore", "n.md"]
    finally:
        history.close()
    # Again on the same folder: still one line, nothing else changes.
    init(vault, SETTINGS).close()
    assert (vault / ".gitignore").read_text() == ".mdstore/\n"


def test_init_appends_to_an_existing_gitignore_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_bytes(b"*.tmp\r\nbuild/")
    assert ensure_gitignore(tmp_path) is True
    assert (tmp_path / ".gitignore").read_bytes() == b"*.tmp\r\nbuild/\r\n.mdstore/\r\n"
    assert ensure_gitignore(tmp_path) is False
    (tmp_path / ".gitignore").write_text("/.mdstore\n")
    assert ensure_gitignore(tmp_path) is False


def test_init_on_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VaultNotFound):
        init(tmp_path / "nowhere")


def test_importing_the_module_does_not_import_gitpython() -> None:
    code = "import sys, mdstore.history; print('git' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
