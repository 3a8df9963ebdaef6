"""A real round trip: `mdstore mcp` as a subprocess, spoken to over stdio by the SDK's client."""

from __future__ import annotations

import sys
from typing import Any

import anyio

import mdstore


def session(vault: mdstore.Vault, *options: str) -> Any:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mdstore", "--vault", str(vault.root), "mcp", *options]
    )
    return Client(params, read_timeout_seconds=60)


def test_stdio_round_trip(vault: mdstore.Vault) -> None:
    async def main() -> Any:
        async with session(vault) as client:
            tools = await client.list_tools()
            read = await client.call_tool("read_note", {"path": "Garden"})
            wrote = await client.call_tool(
                "update_note",
                {"path": "Garden", "set": {"status": "done"}, "if_hash": read.structured_content["hash"]},
            )
            bad = await client.call_tool("read_note", {"path": "../etc/passwd"})
            return tools, read, wrote, bad

    tools, read, wrote, bad = anyio.run(main)
    assert "search" in {t.name for t in tools.tools}
    assert read.structured_content["title"] == "Garden"
    assert not wrote.is_error and vault.get("Garden").frontmatter["status"] == "done"
    assert bad.is_error and bad.content[0].text.count("\n") == 0 and "inside the vault" in bad.content[0].text


def test_stdio_read_only_refuses_writes(vault: mdstore.Vault) -> None:
    async def main() -> Any:
        async with session(vault, "--read-only", "--tools", "all") as client:
            tools = await client.list_tools()
            refused = await client.call_tool("delete_note", {"path": "Soil"})
            return tools, refused

    tools, refused = anyio.run(main)
    names = {t.name for t in tools.tools}
    assert "sql" in names and not names & {"create_note", "update_note", "move_note", "delete_note", "log"}
    assert refused.is_error and (vault.root / "Soil.md").exists()
