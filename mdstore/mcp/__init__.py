"""The MCP server: the vault's tools, resources and prompts for AI agents (docs/mcp.md).

``build_server(vault)`` returns the server; ``serve(vault)`` runs it over stdio (or streamable HTTP on
a local port). Needs the ``mcp`` extra (``pip install 'mdstore[mcp]'``); importing this package does
not load the SDK.
"""

from __future__ import annotations

from .catalog import DEFAULT_TOOLS, TOOLS, select_tools
from .server import build_server, serve

__all__ = ["DEFAULT_TOOLS", "TOOLS", "build_server", "select_tools", "serve"]
