"""``mdstore mcp``: serve the vault to AI agents over the Model Context Protocol (docs/mcp.md).
A thin wrapper over ``mdstore.mcp.serve``."""

from __future__ import annotations

import click

from . import State, cli, pass_state


@cli.command("mcp")
@click.option("--read-only", is_flag=True, help="Serve only the tools that change nothing.")
@click.option(
    "--tools",
    "tool_names",
    metavar="NAMES",
    help="Comma-separated tools to serve, with the words 'default' and 'all' "
    "(default: 'default'; e.g. 'default,sql,history').",
)
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Serve streamable HTTP on 127.0.0.1:PORT (endpoint /mcp) instead of stdio.",
)
@pass_state
def mcp_command(state: State, read_only: bool, tool_names: str | None, http_port: int | None) -> None:
    """Run an MCP server over the vault (stdio by default) for Claude Desktop, Claude Code, IDE agents."""
    from ..mcp import serve

    serve(state.vault(), read_only=read_only, tools=tool_names, http_port=http_port)
