"""Keep the reference docs true to the code: every command, public name, setting, table and view is
documented, and the SQL examples of docs/index-schema.md run."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import mdstore
from mdstore import config
from mdstore.cli import cli
from mdstore.index import schema

DOCS = Path(__file__).resolve().parent.parent / "docs"


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_command_is_in_cli_md():
    text = read("cli.md")
    missing = [name for name in sorted(cli.commands) if f"mdstore {name}" not in text]
    assert not missing, f"commands not documented in docs/cli.md: {missing}"


def test_every_queue_subcommand_is_in_cli_md():
    text = read("cli.md")
    group = cli.commands["queue"]
    missing = [name for name in sorted(group.commands) if f"mdstore queue {name}" not in text]  # type: ignore[attr-defined]
    assert not missing, f"queue commands not documented in docs/cli.md: {missing}"


def test_every_public_name_is_in_python_api_md():
    text = read("python-api.md")
    missing = [name for name in mdstore.__all__ if not re.search(rf"\b{re.escape(name)}\b", text)]
    assert not missing, f"public names not documented in docs/python-api.md: {missing}"


def test_every_exit_code_is_in_cli_md():
    from mdstore.errors import ALL_ERRORS

    text = read("cli.md")
    for error in ALL_ERRORS:
        assert re.search(rf"\| {error.exit_code} \|", text), f"exit code {error.exit_code} of {error.__name__}"
        assert error.__name__ in text or error is mdstore.MdstoreError


def test_every_setting_is_in_configuration_md():
    text = read("configuration.md")
    missing = []
    for section, cls in config._SECTIONS.items():
        if f"[{section}]" not in text:
            missing.append(f"[{section}]")
        for f in dataclasses.fields(cls):
            if f"`{f.name}`" not in text or f"MDSTORE_{section.upper()}_{f.name.upper()}" not in text:
                missing.append(f"{section}.{f.name}")
    assert not missing, f"settings not documented in docs/configuration.md: {missing}"


def test_every_table_and_view_is_in_index_schema_md():
    text = read("index-schema.md")
    missing = [name for name in [*schema.TABLES, *schema.VIEWS] if f"`{name}`" not in text]
    assert not missing, f"tables/views not documented in docs/index-schema.md: {missing}"


def _sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", read("index-schema.md"), flags=re.S)


def test_index_schema_md_has_sql_examples():
    assert len(_sql_blocks()) >= 5


@pytest.fixture(scope="module")
def starter_vault(tmp_path_factory):
    init_vault = getattr(mdstore, "init_vault", None)
    if init_vault is None:  # not exported yet: see docs/python-api.md
        from mdstore.starter import init_vault
    vault = init_vault(tmp_path_factory.mktemp("docs") / "v")
    vault.sync()
    yield vault
    vault.close()


@pytest.mark.parametrize("query", _sql_blocks())
def test_index_schema_sql_examples_run(starter_vault, query):
    starter_vault.sql(query)


def test_index_schema_sql_examples_return_rows(starter_vault):
    """The examples are meant to show something on the starter vault (commits: git vaults only)."""
    empty = [q for q in _sql_blocks() if "commits" not in q and not starter_vault.sql(q)]
    # parse_errors/broken_links are empty on the healthy starter vault.
    empty = [q for q in empty if "parse_errors" not in q]
    assert not empty, f"SQL examples returning no rows on the starter vault: {empty}"


def test_readme_find_example_and_task_fields_as_query_md_says(starter_vault):
    # The README's quick-start filter finds a project (dates are fixed: independent of today).
    assert starter_vault.find("due < 2027-01-01", "#project").paths() == ["Projects/Website relaunch.md"]
    # Fields on task lines belong to the tasks: Garden's tasks are due in Feb/March, the note in April.
    assert starter_vault.find("due between 2027-01-01 and 2027-03-31").paths() == []
    garden = starter_vault.tasks(path="Projects/Garden.md", done=False)
    assert {t["fields"]["due"] for t in garden if t["fields"]} == {"2027-02-01", "2027-03-15"}
    assert starter_vault.find("#garden or #web").paths() == [
        "Ideas.md",
        "Projects/Garden.md",
        "Projects/Website relaunch.md",
        "Welcome.md",
    ]
