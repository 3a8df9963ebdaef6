"""Real git repositories in tmp_path, isolated from the machine's git configuration."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mdstore.config import GitSettings
from mdstore.history import GitHistory

SETTINGS = GitSettings(author_name="Ann Author", author_email="ann@example.org")


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No user or system config may leak in (identity, gpg signing, hooks paths, default branch).
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, identity: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if identity:
        git(path, "config", "user.name", "Git Config User")
        git(path, "config", "user.email", "config@example.org")
    return path


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode())
    return path


@pytest.fixture
def open_history() -> Iterator[Callable[..., GitHistory]]:
    opened: list[GitHistory] = []

    def factory(root: Path, settings: GitSettings = SETTINGS) -> GitHistory:
        history = GitHistory(root, settings)
        opened.append(history)
        return history

    yield factory
    for history in opened:
        history.close()


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "vault")


@pytest.fixture
def hist(vault: Path, open_history: Callable[..., GitHistory]) -> GitHistory:
    return open_history(vault)
