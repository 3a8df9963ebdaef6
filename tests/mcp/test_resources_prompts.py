"""note:// resources, change notifications to listening clients, and the prompts."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import mdstore


def test_read_a_note_as_a_resource(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    async def body(client: Any) -> Any:
        templates = await client.list_resource_templates()
        text = await client.read_resource("note://Projects/Garden.md")
        by_name = await client.read_resource("note://Soil")
        return templates, text, by_name

    templates, text, by_name = agent.run(server, body)
    assert [t.uri_template for t in templates.resource_templates] == ["note://{+path}"]
    assert text.contents[0].text == (vault.root / "Projects/Garden.md").read_text()
    assert text.contents[0].mime_type == "text/markdown"
    assert by_name.contents[0].text.startswith("# Soil")


@pytest.mark.parametrize("uri", ["note://Missing.md", "note://../outside.md", "note://.mdstore/index.duckdb"])
def test_a_bad_resource_is_an_error(server: Any, agent: Any, vault: mdstore.Vault, uri: str) -> None:
    from mcp import MCPError

    (vault.root.parent / "outside.md").write_text("secret\n")

    async def body(client: Any) -> Any:
        try:
            await client.read_resource(uri)
        except MCPError as exc:
            return str(exc)
        return None

    message = agent.run(server, body)
    assert message and "secret" not in message and "\n" not in message


def test_listeners_hear_of_writes(server: Any, agent: Any) -> None:
    async def body(client: Any) -> Any:
        heard: list[str] = []
        async with client.listen(resource_subscriptions=["note://Projects/Garden.md"]) as sub:
            await client.call_tool("update_note", {"path": "Garden", "set": {"status": "done"}})
            await client.call_tool("update_note", {"path": "Soil", "set": {"status": "done"}})
            with anyio.fail_after(5):
                async for event in sub:
                    heard.append(event.uri)
                    break
        return heard

    assert agent.run(server, body) == ["note://Projects/Garden.md"]


def test_clients_of_the_previous_protocol_get_tools_and_resources_without_events(
    server: Any, agent: Any
) -> None:
    async def body(client: Any) -> Any:
        read = await client.call_tool("read_note", {"path": "Soil"})
        resource = await client.read_resource("note://Soil.md")
        return client.protocol_version, client.server_capabilities.resources, read, resource

    version, resources, read, resource = agent.run(server, body, mode="legacy")
    assert version == "2025-11-25" and resources.subscribe is False
    assert read.structured_content["path"] == "Soil.md"
    assert resource.contents[0].text.startswith("# Soil")


def test_prompts(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    vault.memory.log("s-9").append("We chose raised beds")
    vault.memory.flush()

    async def body(client: Any) -> Any:
        listed = await client.list_prompts()
        week = await client.get_prompt("weekly_review", {"days": "3"})
        cont = await client.get_prompt("continue_session", {})
        return listed, week, cont

    listed, week, cont = agent.run(server, body)
    assert {p.name for p in listed.prompts} == {"weekly_review", "continue_session"}
    week_text = week.messages[0].content.text
    assert "last 3 days" in week_text and "Projects/Garden.md" in week_text
    assert "We chose raised beds" in cont.messages[0].content.text


def test_weekly_review_of_a_huge_span_is_a_century(server: Any, agent: Any) -> None:
    """days="999999999" raised OverflowError."""

    async def body(client: Any) -> Any:
        return await client.get_prompt("weekly_review", {"days": "999999999"})

    text = agent.run(server, body).messages[0].content.text
    assert "last 36600 days" in text and "Projects/Garden.md" in text
