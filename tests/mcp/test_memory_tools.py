"""The memory tools store and read through ``vault.memory``."""

from __future__ import annotations

from typing import Any

import mdstore


def test_remember_and_recall(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    got = agent.ok(
        agent.call(
            server,
            "remember",
            {"content": "Ada prefers tea over coffee", "category": "preference", "user": "ada"},
        )
    )
    insight = vault.memory.get_insight(got["id"])
    assert insight.content == "Ada prefers tea over coffee" and insight.user == "ada"
    assert (vault.root / got["path"]).exists()
    again = agent.ok(
        agent.call(server, "remember", {"content": "Ada prefers tea over coffee", "user": "ada"})
    )
    assert again["id"] == got["id"]  # idempotent, as its hint says

    found = agent.ok(agent.call(server, "recall", {"query": "tea", "user": "ada"}))
    assert [i["id"] for i in found["insights"]] == [got["id"]]
    assert agent.ok(agent.call(server, "recall", {"query": "tea", "user": "bob"}))["insights"] == []
    assert "argument category" in agent.error(
        agent.call(server, "remember", {"content": "x", "category": "gossip"})
    )


def test_log_appends_to_the_session(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    agent.ok(agent.call(server, "log", {"session": "s-1", "content": "Looked at the garden"}))
    agent.ok(agent.call(server, "log", {"session": "s-1", "content": "Ordered seeds", "role": "user"}))
    entries = vault.memory.log("s-1").entries()
    assert [(e.role, e.content) for e in entries] == [
        ("agent", "Looked at the garden"),
        ("user", "Ordered seeds"),
    ]
    assert "non-empty" in agent.error(agent.call(server, "log", {"session": "s-1", "content": "  "}))


def test_preferences(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    agent.ok(agent.call(server, "set_preference", {"key": "tone", "value": "brief", "user": "ada"}))
    agent.ok(agent.call(server, "set_preference", {"key": "langs", "value": ["en", "fr"], "user": "ada"}))
    assert vault.memory.get_preference("ada", "tone") == "brief"
    got = agent.ok(agent.call(server, "get_preferences", {"user": "ada"}))
    assert got["preferences"] == {"tone": "brief", "langs": ["en", "fr"]}
    one = agent.ok(agent.call(server, "get_preferences", {"user": "ada", "key": "tone"}))
    assert one["value"] == "brief"
