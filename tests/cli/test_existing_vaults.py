"""Opening the vault people already have: an Obsidian vault or a folder of notes is indexed where it
is, `init` adds no sample notes to it, the state folder keeps itself out of git, and a vault inside
another repository says where its history comes from."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import mdstore
from tests.conftest import cli_run


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = cli_run(*args, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A folder of someone's notes, not made by mdstore."""
    root = tmp_path / "mine"
    (root / "Daily").mkdir(parents=True)
    (root / "Daily" / "2026-12-01.md").write_text("# Monday\n[[Plans]]\n")
    (root / "Plans.md").write_text("---\nstatus: active\n---\n# Plans\n")
    return root


def files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix() for p in root.rglob("*") if ".mdstore" not in p.parts and p.is_file()
    }


def test_an_obsidian_vault_is_found_as_it_is(notes: Path, monkeypatch: pytest.MonkeyPatch):
    (notes / ".obsidian").mkdir()
    (notes / ".obsidian" / "app.json").write_text("{}")
    monkeypatch.chdir(notes / "Daily")
    code, out, err = run("find", "--json")
    assert code == 0, err
    assert {json.loads(line)["path"] for line in out.splitlines()} == {"Daily/2026-12-01.md", "Plans.md"}
    assert not (notes / "mdstore.toml").exists()  # nothing of the user's changed


def test_init_in_a_folder_of_notes_adds_only_the_settings(notes: Path):
    before = files(notes)
    contents = {name: (notes / name).read_bytes() for name in before}
    code, out, err = run("init", str(notes), "--json")
    assert code == 0, err
    assert files(notes) == before | {"mdstore.toml", ".mdstoreignore"}
    assert all((notes / name).read_bytes() == data for name, data in contents.items())
    assert json.loads(out)["indexed"] == 2
    with mdstore.open(notes) as vault:
        assert sorted(vault.find().paths()) == ["Daily/2026-12-01.md", "Plans.md"]


def test_init_in_an_obsidian_vault_without_notes_yet_is_still_not_a_starter(tmp_path: Path):
    root = tmp_path / "fresh"
    run("init", str(root))
    assert (root / "Welcome.md").is_file()  # a new folder gets the starter vault


def test_the_state_folder_keeps_itself_out_of_git(notes: Path):
    subprocess.run(["git", "init", "-q", str(notes)], check=True)
    (notes / ".gitignore").write_text("!.mdstore/\n")  # whatever the vault's own rules say
    code, _, err = run("--vault", str(notes), "index")
    assert code == 0, err
    assert (notes / ".mdstore" / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(
        ["git", "-C", str(notes), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".mdstore" not in status and "Plans.md" in status


def test_a_state_folder_from_before_gains_its_gitignore(notes: Path):
    with mdstore.open(notes) as vault:
        vault.sync()
    (notes / ".mdstore" / ".gitignore").unlink()
    with mdstore.open(notes) as vault:
        vault.find()
    assert (notes / ".mdstore" / ".gitignore").is_file()


def test_no_vault_here_says_how_to_index_a_plain_folder(notes: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(notes)
    code, _, err = run("find")
    assert code == mdstore.VaultNotFound.exit_code
    assert "no vault here" in err and "mdstore init" in err and "adds only mdstore.toml" in err


@pytest.mark.parametrize("how", ["env", "option"])
def test_a_vault_path_that_is_a_file_names_where_it_came_from(tmp_path: Path, how: str):
    target = tmp_path / "note.md"
    target.write_text("x")
    if how == "env":
        code, _, err = run("find", env={"MDSTORE_VAULT": str(target)})
        assert err.startswith(f"Error: MDSTORE_VAULT={target} is a file")
    else:
        code, _, err = run("--vault", str(target), "find")
        assert err.startswith(f"Error: --vault={target} is a file")
    assert code == mdstore.VaultNotFound.exit_code and err.count("\n") == 1


def test_a_vault_inside_a_repository_says_whose_history_it_reads(tmp_path: Path):
    project = tmp_path / "project"
    vault_dir = project / "docs" / "notes"
    vault_dir.mkdir(parents=True)
    (vault_dir / "A.md").write_text("# A\n")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "first"]):
        subprocess.run(["git", "-C", str(project), *args], check=True)
    code, out, err = run("--vault", str(vault_dir), "history", "A.md", "--json")
    assert code == 0, err
    assert f"History comes from the git repository at {project.resolve()}" in err
    assert "docs/notes/" in err and json.loads(out.splitlines()[0])["subject"] == "first"
    own = tmp_path / "own"
    own.mkdir()
    (own / "B.md").write_text("# B\n")
    subprocess.run(["git", "init", "-q", str(own)], check=True)
    code, _, err = run("--vault", str(own), "commit", "-m", "b")
    assert code == 0 and "History comes from" not in err


def test_init_after_index_counts_the_notes_already_indexed(notes: Path):
    assert run("--vault", str(notes), "index", "--json")[0] == 0  # .md files, no marker: indexed in place
    code, out, err = run("init", str(notes), "--json")
    assert code == 0, err
    assert json.loads(out)["indexed"] == 2  # it said 0: the notes were indexed by the earlier command
