"""The search commands, checked against the Vault API they wrap: search, related, similar,
reindex-search; bad input gives one ``Error:`` line and the error's exit code."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mdstore
from tests.conftest import cli_run

FILES = {
    "garden/tomatoes.md": (
        "---\nstatus: active\ntags: [garden]\n---\n# Tomatoes\nWarm soil. [[cafe]]\n\n"
        "## Pests\nAphids love tomato plants.\n"
    ),
    "garden/compost.md": "---\ntags: [garden]\n---\n# Compost\nCompost feeds tomatoes and beans.\n",
    "cafe.md": "# Café in Zürich\nTomato soup at the café.\n",
    "code/loop.md": "# Event loop\nCoroutines and the event loop.\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli") / "vault"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    vault = mdstore.open(root)
    vault.sync()
    vault.close()
    yield root


def run(root: Path, *args: str, code: int = 0) -> tuple[str, str]:
    result = cli_run(*args, vault=root, code=code)
    return result.stdout, result.stderr


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def api(root: Path) -> mdstore.Vault:
    return mdstore.open(root)


def test_search_prints_json_lines_like_the_api(root: Path) -> None:
    out, err = run(root, "search", "tomato", "--limit", "2")
    with api(root) as vault:
        expected = vault.search("tomato", limit=2)
    assert [r["path"] for r in lines(out)] == expected.paths()
    assert lines(out)[0]["snippets"][0].keys() >= {"text", "heading", "spans", "highlighted"}
    assert "3 matching note(s), showing 1–2; next page: --offset 2" in err


def test_search_takes_finds_filters(root: Path) -> None:
    out, _ = run(root, "search", "tomato", "status = active", "--tag", "garden", "--json")
    assert [r["path"] for r in lines(out)] == ["garden/tomatoes.md"]
    out, _ = run(root, "search", "tomato", "--folder", "garden", "--sort", "-modified", "--offset", "1")
    with api(root) as vault:
        assert [r["path"] for r in lines(out)] == vault.search(
            "tomato", folder="garden", sort="-modified", offset=1
        ).paths()
    out, err = run(root, "search", "tomato", "missing = 3")
    assert out == "" and "No matching notes." in err


def test_search_suggests_when_nothing_matches(root: Path) -> None:
    out, err = run(root, "search", "compst")
    assert out == "" and "Did you mean: compost" in err


def test_search_on_a_terminal_highlights_in_bold(root: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "mdstore", "--vault", str(root), "search", "aphids"],
        stdout=follower,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    os.close(follower)
    text = os.read(leader, 65536).decode()
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[1mgarden/tomatoes.md\x1b[0m" in text
    assert "Pests › \x1b[1mAphids\x1b[0m love tomato plants." in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search", ""], 6, "empty search query"),
        (["search", "the"], 0, "No matching notes."),
        (["search", '"soup'], 6, "unbalanced quotes"),
        (["search", "(soup"], 6, "unbalanced parentheses"),
        (["search", "colour:red"], 6, "unknown search field 'colour'"),
        (["search", "x" * 10_000], 0, "No matching notes."),
        (["search", "Zürich café"], 0, "1 matching note(s)"),
        (["search", "soup", "priority >"], 6, ""),
        (["related", "no/such.md"], 4, "no note 'no/such.md'"),
        (["related", "cafe.md", "-k", "0"], 6, "k must be a positive integer"),
        (["similar", " "], 6, "needs some text"),
    ],
)
def test_bad_input_gives_one_clear_error(root: Path, args: list[str], code: int, message: str) -> None:
    _, err = run(root, *args, code=code)
    assert message in err
    if code:
        assert err.startswith("Error: ") and err.count("\n") == 1


def test_related_and_similar(root: Path) -> None:
    out, _ = run(root, "related", "garden/tomatoes.md", "-k", "2")
    with api(root) as vault:
        assert lines(out) == vault.related("garden/tomatoes.md", k=2).to_dicts()
        excluded = vault.related("garden/tomatoes.md", exclude_linked=True).paths()
    out, _ = run(root, "related", "tomatoes", "--exclude-linked")
    assert [r["path"] for r in lines(out)] == excluded and "cafe.md" not in excluded
    out, _ = run(root, "similar", "soup in Zürich", "-k", "1")
    assert [r["path"] for r in lines(out)] == ["cafe.md"]


def test_reindex_search(root: Path) -> None:
    out, _ = run(root, "reindex-search")
    summary = json.loads(out)
    assert summary["notes"] == len(FILES) and summary["engine"] == "whoosh"
    with api(root) as vault:
        assert vault.search_status()["search"]["ready"]


def test_search_off_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "mdstore.toml").write_text('[search]\nengine = "none"\n')
    (tmp_path / "v" / "a.md").write_text("# A\nsoup\n")
    _, err = run(tmp_path / "v", "search", "soup", code=11)
    assert 'engine = "none"' in err
