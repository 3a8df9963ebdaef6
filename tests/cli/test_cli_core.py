"""The CLI core commands, checked through their effect on the vault (via the API)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mdstore
from tests.conftest import cli_run


def run(*args: str, vault: Path | None = None, ok: bool = True) -> tuple[int, str, str]:
    result = cli_run(*args, vault=vault, code=0 if ok else None)
    return result.exit_code, result.stdout, result.stderr


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    run("init", str(tmp_path / "demo"))
    return tmp_path / "demo"


def test_init_creates_an_indexed_vault_from_the_template(demo: Path):
    assert (demo / "mdstore.toml").is_file() and (demo / "Welcome.md").is_file()
    vault = mdstore.open(demo)
    assert "Welcome.md" in vault.find().paths()
    assert vault.check().to_dicts() == []
    vault.close()


def test_init_never_overwrites(tmp_path: Path):
    target = tmp_path / "v"
    target.mkdir()
    (target / "Welcome.md").write_text("mine")
    run("init", str(target))
    assert (target / "Welcome.md").read_text() == "mine"


def test_index_find_sql_show(demo: Path):
    (demo / "New.md").write_text("---\nstatus: active\npriority: 5\n---\n# New one\n#fresh\n")
    _, out, _ = run("index", "--json", vault=demo)
    assert lines(out)[0]["added"] == 1
    _, out, _ = run("find", "priority >= 5", "#fresh", "--json", vault=demo)
    assert [r["path"] for r in lines(out)] == ["New.md"]
    _, out, _ = run("sql", "SELECT path FROM notes WHERE path = ?", "--param", "New.md", vault=demo)
    assert lines(out) == [{"path": "New.md"}]
    _, out, _ = run("show", "New.md", "--json", vault=demo)
    assert lines(out)[0]["title"] == "New one"
    _, out, _ = run("show", "New.md", "--body", vault=demo)
    assert out.startswith("# New one")


def test_find_sort_limit_and_table_output(demo: Path):
    _, out, _ = run("find", "--sort", "-path", "--limit", "2", "--json", vault=demo)
    paths = [r["path"] for r in lines(out)]
    vault = mdstore.open(demo)
    assert paths == vault.find(sort="-path", limit=2).paths()
    vault.close()


def test_graph_and_listing_commands(demo: Path):
    vault = mdstore.open(demo)
    some = vault.sql("SELECT target FROM backlinks LIMIT 1").first()["target"]
    expected_back = {r["source"] for r in vault.backlinks(some)}
    vault.close()
    _, out, _ = run("backlinks", some, "--json", vault=demo)
    assert {r["source"] for r in lines(out)} == expected_back
    _, out, _ = run("links", "Welcome.md", "--json", vault=demo)
    assert lines(out) and all("resolved" in r for r in lines(out))
    _, out, _ = run("tags", "--json", vault=demo)
    assert all(r["count"] >= 1 for r in lines(out))
    _, out, _ = run("tasks", "--open", "--json", vault=demo)
    assert all(not r["done"] for r in lines(out))
    _, out, _ = run("status", "--json", vault=demo)
    assert lines(out)[0]["indexed"] is True
    run("neighbors", "Welcome.md", "--depth", "2", vault=demo)
    run("orphans", vault=demo)
    run("broken-links", vault=demo)


def test_check_exits_1_on_problems(demo: Path):
    (demo / "Broken.md").write_text("---\ntitle: [x\n---\n[[nowhere]]\n")
    run("index", vault=demo)
    code, out, _ = run("check", "--json", vault=demo, ok=False)
    assert code == 1
    kinds = {r["kind"] for r in lines(out)}
    assert "broken-link" in kinds and any(k != "broken-link" for k in kinds)


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["find", "priority => 2"], 6, "unknown operator"),
        (["find", "due < 2026-99-01"], 6, "malformed date '2026-99-01' in filter 'due < 2026-99-01'"),
        (["set", "Welcome.md", "due=2026-99-01"], 6, "malformed date '2026-99-01' in setting 'due=2026-99-01'"),
        (["sql", "SELECT ?", "--param", "2026-99-01"], 6, "malformed date '2026-99-01' (use YYYY-MM-DD)"),
        (["search", "("], 6, "the ( at column 1 is never closed"),
        (["sql", "DELETE FROM notes"], 6, "read-only"),
        (["show", "missing-note"], 4, "no note"),
        (["show", "../outside.md"], 5, "inside the vault"),
    ],
)
def test_errors_are_one_line_with_exit_codes(demo: Path, args, code, fragment):
    exit_code, out, err = run(*args, vault=demo, ok=False)
    assert exit_code == code
    assert err.startswith("Error: ") and fragment in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_missing_vault_is_a_clear_error(tmp_path: Path):
    code, _, err = run("find", vault=tmp_path / "nope", ok=False)
    assert code == mdstore.VaultNotFound.exit_code
    assert "does not exist" in err


def test_vault_discovery_from_a_subfolder(demo: Path, monkeypatch):
    monkeypatch.chdir(demo / "Projects")
    _, out, _ = run("find", "--json", "--limit", "1")
    assert len(lines(out)) == 1


def test_help_is_fast_and_lists_commands():
    out = subprocess.run([sys.executable, "-m", "mdstore", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("init", "index", "find", "sql", "show", "links", "backlinks", "tags", "tasks", "check", "status"):
        assert command in out.stdout


def test_sql_json_is_strict_json(demo: Path):
    query = (
        "SELECT 'nan'::DOUBLE AS x, 'inf'::DOUBLE AS y, [1.5, '-inf'::DOUBLE] AS l, {'a': 'nan'::DOUBLE} AS s, "
        "INTERVAL 3 DAY AS d, INTERVAL 90 MINUTE AS m, INTERVAL '1.25 seconds' AS f, -INTERVAL 1 DAY AS n, "
        "INTERVAL 0 DAY AS z"
    )
    _, out, _ = run("sql", query, "--json", vault=demo)

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    row = json.loads(out, parse_constant=refuse)
    assert row == {
        "x": None,
        "y": None,
        "l": [1.5, None],
        "s": {"a": None},
        "d": "P3D",
        "m": "PT1H30M",
        "f": "PT1.25S",
        "n": "-P1D",
        "z": "PT0S",
    }


def test_sql_params_are_typed_like_filter_values(demo: Path):
    import datetime as dt

    args = ["sql", "SELECT ? AS a, ? AS b, ? AS c, ? AS d", "--json"]
    for value in ("2", "2026-12-01", "-7d", "'-7d'"):
        args += ["--param", value]
    _, out, _ = run(*args, vault=demo)
    week_ago = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    assert lines(out) == [{"a": 2, "b": "2026-12-01", "c": week_ago, "d": "-7d"}]
