"""Commands for API methods that had none: show-revision, at, batch (and update's body through it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import mdstore
from tests.conftest import cli_run


def run(vault: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = cli_run(*args, vault=vault, stdin=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "v"
    root.mkdir()
    (root / "A.md").write_text("---\nstatus: draft\n---\n# A\nfirst\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (root / "A.md").write_text("---\nstatus: done\n---\n# A\nsecond\n")
    (root / "B.md").write_text("# B\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "two"], check=True)
    return root


def test_show_revision_prints_the_committed_bytes(repo: Path):
    code, out, err = run(repo, "show-revision", "A.md", "HEAD~1")
    assert code == 0, err
    assert out == "---\nstatus: draft\n---\n# A\nfirst\n"
    code, out, _ = run(repo, "show-revision", "A.md", "HEAD", "--json")
    assert json.loads(out)["text"].endswith("second\n")
    code, _, err = run(repo, "show-revision", "A.md", "nosuchrev")
    assert code == mdstore.RevisionNotFound.exit_code and err.count("\n") == 1


def test_at_finds_and_shows_notes_as_they_were(repo: Path):
    code, out, err = run(repo, "at", "HEAD~1", "status = draft", "--json")
    assert code == 0, err
    assert [json.loads(line)["path"] for line in out.splitlines()] == ["A.md"]
    code, out, _ = run(repo, "at", "HEAD~1", "--json")
    assert [json.loads(line)["path"] for line in out.splitlines()] == ["A.md"]  # B came later
    code, out, _ = run(repo, "at", "HEAD~1", "--path", "A.md", "--json")
    assert json.loads(out)["frontmatter"] == {"status": "draft"}
    assert "draft" not in (repo / "A.md").read_text()  # the files on disk are untouched


def test_batch_applies_every_write_or_none(repo: Path):
    lines = "\n".join(
        json.dumps(op)
        for op in (
            {"op": "create", "path": "C.md", "frontmatter": {"tags": ["x", "y"]}, "body": "# C\n"},
            {"op": "update", "path": "A.md", "set": {"priority": 2}, "body": "# A\nreplaced body\n"},
            {"op": "move", "src": "B.md", "dst": "Moved/B.md"},
        )
    )
    code, out, err = run(repo, "batch", "--json", stdin=lines)
    assert code == 0, err
    assert json.loads(out) == {"applied": 3}
    with mdstore.open(repo) as vault:
        a = vault.get("A.md")
        assert a.frontmatter["priority"] == 2 and a.body == "# A\nreplaced body\n"
        assert vault.get("C.md").tags == ("x", "y") or list(vault.get("C.md").tags) == ["x", "y"]
        assert "Moved/B.md" in vault.find().paths()


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("not json", "batch line 1: not JSON"),
        ('{"op": "explode", "path": "A.md"}', '"op" must be one of'),
        ('{"op": "update", "path": "A.md", "colour": 1}', "batch write 1 (update)"),
    ],
)
def test_a_bad_batch_writes_nothing(repo: Path, line: str, fragment: str):
    before = (repo / "A.md").read_bytes()
    good = json.dumps({"op": "update", "path": "A.md", "set": {"status": "x"}})
    code, _, err = run(repo, "batch", stdin=good + "\n" + line + "\n")
    assert code == mdstore.QueryError.exit_code
    assert fragment.replace("line 1", "line 2").replace("write 1", "write 2") in err and err.count("\n") == 1
    assert (repo / "A.md").read_bytes() == before


def test_a_subscription_can_be_waited_on_until_it_ends(tmp_path: Path):
    """`mdstore watch --events` follows the daemon's stream through Subscription.wait, public API."""
    import threading

    root = tmp_path / "w"
    root.mkdir()
    (root / "a.md").write_text("# a\n")
    with mdstore.open(root) as vault:
        vault.sync()
        watcher = vault.watch(foreground=False, serve=False)
        try:
            sub = vault.subscribe(lambda event: None)
            assert sub.wait(timeout=0.05) is False
            threading.Timer(0.1, sub.close).start()
            assert sub.wait(timeout=10) is True
        finally:
            watcher.stop()
