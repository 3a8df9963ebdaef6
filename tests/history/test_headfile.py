"""HEAD read from the repository's files (history/headfile.py) agrees with git on every layout it
reads, says "ask git" (None) on the ones it does not, and lets a write in a git vault skip GitPython
while the ``commits`` table stays what git says."""

from __future__ import annotations

import json
from pathlib import Path

import mdstore
from mdstore.history.headfile import read_head
from tests.conftest import modules_loaded_by_cli

from .conftest import git, make_repo, write


def _commit(root: Path, rel: str, text: str, message: str) -> str:
    write(root, rel, text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def test_a_branch_as_a_loose_ref_then_packed(tmp_path: Path):
    root = make_repo(tmp_path / "v")
    head = _commit(root, "a.md", "one\n", "one")
    assert read_head(root) == head
    git(root, "pack-refs", "--all")
    assert not (root / ".git" / "refs" / "heads" / "main").exists()
    assert read_head(root) == head


def test_a_detached_head_and_a_vault_below_the_top(tmp_path: Path):
    root = make_repo(tmp_path / "repo")
    first = _commit(root, "notes/a.md", "one\n", "one")
    _commit(root, "notes/a.md", "two\n", "two")
    git(root, "checkout", "-q", first)
    assert read_head(root / "notes") == first


def test_a_worktree_reads_its_own_head_and_the_shared_branches(tmp_path: Path):
    root = make_repo(tmp_path / "main")
    _commit(root, "a.md", "one\n", "one")
    git(root, "branch", "side")
    other = tmp_path / "other"
    git(root, "worktree", "add", "-q", str(other), "side")
    side = _commit(other, "b.md", "side\n", "on side")
    assert (other / ".git").is_file()
    assert read_head(other) == side
    assert read_head(root) != side


def test_a_folder_named_git_that_is_no_repository_is_passed_over_as_git_does(tmp_path: Path):
    root = make_repo(tmp_path / "repo")
    head = _commit(root, "notes/a.md", "one\n", "one")
    (root / "notes" / ".git").mkdir()
    (root / "notes" / ".git" / "HEAD").write_text("0" * 40 + "\n")
    assert read_head(root / "notes") == head


def test_what_it_cannot_read_is_left_to_git(tmp_path: Path):
    assert read_head(tmp_path) is None  # no repository
    root = make_repo(tmp_path / "v")
    assert read_head(root) is None  # an unborn branch: no commit yet
    _commit(root, "a.md", "one\n", "one")
    (root / ".git" / "HEAD").write_text("ref: ../../outside\n")
    assert read_head(root) is None
    (root / ".git" / "HEAD").write_text("garbage\n")
    assert read_head(root) is None
    (root / ".git").rename(root / "moved-git")
    (root / ".git").write_text("not a gitdir line\n")
    assert read_head(root) is None


def _write_loads_git(vault: Path, *args: str) -> bool:
    return "git" in modules_loaded_by_cli(vault, *args)


def _commits(vault: Path) -> dict[str, str]:
    with mdstore.open(vault) as v:
        return {r["path"]: r["rev"] for r in v.sql("SELECT path, rev FROM commits").to_dicts()}


def test_a_write_in_a_git_vault_loads_no_gitpython_until_head_moves(tmp_path: Path):
    root = make_repo(tmp_path / "v")
    first = _commit(root, "a.md", "---\nstatus: new\n---\n# A\n", "one")
    _commit(root, "b.md", "# B\n", "two")
    with mdstore.open(root) as vault:
        vault.sync()
    assert not _write_loads_git(root, "set", "a.md", "status=done")
    assert _commits(root)["a.md"] == first
    git(root, "commit", "-q", "-am", "three")
    third = git(root, "rev-parse", "HEAD").strip()
    assert _write_loads_git(root, "set", "b.md", "status=new")  # HEAD moved: git says what changed
    b_rev = git(root, "log", "-1", "--format=%H", "--", "b.md").strip()
    assert _commits(root) == {"a.md": third, "b.md": b_rev}
    with mdstore.open(root) as vault:  # the same table as a rebuild from the whole history
        vault.sync(rebuild=True)
        rebuilt = {r["path"]: r["rev"] for r in vault.sql("SELECT path, rev FROM commits").to_dicts()}
    assert rebuilt == _commits(root)
    assert json.dumps(rebuilt)  # plain strings
