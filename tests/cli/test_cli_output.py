"""What the CLI prints: --json on write commands, an honest unset, one note or a list of the
notes a name could mean, readable status lines, and tables that fit the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mdstore
from mdstore.cli.output import _clip_middle, fit_widths
from tests.conftest import cli_run


def run(vault: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = cli_run(*args, vault=vault, env=env)
    return result.exit_code, result.stdout, result.stderr


def as_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables and lines, as printed when stdout is a terminal."""
    from mdstore.cli import core, output

    for module in (core, output):
        monkeypatch.setattr(module, "use_json", lambda flag: flag)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "v"
    (root / "Work").mkdir(parents=True)
    (root / "Home").mkdir()
    (root / "Work" / "Plans.md").write_text("---\nstatus: active\n---\n# Work plans\n")
    (root / "Home" / "Plans.md").write_text("# Home plans\n")
    (root / "Solo.md").write_text("---\nstatus: draft\n---\n# Solo\n")
    with mdstore.open(root) as v:
        v.sync()
    return root


def test_write_commands_print_json_with_json(vault: Path):
    code, out, err = run(vault, "set", "Solo.md", "status=done", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["updated"] == "Solo.md" and record["changed"] is True
    code, out, _ = run(vault, "new", "Fresh.md", "--body", "hello", "--json")
    assert json.loads(out)["created"] == "Fresh.md"
    code, out, _ = run(vault, "append", "Fresh.md", "more", "--json")
    assert json.loads(out)["appended"] == "Fresh.md"
    code, out, _ = run(vault, "rm", "Fresh.md", "--json")
    assert json.loads(out) == {"deleted": "Fresh.md", "permanent": False}
    with mdstore.open(vault) as v:
        assert v.get("Solo.md").frontmatter["status"] == "done"
        assert "Fresh.md" not in v.find().paths()


def test_unset_of_a_missing_key_says_so_and_changes_nothing(vault: Path):
    before = (vault / "Solo.md").read_bytes()
    code, out, err = run(vault, "unset", "Solo.md", "owner")
    assert code == 0
    assert "Updated" not in err and "Solo.md has no owner; nothing changed" in err
    assert (vault / "Solo.md").read_bytes() == before
    code, out, err = run(vault, "unset", "Solo.md", "status", "owner", "--json")
    assert json.loads(out)["changed"] is True
    assert b"status" not in (vault / "Solo.md").read_bytes()


def test_set_to_the_same_value_says_nothing_changed(vault: Path):
    code, _, err = run(vault, "set", "Solo.md", "status=draft")
    assert code == 0 and "nothing changed" in err and "Updated" not in err


def test_show_a_name_that_several_notes_share_lists_them(vault: Path):
    code, out, err = run(vault, "show", "Plans")
    assert code == mdstore.QueryError.exit_code and out == ""
    assert "'Plans' names 2 notes: Home/Plans.md, Work/Plans.md" in err and err.count("\n") == 1
    code, out, _ = run(vault, "show", "Work/Plans.md", "--json")
    assert json.loads(out)["title"] == "Work plans"
    code, out, _ = run(vault, "show", "Solo", "--json")
    assert json.loads(out)["path"] == "Solo.md"


@pytest.mark.parametrize(
    "args",
    [
        ("links", "Plans"),
        ("backlinks", "Plans"),
        ("neighbors", "Plans"),
        ("related", "Plans"),
        ("tasks", "--path", "Plans"),
        ("edit", "Plans"),
        ("history", "Plans"),
        ("restore", "Plans", "HEAD"),
    ],
)
def test_every_command_refuses_a_name_that_several_notes_share(vault: Path, args: tuple[str, ...]):
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    code, out, err = run(vault, *args, env={"EDITOR": "false"})
    assert code == mdstore.QueryError.exit_code and out == ""
    assert "'Plans' names 2 notes: Home/Plans.md, Work/Plans.md" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before


def test_status_prints_nested_values_as_indented_lines(monkeypatch: pytest.MonkeyPatch, vault: Path):
    as_on_a_terminal(monkeypatch)
    code, out, _ = run(vault, "status")
    assert code == 0
    assert "{" not in out  # no JSON blobs
    lines = out.splitlines()
    assert "search:" in lines and any(line.startswith("  engine: ") for line in lines)


def test_tables_fit_the_terminal_and_keep_file_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    root = tmp_path / "deep"
    folder = root / "Projects" / "A very long folder name indeed" / "And another one below it"
    folder.mkdir(parents=True)
    (folder / "Quarterly report.md").write_text("# Quarterly report with a long title too\n")
    as_on_a_terminal(monkeypatch)
    code, out, _ = run(root, "find", env={"COLUMNS": "60"})
    assert code == 0
    assert all(len(line) <= 60 for line in out.splitlines())
    row = out.splitlines()[2]
    assert row.startswith("Projects/") and "Quarterly report.md" in row and "…" in row


def test_clip_middle_and_fit_widths():
    assert _clip_middle("Projects/Folder/Note.md", 30) == "Projects/Folder/Note.md"
    clipped = _clip_middle("Projects/A long folder/Note.md", 16)
    assert len(clipped) == 16 and clipped.endswith("Note.md") and "…" in clipped
    assert fit_widths([40, 10], [4, 5], 30, [True, False]) == [20, 8]
    assert fit_widths([5, 5], [4, 5], 100, [False, False]) == [5, 5]
    assert fit_widths([40, 40], [4, 5], 10, [False, False]) == [8, 8]  # never below the floor


def test_an_error_while_closing_the_vault_is_one_line_with_its_exit_code(vault: Path):
    # The insight waits in the memory journal and is written when the command closes the vault;
    # a file where its folder belongs makes that write fail.
    (vault / "Memory").mkdir()
    (vault / "Memory" / "insights").write_text("in the way\n")
    args = ("memory", "store-insight", "Ann likes tea", "--user", "ann", "--source", "agent")
    code, out, err = run(vault, *args, "--category", "preference")
    assert json.loads(out)["content"] == "Ann likes tea"  # taken: it waits in the journal
    assert code == mdstore.InvalidPath.exit_code
    assert err.startswith("Error: ") and "'Memory/insights' is a file" in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_text_that_starts_with_a_dash_is_text_not_an_option(vault: Path):
    code, out, err = run(vault, "append", "Solo.md", "- [ ] call Ada")
    assert code == 0, err
    code, out, err = run(vault, "append", "Solo.md", "-7 degrees", "--json")  # an option after it
    assert code == 0 and json.loads(out)["appended"] == "Solo.md"
    assert (vault / "Solo.md").read_text().endswith("# Solo\n- [ ] call Ada\n-7 degrees\n")
    run(vault, "set", "Solo.md", "tags=draft")
    code, out, err = run(vault, "find", "-#draft", "--sort", "path", "--json")
    assert code == 0, err
    assert [json.loads(line)["path"] for line in out.splitlines()] == ["Home/Plans.md", "Work/Plans.md"]
    code, out, err = run(vault, "find", "--sortt", "path")  # a mistyped option is still one
    assert code == 2 and "No such option '--sortt'" in err


def test_show_prints_nested_frontmatter_as_indented_lines(monkeypatch: pytest.MonkeyPatch, vault: Path):
    (vault / "Nested.md").write_text("---\nowner:\n  name: Ann\n  team: [a, b]\nsize: 2\n---\n# Nested\n")
    as_on_a_terminal(monkeypatch)
    code, out, err = run(vault, "show", "Nested")
    assert code == 0, err
    assert out.splitlines()[1:5] == ["  owner:", "    name: Ann", "    team: a, b", "  size: 2"]


def test_a_shared_name_is_refused_beside_a_plain_file_and_in_either_unicode_form(vault: Path):
    import unicodedata

    (vault / "Plans").write_text("a plain file, not a note\n")
    nfd = unicodedata.normalize("NFD", "Café")
    for folder in ("Home", "Work"):
        (vault / folder / f"{nfd}.md").write_text(f"# {folder} café\n")
    run(vault, "index")
    for ref in ("Plans", unicodedata.normalize("NFC", "Café")):
        code, out, err = run(vault, "show", ref)
        assert code == mdstore.QueryError.exit_code and "names 2 notes" in err, (ref, out)
