"""schema, export, edit and shell completion: what users of sqlite-utils, zk and Dataview reach for."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mdstore
from tests.conftest import cli_run


def run(vault: Path, *args: str) -> tuple[int, str, str]:
    result = cli_run(*args, vault=vault)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "v"
    (root / "Projects").mkdir(parents=True)
    (root / "Projects" / "Alpha.md").write_text("---\nstatus: active\naliases: [A]\n---\n# Alpha\n#project\n")
    (root / "Projects" / "Beta.md").write_text("---\nstatus: active\naliases: B\n---\n# Beta\n")
    (root / "Gamma.md").write_text("---\nstatus: done\n---\n# Gamma\n")
    with mdstore.open(root) as v:
        v.sync()
    return root


def test_schema_lists_every_queryable_table_and_view_with_types(vault: Path):
    code, out, _ = run(vault, "schema", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    by_name = {(r["name"], r["column"]): r for r in rows}
    assert by_name[("notes", "path")]["kind"] == "table" and by_name[("notes", "path")]["type"] == "VARCHAR"
    assert by_name[("backlinks", "source")]["kind"] == "view"
    with mdstore.open(vault) as v:  # every listed column can be selected
        for name in {r["name"] for r in rows}:
            columns = [r["column"] for r in rows if r["name"] == name]
            v.sql(f"SELECT {', '.join(columns)} FROM {name} LIMIT 1")


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_export_a_find_result(vault: Path, tmp_path: Path, ext: str):
    dest = tmp_path / f"out.{ext}"
    code, out, err = run(vault, "export", str(dest), "status = active", "--sort", "path", "--json")
    assert code == 0, err
    assert json.loads(out) == {"exported": str(dest), "rows": 2}
    if ext == "csv":
        with dest.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [r["path"] for r in rows] == ["Projects/Alpha.md", "Projects/Beta.md"]
        assert json.loads(rows[0]["tags"]) == ["project"]
    elif ext == "jsonl":
        rows = [json.loads(line) for line in dest.read_text().splitlines()]
        assert [r["path"] for r in rows] == ["Projects/Alpha.md", "Projects/Beta.md"]
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(dest)
        assert table.column("path").to_pylist() == ["Projects/Alpha.md", "Projects/Beta.md"]


def test_export_of_sql_with_shapes_that_differ_across_rows(vault: Path, tmp_path: Path):
    dest = tmp_path / "mixed.parquet"
    query = "SELECT path, CASE WHEN path LIKE 'P%' THEN frontmatter END AS fm FROM notes ORDER BY path"
    code, _, err = run(vault, "export", str(dest), "--sql", query)
    assert code == 0, err
    import pyarrow.parquet as pq

    assert pq.read_table(dest).num_rows == 3


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["out.txt"], "format 'txt' is not one of csv, jsonl, parquet"),
        (["out.csv", "priority => 2"], "unknown operator"),
        (["out.csv", "--sql", "DELETE FROM notes"], "read-only"),
        (["missing-folder/out.csv"], "cannot write"),
    ],
)
def test_export_errors_are_one_line(vault: Path, tmp_path: Path, args: list[str], fragment: str):
    args = [str(tmp_path / args[0]), *args[1:]]
    code, out, err = run(vault, "export", *args)
    assert code == mdstore.QueryError.exit_code
    assert err.startswith("Error: ") and fragment in err and err.count("\n") == 1


def test_export_never_writes_over_a_note(vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    before = (vault / "Gamma.md").read_bytes()
    monkeypatch.chdir(vault / "Projects")
    for dest, fmt in [("../Gamma.md", "csv"), (str(vault / "Gamma.md"), "parquet"), ("New.md", "jsonl")]:
        code, _, err = run(vault, "export", dest, "--format", fmt)
        assert code == mdstore.QueryError.exit_code, err
        assert "never over a note" in err and err.count("\n") == 1
    assert (vault / "Gamma.md").read_bytes() == before and not (vault / "Projects/New.md").exists()
    with mdstore.open(vault) as v, pytest.raises(mdstore.QueryError, match="never over a note"):
        v.find().export(vault / "Gamma.md", "csv")
    assert (vault / "Gamma.md").read_bytes() == before
    for _ in range(2):  # a file named for its format may be written in the vault, and again
        assert run(vault, "export", "out.csv")[0] == 0
    assert (vault / "Projects/out.csv").read_text().startswith("path,")
    assert run(vault, "export", str(tmp_path / "out.md"), "--format", "csv")[0] == 0  # not in a vault
    (vault / "link.csv").symlink_to(vault / "Gamma.md")  # named for its format, but leads to a note
    (tmp_path / "outside.csv").symlink_to(vault / "Gamma.md")
    for dest in (str(vault / "link.csv"), str(tmp_path / "outside.csv")):
        code, _, err = run(vault, "export", dest)
        assert code == mdstore.QueryError.exit_code and "never over a note" in err, err
    assert (vault / "Gamma.md").read_bytes() == before


def test_edit_runs_the_editor_and_indexes_the_save(vault: Path):
    editor = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write('#edited\\n')\""
    code, out, err = run(vault, "edit", "Gamma", "--editor", editor, "--json")
    assert code == 0, err
    assert json.loads(out) == {"edited": "Gamma.md", "changed": True}
    with mdstore.open(vault) as v:
        assert v.find("#edited").paths() == ["Gamma.md"]


def test_edit_reports_a_failing_or_missing_editor(vault: Path):
    before = (vault / "Gamma.md").read_bytes()
    code, _, err = run(vault, "edit", "Gamma.md", "--editor", f"{sys.executable} -c 'raise SystemExit(3)'")
    assert code == 1 and "exited with code 3" in err and err.count("\n") == 1
    code, _, err = run(vault, "edit", "Gamma.md", "--editor", "no-such-editor-here")
    assert code == 1 and "cannot run the editor 'no-such-editor-here'" in err
    assert (vault / "Gamma.md").read_bytes() == before
    code, _, err = run(vault, "edit", "Nowhere")
    assert code == mdstore.NoteNotFound.exit_code


def test_shell_completion_completes_note_paths_and_names(vault: Path):
    def complete(*words: str) -> list[str]:
        env = {
            **os.environ,
            "COMP_WORDS": " ".join(["mdstore", "--vault", str(vault), *words]),
            "COMP_CWORD": str(2 + len(words)),
            "_MDSTORE_COMPLETE": "bash_complete",
        }
        done = subprocess.run(
            [sys.executable, "-c", "from mdstore.cli import main; main()"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert complete("show", "Proj") == ["Projects/Alpha.md", "Projects/Beta.md"]
    assert complete("mv", "gam") == ["Gamma.md"]
    assert complete("set", "be") == ["Projects/Beta.md"]
