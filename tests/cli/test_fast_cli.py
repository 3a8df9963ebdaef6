"""A one-note CLI write stays cheap: the search engine and the related-notes model are left to the
next reader (docs/performance.md), and that reader still sees the write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mdstore

HEAVY = ("sklearn", "whoosh", "scipy")


def _cli_loads(vault: Path, *args: str) -> tuple[list[str], str]:
    """Run one CLI command in a fresh interpreter; the heavy modules it loaded, and its stdout."""
    code = (
        "import sys, io, contextlib\n"
        "from mdstore.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main(['--vault', {str(vault)!r}, *{list(args)!r}])\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(out.getvalue(), end='')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, _, rest = done.stdout.partition("\n")
    return [m for m in first.split(",") if m], rest


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    root = tmp_path / "v"
    root.mkdir()
    for i in range(12):
        (root / f"n{i}.md").write_text(f"# Note {i}\n\nplain words about gardens number {i}\n")
    with mdstore.open(root) as vault:
        vault.sync()
        assert vault.similar("gardens").to_dicts()  # the model exists and is current
    return root


@pytest.mark.parametrize(
    "args",
    [
        ("set", "n1.md", "status=done"),
        ("append", "n1.md", "zeppelin hangar"),
        ("mv", "n1.md", "moved.md"),
        ("new", "fresh.md", "--body", "zeppelin hangar"),
    ],
)
def test_a_one_note_write_loads_no_search_engine(indexed: Path, args: tuple[str, ...]):
    loaded, _ = _cli_loads(indexed, *args)
    assert loaded == []


def test_the_next_reader_sees_what_a_cli_write_held_back(indexed: Path):
    _cli_loads(indexed, "append", "n2.md", "zeppelin hangar")
    _cli_loads(indexed, "rm", "n3.md", "--permanent")
    _, out = _cli_loads(indexed, "search", "zeppelin", "--json")
    assert [json.loads(line)["path"] for line in out.splitlines()] == ["n2.md"]
    _, out = _cli_loads(indexed, "similar", "gardens number", "--json", "-k", "50")
    found = {json.loads(line)["path"] for line in out.splitlines()}
    assert "n2.md" in found and "n3.md" not in found  # the model, too, caught up
    _, out = _cli_loads(indexed, "search", "number", "--json", "--limit", "50")
    assert "n3.md" not in {json.loads(line)["path"] for line in out.splitlines()}


def test_the_api_still_applies_held_back_changes_at_close(indexed: Path):
    with mdstore.open(indexed) as vault:
        vault.append("n4.md", "zeppelin")
    with mdstore.open(indexed) as vault:
        status = vault.search_status()
    assert status["search"]["stamp"] == status["related"]["stamp"] == status["generation"]


def test_similar_and_related_load_no_scikit_learn(indexed: Path):
    loaded, out = _cli_loads(indexed, "similar", "gardens number 5", "--json")
    assert "sklearn" not in loaded
    assert json.loads(out.splitlines()[0])["path"] == "n5.md"
    loaded, out = _cli_loads(indexed, "related", "n5.md", "--json")
    assert "sklearn" not in loaded and out.strip()
