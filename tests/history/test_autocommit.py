"""AutoCommitter: the three git.autocommit modes, with a fake clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mdstore.config import GitSettings
from mdstore.errors import ConfigError
from mdstore.history import AutoCommitter, GitHistory

from .conftest import git, make_repo, write


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(mode: str, interval: float = 60.0) -> GitSettings:
    return GitSettings(autocommit=mode, autocommit_interval=interval, author_name="A", author_email="a@x")


def count(vault: Path) -> int:
    out = git(vault, "log", "--oneline", "--all") if git(vault, "branch", "--list") else ""
    return len(out.splitlines())


def test_off_never_commits(vault: Path, hist: GitHistory) -> None:
    auto = AutoCommitter(hist, settings("off"))
    write(vault, "a.md", "a")
    assert auto.notify(["a.md"]) is None
    assert auto.flush() is None and auto.stop() is None
    assert count(vault) == 0
    assert AutoCommitter(None, settings("off")).notify(["a.md"]) is None


def test_write_commits_each_write(vault: Path, hist: GitHistory) -> None:
    auto = AutoCommitter(hist, settings("write"))
    write(vault, "a.md", "a")
    write(vault, "unrelated.md", "edited in an editor")
    commit = auto.notify(["a.md"], "mdstore: create a.md")
    assert commit is not None and commit.message == "mdstore: create a.md"
    assert git(vault, "ls-files").split() == ["a.md"]
    assert auto.pending == ()


def test_interval_batches_until_due(vault: Path, hist: GitHistory) -> None:
    clock = Clock()
    auto = AutoCommitter(hist, settings("interval", 30), clock=clock)
    write(vault, "a.md", "a")
    assert auto.notify(["a.md"]) is None
    clock.now += 20
    write(vault, "b.md", "b")
    auto.notify(["b.md"])
    assert auto.tick() is None  # the oldest write is 20 s old
    clock.now += 10
    commit = auto.tick()
    assert commit is not None and {c.path for c in commit.changes} == {"a.md", "b.md"}
    assert auto.tick() is None and auto.pending == ()


def test_a_failed_commit_keeps_its_paths_for_the_next_one(
    tmp_path: Path, open_history: Callable[..., GitHistory]
) -> None:
    vault = make_repo(tmp_path / "anon", identity=False)
    git(vault, "config", "user.useConfigOnly", "true")
    auto = AutoCommitter(open_history(vault, GitSettings()), GitSettings(autocommit="write"))
    write(vault, "a.md", "a")
    assert auto.notify(["a.md"]) is None  # the write itself must not fail
    assert isinstance(auto.last_error, ConfigError)
    assert auto.pending == ("a.md",)
    git(vault, "config", "user.name", "Fixed")
    git(vault, "config", "user.email", "fixed@x")
    write(vault, "b.md", "b")
    commit = auto.notify(["b.md"])
    assert commit is not None and {c.path for c in commit.changes} == {"a.md", "b.md"}
    assert auto.last_error is None


def test_bad_settings_are_config_errors(hist: GitHistory) -> None:
    with pytest.raises(ConfigError, match="git.autocommit"):
        AutoCommitter(hist, settings("always"))
    with pytest.raises(ConfigError, match="git repository"):
        AutoCommitter(None, settings("write"))
    with pytest.raises(ConfigError, match="autocommit_interval"):
        AutoCommitter(hist, settings("interval", 0))


def test_the_thread_commits_and_stop_flushes(vault: Path, hist: GitHistory) -> None:
    auto = AutoCommitter(hist, settings("interval", 0.05))
    auto.start()
    try:
        write(vault, "a.md", "a")
        auto.notify(["a.md"])
        deadline = time.monotonic() + 20
        # Wait for the commit itself: ``pending`` empties when the thread takes the paths, before
        # its commit is written.
        while git(vault, "ls-files").split() != ["a.md"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert git(vault, "ls-files").split() == ["a.md"]
        assert not auto.pending
    finally:
        write(vault, "b.md", "b")
        auto.notify(["b.md"])
        auto.stop()
    assert git(vault, "ls-files").split() == ["a.md", "b.md"]
