"""History through the Vault: commit, history, diff, restore, snapshots, at(rev), autocommit, and
the commits table that find() filters use."""

from __future__ import annotations

from pathlib import Path

import pytest

import mdstore
from mdstore.errors import HistoryError, NotAGitRepo, WriteConflict
from tests.conftest import cli_run

from .conftest import git, make_repo

SETTINGS = {
    "git": {"author_name": "Ann Author", "author_email": "ann@example.org"},
    "search": {"engine": "none"},
}


@pytest.fixture
def vault(tmp_path: Path):
    root = make_repo(tmp_path / "v")
    (root / "a.md").write_text("---\nstatus: one\n---\nfirst\n")
    (root / "b.md").write_text("b\n")
    v = mdstore.open(root, **SETTINGS)
    v.sync()
    yield v
    v.close()


def test_commit_history_diff_restore(vault):
    first = vault.commit("first")
    assert first is not None and {c.path for c in first.changes} == {"a.md", "b.md"}
    assert vault.commit() is None
    vault.update("a.md", set={"status": "two"})
    vault.commit(paths=["a.md"])
    revs = vault.history("a")
    assert [r.kind for r in revs] == ["M", "A"]
    assert b"status: one" in vault.show_revision("a.md", revs[1].rev)
    vault.update("a.md", set={"status": "three"})
    assert "-status: two\n+status: three" in vault.diff("a.md")
    vault.restore("a.md", revs[1].rev)
    assert vault.find("status = one").column("path") == ["a.md"]
    (vault.root / "a.md").write_text("edited outside\n")  # not indexed yet: restore must refuse
    with pytest.raises(WriteConflict):
        vault.restore("a.md", "HEAD")
    assert (vault.root / "a.md").read_text() == "edited outside\n"


def test_snapshots_and_at(vault):
    vault.commit("first")
    snap = vault.snapshot("v1", "release")
    assert snap.label == "v1" and [s.label for s in vault.snapshots()] == ["v1"]
    with pytest.raises(HistoryError):
        vault.snapshot("v1")
    vault.update("a.md", set={"status": "later"})
    vault.delete("b.md")
    vault.commit()
    with vault.at("v1") as old:
        assert old.find("status = one").column("path") == ["a.md"]
        assert old.get("b.md").body == "b\n"
        with pytest.raises(HistoryError, match="read-only"):
            old.update("a.md", set={"x": 1})
    assert vault.find("status = later").column("path") == ["a.md"]


def test_autocommit_write(tmp_path: Path):
    root = make_repo(tmp_path / "v")
    (root / "a.md").write_text("a\n")
    settings = {**SETTINGS, "git": {**SETTINGS["git"], "autocommit": "write"}}
    with mdstore.open(root, **settings) as v:
        v.sync()
        v.create("n.md", {"k": 1})
        v.update("n.md", set={"k": 2})
        assert [r.kind for r in v.history("n.md")] == ["M", "A"]
        assert "a.md" in git(root, "status", "--porcelain")  # not written through mdstore: not committed


def test_commits_table(vault):
    vault.commit("first")
    rows = vault.sql("SELECT path, author, email FROM commits ORDER BY path").rows
    assert rows == [("a.md", "Ann Author", "ann@example.org"), ("b.md", "Ann Author", "ann@example.org")]
    vault.create("c.md", body="c")
    assert vault.sql("SELECT count(*) AS n FROM commits WHERE path = 'c.md'").first()["n"] == 0
    vault.commit(paths=["c.md"])
    assert vault.sql("SELECT count(*) AS n FROM commits WHERE path = 'c.md'").first()["n"] == 1
    vault.sync(rebuild=True)
    assert vault.sql("SELECT count(*) AS n FROM commits").first()["n"] == 3


def test_not_a_repo(make_vault):
    v = make_vault({"a.md": "a\n"})
    v.sync()
    for call in (lambda: v.commit(), lambda: v.history("a.md"), lambda: v.snapshots(), lambda: v.at("HEAD")):
        with pytest.raises(NotAGitRepo):
            call()


def test_history_cli(vault):


    def run(*args: str):
        return cli_run(*args, vault=vault.root)

    vault.close()
    r = run("commit", "-m", "first")
    assert r.exit_code == 0, r.output
    (vault.root / "a.md").write_text("changed\n")
    assert "+changed" in run("diff", "a.md").output
    assert run("snapshot", "s1").exit_code == 0
    assert '"label": "s1"' in run("snapshots", "--json").output
    assert "a.md" in run("history", "a.md", "--json").output
    assert run("restore", "a.md", "HEAD~1").exit_code == 8  # edited since last indexed: refused
    assert run("index").exit_code == 0
    assert run("restore", "a.md", "HEAD~1").exit_code == 0
    assert run("diff", "a.md", "HEAD", "NOPE").exit_code == 16
