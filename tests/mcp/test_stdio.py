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


def test_http_round_trip(vault: mdstore.Vault) -> None:
    import socket
    import subprocess
    import time

    from mcp import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "mdstore", "--vault", str(vault.root), "mcp", "--http", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
                time.sleep(0.2)

        async def main() -> Any:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("read_note", {"path": "Soil"})

        read = anyio.run(main)
        assert read.structured_content["path"] == "Soil.md"

        import http.client

        # A web page that rebinds its own name to 127.0.0.1 is refused by the Host check.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = '{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}'
        headers = {"Host": f"evil.example:{port}", "Content-Type": "application/json"}
        conn.request("POST", "/mcp", body=body, headers=headers)
        assert conn.getresponse().status in (400, 403, 421)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
