"""With the watcher daemon owning the index, the server reads and writes through it and tells
listening clients about edits made in an editor."""

from __future__ import annotations

from typing import Any

import anyio

import mdstore
from mdstore.mcp import build_server


def test_through_the_daemon(vault: mdstore.Vault, agent: Any) -> None:
    daemon_vault = mdstore.open(vault.root)
    watcher = daemon_vault.watch(foreground=False)
    try:
        assert vault.status()["owner"] is not None
        server = build_server(vault)

        async def body(client: Any) -> Any:
            created = await client.call_tool("create_note", {"path": "Fresh.md", "body": "Radishes\n"})
            found = await client.call_tool("search", {"query": "radishes"})
            heard: list[str] = []
            async with client.listen(resource_subscriptions=["note://Soil.md"]) as sub:
                await anyio.to_thread.run_sync((vault.root / "Soil.md").write_text, "# Soil\n\nSandy.\n")
                with anyio.fail_after(15):
                    async for event in sub:
                        heard.append(event.uri)
                        break
            return created, found, heard

        created, found, heard = agent.run(server, body)
        assert not created.is_error and found.structured_content["total"] == 1
        assert heard == ["note://Soil.md"]
    finally:
        watcher.stop()
        daemon_vault.close()
