"""A one-note CLI write stays cheap: the search engine and the related-notes model are left to the
next reader (docs/performance.md), and that reader still sees the write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

import mdstore
from tests.conftest import modules_loaded_by_cli

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


# What a one-note write needs: click, DuckDB, the YAML editors. Everything here is loaded only by
# the commands that use it (the other command modules, the engines, git, Arrow, the daemon's socket).
NOT_FOR_A_WRITE = (
    "mdstore.cli.core",
    "mdstore.cli.search",
    "mdstore.cli.team",
    "mdstore.cli.queue",
    "mdstore.cli.memory",
    "mdstore.cli.history",
    "mdstore.cli.backup",
    "whoosh",
    "sklearn",
    "git",
    "pyarrow",
    "numpy",
    "pathspec",
    "mdstore.watch.wire",
    "mdstore.team",
    "psycopg",
)


@pytest.mark.parametrize(
    "args",
    [
        ("set", "n1.md", "status=done", "tags=[a, b]"),
        ("unset", "n1.md", "status"),
        ("append", "n1.md", "a line linking [[n2]]"),
        ("mv", "n2.md", "deeper/n2.md"),
    ],
)
def test_a_one_note_write_loads_only_what_it_uses(indexed: Path, args: tuple[str, ...]):
    (indexed / "n5.md").write_text("# Note 5\n\nsee [[n2]] and [[n1]]\n")  # a link for mv to rewrite
    with mdstore.open(indexed) as vault:
        vault.sync()
    loaded = modules_loaded_by_cli(indexed, *args)
    assert "mdstore.cli.write" in loaded
    assert sorted(m for m in NOT_FOR_A_WRITE if m in loaded) == []
    with mdstore.open(indexed) as vault:  # and it did its work
        assert vault.sql("SELECT count(*) AS n FROM notes").first()["n"] == 12


def test_help_lists_every_command_without_loading_one(indexed: Path):
    from mdstore.cli import cli, load_all
    from mdstore.cli.table import SUMMARIES

    loaded = modules_loaded_by_cli(None, "--help")
    assert sorted(m for m in loaded if m.startswith("mdstore.cli.")) == [
        "mdstore.cli.table"  # the one-line help of each command
    ]

    def help_text(code: str) -> str:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout

    lazy = help_text("from mdstore.cli import main; main(['--help'])")
    eager = help_text("from mdstore.cli import load_all, main; load_all(); main(['--help'])")
    assert lazy == eager  # the same listing as when every command is loaded
    load_all()
    for name in cli.commands:
        assert f"\n  {name} " in lazy
    for name, command in cli.commands.items():  # every command and group has its line in the table
        assert name in SUMMARIES
        if isinstance(command, click.Group):
            assert all(f"{name} {sub}" in SUMMARIES for sub in command.commands)


def test_an_unknown_command_still_says_so(indexed: Path):
    done = subprocess.run(
        [sys.executable, "-m", "mdstore", "--vault", str(indexed), "sett", "n1.md", "a=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "No such command 'sett'" in done.stderr and "set" in done.stderr


def _program(vault: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``mdstore ARGS`` as the installed command runs it (``main()`` reading sys.argv)."""
    code = (
        f"{prelude}\n"
        "import sys\n"
        f"sys.argv = ['mdstore', '--vault', {str(vault)!r}, *{list(args)!r}]\n"
        "from mdstore.cli import main\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_program_ends_with_its_exit_code_its_whole_output_and_its_exit_handlers(indexed: Path):
    for i in range(300):
        (indexed / f"bulk{i}.md").write_text(f"# Bulk {i}\n")
    with mdstore.open(indexed) as vault:
        vault.sync()
    done = _program(indexed, "sql", "SELECT path FROM notes ORDER BY path", "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 312  # every row, though the process skips its teardown
    done = _program(indexed, "set", "missing.md", "a=1")
    assert done.returncode == mdstore.NoteNotFound.exit_code
    assert done.stderr.startswith("Error: ") and len(done.stderr.splitlines()) == 1
    assert _program(indexed, "set", "n1.md").returncode == 2  # a usage error
    done = _program(indexed, "set", "n1.md", "a=1", prelude="import atexit; atexit.register(print, 'bye')")
    assert done.returncode == 0 and done.stdout == "bye\n" and done.stderr == "Updated n1.md\n"


def test_a_profiler_still_gets_its_report(indexed: Path, tmp_path: Path):
    out = tmp_path / "profile.out"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "mdstore", "--vault", str(indexed), "tags"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
