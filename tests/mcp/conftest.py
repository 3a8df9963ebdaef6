"""Fixtures for the MCP server: a small real vault, and a way to talk to a server over the SDK's
in-memory client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import mdstore
from mdstore.mcp import build_server

NOTES = {
    "Projects/Garden.md": (
        "---\ntitle: Garden\nstatus: active\npriority: 2\ntags: [project]\n---\n"
        "# Garden\n\nTomatoes and compost. See [[Soil]].\n\n"
        "## Tasks\n- [ ] Order seeds\n- [x] Build beds\n\n## Log\nStarted in spring.\n"
    ),
    "Projects/Website.md": "---\nstatus: paused\npriority: 1\n---\n# Website\n\nRelaunch, see [[Garden]].\n",
    "Soil.md": "# Soil\n\nLoam, compost and worms. Linked from the garden.\n",
    "Inbox/Idea.md": "An idea about tomatoes and soil #idea\n",
}


class Agent:
    """Talks to a server through the SDK's in-memory client (the ``agent`` fixture)."""

    @staticmethod
    def run(server: Any, body: Callable[[Any], Awaitable[Any]], mode: str = "auto") -> Any:
        """Open an in-memory client session on ``server``, run ``body(client)``, return its result.
        ``mode="legacy"`` speaks the 2025-11-25 protocol (initialize handshake)."""
        from mcp import Client

        async def main() -> Any:
            async with Client(server, mode=mode) as client:
                return await body(client)

        return anyio.run(main)

    @staticmethod
    def call(server: Any, name: str, arguments: dict[str, Any] | None = None) -> Any:
        """One tool call in its own session: the CallToolResult."""

        async def body(client: Any) -> Any:
            return await client.call_tool(name, arguments or {})

        return Agent.run(server, body)

    @staticmethod
    def ok(result: Any) -> dict[str, Any]:
        assert not result.is_error, result.content[0].text
        return dict(result.structured_content)

    @staticmethod
    def error(result: Any) -> str:
        assert result.is_error, result.structured_content
        text: str = result.content[0].text
        assert "\n" not in text and "Traceback" not in text, text
        return text


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[mdstore.Vault]:
    root = tmp_path / "vault"
    for rel, text in NOTES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    v = mdstore.open(root, memory={"flush_seconds": 0.2})
    v.sync()
    yield v
    v.close()


@pytest.fixture
def server(vault: mdstore.Vault) -> Any:
    return build_server(vault, tools="all")


@pytest.fixture
def agent() -> type[Agent]:
    return Agent
