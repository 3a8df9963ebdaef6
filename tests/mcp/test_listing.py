"""tools/list: the names, the schemas, every hint against the truth table, the size, --tools and
--read-only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from mdstore.cli import cli
from mdstore.errors import ConfigError
from mdstore.mcp import DEFAULT_TOOLS, build_server, select_tools

# (read_only, destructive, idempotent, open_world), written out here independently of the catalog.
TRUTH = {
    "search": (True, False, True, False),
    "find": (True, False, True, False),
    "read_note": (True, False, True, False),
    "list_notes": (True, False, True, False),
    "links": (True, False, True, False),
    "tags": (True, False, True, False),
    "tasks": (True, False, True, False),
    "recent_changes": (True, False, True, False),
    "sql": (True, False, True, False),
    "history": (True, False, True, False),
    "status": (True, False, True, False),
    "recall": (True, False, True, False),
    "get_preferences": (True, False, True, False),
    "create_note": (False, False, True, False),  # never overwrites: a second call fails, changing nothing
    "update_note": (False, True, False, False),  # replaces text; append twice appends twice
    "move_note": (False, True, True, False),
    "delete_note": (False, True, True, False),
    "remember": (False, False, True, False),  # the same content returns the stored insight
    "log": (False, False, False, False),
    "set_preference": (False, True, True, False),
}


def listed(agent: Any, server: Any) -> list[dict[str, Any]]:
    async def body(client: Any) -> Any:
        return await client.list_tools()

    result = agent.run(server, body)
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in result.tools]


def test_every_tool_has_a_schema_and_truthful_hints(server: Any, agent: Any) -> None:
    tools = listed(agent, server)
    assert {t["name"] for t in tools} == set(TRUTH)
    for tool in tools:
        hints = tool["annotations"]
        got = (
            hints["readOnlyHint"],
            hints["destructiveHint"],
            hints["idempotentHint"],
            hints["openWorldHint"],
        )
        assert got == TRUTH[tool["name"]], tool["name"]
        schema = tool["inputSchema"]
        assert schema["type"] == "object" and tool["description"]
        assert tool["outputSchema"]["type"] == "object"
        assert '"title"' not in json.dumps(schema["properties"]), tool["name"]
    by_name = {t["name"]: t for t in tools}
    assert by_name["read_note"]["inputSchema"]["required"] == ["path"]
    modes = by_name["update_note"]["inputSchema"]["properties"]["mode"]
    assert "replace_section" in json.dumps(modes)


def test_default_set_is_small_and_tools_list_fits_the_budget(vault: Any, agent: Any) -> None:
    default = listed(agent, build_server(vault))
    assert [t["name"] for t in default] == list(DEFAULT_TOOLS)
    assert 12 <= len(default) <= 17
    for tools in (default, listed(agent, build_server(vault, tools="all"))):
        tokens = len(json.dumps(tools)) / 4  # the usual estimate of a tokenizer's count
        assert tokens < 8000


def test_tools_picks_more_and_read_only_keeps_only_reads(vault: Any, agent: Any) -> None:
    assert select_tools("default,sql") == (*DEFAULT_TOOLS, "sql")
    assert select_tools(["sql", "sql", "status"]) == ("sql", "status")
    read_only = build_server(vault, read_only=True, tools="all")
    names = {t["name"] for t in listed(agent, read_only)}
    assert names == {n for n, hints in TRUTH.items() if hints[0]}
    text = agent.error(agent.call(read_only, "create_note", {"path": "new.md", "body": "x"}))
    assert "create_note" in text
    assert not (vault.root / "new.md").exists()


@pytest.mark.parametrize("names", ["nope", "default,nope", ",", ""])
def test_unknown_tool_names_are_a_config_error(names: str) -> None:
    with pytest.raises(ConfigError, match="--tools"):
        select_tools(names)


def test_cli_refuses_an_unknown_tool_in_one_line(vault: Any) -> None:
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "mcp", "--tools", "sql,bogus"])
    assert result.exit_code == ConfigError.exit_code
    assert result.output.strip().splitlines() == [
        f"Error: --tools: unknown tool 'bogus' (known: default, all, {', '.join(TRUTH_ORDER)})"
    ]


def test_without_the_sdk_the_cli_says_which_extra_to_install(vault: Any) -> None:
    import subprocess
    import sys

    script = "import sys; sys.modules['mcp'] = None; from mdstore.cli import main; main(sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", script, "--vault", str(vault.root), "mcp"], capture_output=True, text=True
    )
    assert done.returncode == 11
    assert done.stderr.strip() == "Error: the MCP server needs the mcp package: pip install 'mdstore[mcp]'"
    assert done.stdout == ""


def test_cli_help_names_the_options() -> None:
    result = CliRunner().invoke(cli, ["mcp", "--help"])
    assert result.exit_code == 0
    for option in ("--read-only", "--tools", "--http"):
        assert option in result.output


def test_a_bad_argument_is_one_line_naming_it(server: Any, agent: Any) -> None:
    text = agent.error(agent.call(server, "find", {"limit": "lots"}))
    assert "argument limit" in text
    text = agent.error(agent.call(server, "read_note", {}))
    assert "argument path" in text
    assert agent.ok(agent.call(server, "find", {"limit": 1}))["rows"]


TRUTH_ORDER = [
    "search", "find", "read_note", "list_notes", "links", "tags", "tasks", "recent_changes", "sql",
    "history", "status", "create_note", "update_note", "move_note", "delete_note", "remember",
    "recall", "log", "get_preferences", "set_preference",
]  # fmt: skip
