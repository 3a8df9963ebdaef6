"""Notes as MCP resources: ``note://{path}`` reads a note's Markdown, the frontmatter included.

Clients that listen for ``note://...`` updates hear of every change the server makes, and of
every change in the vault while a watcher (``mdstore watch``) runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MdstoreError
from .gate import NOTE_SCHEME, Gate

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

MAX_RESOURCE = 500_000
"""Characters of one note served as a resource; longer notes are cut with a marker."""


def add_resources(server: MCPServer[Any], gate: Gate) -> None:
    from mcp.server.mcpserver.exceptions import ResourceError

    def read_note(path: str) -> str:
        try:
            with gate.use() as vault:
                rel = vault.get(path).path
                data = (vault.root / rel).read_bytes()
        except MdstoreError as exc:
            raise ResourceError(str(exc)) from None
        except OSError as exc:
            raise ResourceError(f"{path}: cannot read the note ({exc.strerror})") from None
        text = data.decode("utf-8", "replace")
        if len(text) > MAX_RESOURCE:
            text = text[:MAX_RESOURCE] + f"\n[... truncated: {len(text) - MAX_RESOURCE} more characters]"
        return text

    server.resource(
        NOTE_SCHEME + "{+path}",
        name="note",
        title="Note",
        description="A note of the vault as Markdown (frontmatter included); path is vault-relative",
        mime_type="text/markdown",
    )(read_note)
