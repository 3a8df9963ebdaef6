"""The write tools on a real vault: effects checked through the API, compare-and-swap on the hash
the agent read, and paths that try to leave the vault."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import mdstore


def test_create_never_overwrites(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    got = agent.ok(
        agent.call(server, "create_note", {"path": "Inbox/New", "body": "Hello\n", "frontmatter": {"n": 1}})
    )
    note = vault.get("Inbox/New.md")
    assert got == {"path": "Inbox/New.md", "hash": note.hash}
    assert note.frontmatter == {"n": 1} and note.body == "Hello\n"
    assert vault.find("n = 1").paths() == ["Inbox/New.md"]  # indexed before the call returned
    text = agent.error(agent.call(server, "create_note", {"path": "Inbox/New.md", "body": "Other"}))
    assert "Inbox/New.md" in text
    assert vault.get("Inbox/New.md").hash == note.hash


def test_update_modes(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    def update(**args: Any) -> dict[str, Any]:
        return dict(agent.ok(agent.call(server, "update_note", {"path": "Garden", **args})))

    before = (vault.root / "Projects/Garden.md").read_text()
    got = update(set={"status": "done", "rating": 4.5}, unset=["priority"])
    note = vault.get("Garden")
    assert got == {"path": "Projects/Garden.md", "hash": note.hash}
    assert note.frontmatter == {"title": "Garden", "status": "done", "tags": ["project"], "rating": 4.5}
    assert note.body == before.split("---\n", 2)[2]  # the body bytes are untouched

    update(mode="append", text="- [ ] Water", section="Tasks")
    assert [t.text for t in vault.get("Garden").tasks] == ["Order seeds", "Build beds", "Water"]
    update(mode="prepend", text="Top line")
    assert vault.get("Garden").body.startswith("Top line\n# Garden\n")
    update(mode="replace_section", section="## Log", text="Rewritten log.")
    body = vault.get("Garden").body
    assert body.endswith("## Log\nRewritten log.\n") and "Started in spring" not in body
    update(mode="replace", text="Just this.\n")
    assert vault.get("Garden").body == "Just this.\n"
    assert vault.get("Garden").frontmatter["status"] == "done"
    assert update(set={"status": "done"})["hash"] == vault.get("Garden").hash

    assert "mode and text" in agent.error(agent.call(server, "update_note", {"path": "Garden", "text": "x"}))
    text = agent.error(
        agent.call(server, "update_note", {"path": "Garden", "mode": "replace_section", "text": "x"})
    )
    assert "needs section" in text
    text = agent.error(
        agent.call(
            server,
            "update_note",
            {"path": "Garden", "mode": "replace_section", "section": "Gone", "text": "x"},
        )
    )
    assert "no heading 'Gone'" in text
    assert vault.get("Garden").body == "Just this.\n"


@pytest.mark.parametrize(
    "tool, args",
    [
        ("update_note", {"path": "Soil", "set": {"a": 1}}),
        ("update_note", {"path": "Soil", "mode": "append", "text": "more"}),
        ("update_note", {"path": "Soil", "mode": "replace_section", "section": "Soil", "text": "x"}),
        ("move_note", {"src": "Soil", "dst": "Archive/Soil.md"}),
        ("delete_note", {"path": "Soil"}),
    ],
)
def test_a_stale_hash_is_a_conflict_and_changes_nothing(
    server: Any, agent: Any, vault: mdstore.Vault, tool: str, args: dict[str, Any]
) -> None:
    read = agent.ok(agent.call(server, "read_note", {"path": "Soil"}))
    (vault.root / "Soil.md").write_text("# Soil\n\nAn edit the agent has not seen.\n")  # the user's editor
    text = agent.error(agent.call(server, tool, {**args, "if_hash": read["hash"]}))
    assert "Soil.md" in text and "changed" in text
    assert (vault.root / "Soil.md").read_text() == "# Soil\n\nAn edit the agent has not seen.\n"
    assert not (vault.root / "Archive").exists() and not (vault.root / ".trash").exists()
    fresh = agent.ok(agent.call(server, "read_note", {"path": "Soil"}))
    agent.ok(agent.call(server, tool, {**args, "if_hash": fresh["hash"]}))


def test_move_rewrites_links_and_delete_goes_to_trash(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    got = agent.ok(agent.call(server, "move_note", {"src": "Soil", "dst": "Notes/Ground.md"}))
    assert got["moved"] == [["Soil.md", "Notes/Ground.md"]] and got["rewritten"] == ["Projects/Garden.md"]
    assert "[[Ground]]" in vault.get("Garden").body
    assert vault.backlinks("Notes/Ground.md").column("source") == ["Projects/Garden.md"]
    assert "WriteConflict" not in agent.error(
        agent.call(server, "move_note", {"src": "Garden", "dst": "Projects/Website.md"})
    )
    assert vault.get("Projects/Website.md").title == "Website"

    agent.ok(agent.call(server, "delete_note", {"path": "Ground"}))
    assert not (vault.root / "Notes/Ground.md").exists()
    assert (vault.root / ".trash/Notes/Ground.md").read_text().startswith("# Soil")
    assert "Notes/Ground.md" not in vault.find().paths()
    assert "no note" in agent.error(agent.call(server, "delete_note", {"path": "Ground"}))


OUTSIDE = ["../outside.md", "/etc/passwd", "Inbox/../../outside.md", ".mdstore/index.duckdb", ".git/config"]


@pytest.mark.parametrize("path", OUTSIDE)
def test_paths_cannot_leave_the_vault(server: Any, agent: Any, vault: mdstore.Vault, path: str) -> None:
    parent = vault.root.parent
    (parent / "outside.md").write_text("secret\n")
    calls = [
        ("read_note", {"path": path}),
        ("create_note", {"path": path, "body": "x"}),
        ("update_note", {"path": path, "set": {"a": 1}}),
        ("move_note", {"src": "Soil", "dst": path}),
        ("move_note", {"src": path, "dst": "Inside.md"}),
        ("delete_note", {"path": path}),
        ("links", {"path": path}),
        ("tasks", {"path": path}),
    ]
    for tool, args in calls:
        text = agent.error(agent.call(server, tool, args))
        assert "secret" not in text, (tool, text)
    assert (parent / "outside.md").read_text() == "secret\n"
    assert sorted(p.name for p in parent.iterdir()) == ["outside.md", "vault"]
    assert (vault.root / "Soil.md").exists() and not (vault.root / "Inside.md").exists()


def test_a_symlink_out_of_the_vault_is_refused(
    server: Any, agent: Any, vault: mdstore.Vault, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "Secret.md").write_text("secret\n")
    os.symlink(outside, vault.root / "Link")
    assert "secret" not in agent.error(agent.call(server, "read_note", {"path": "Link/Secret.md"}))
    agent.error(agent.call(server, "create_note", {"path": "Link/New.md", "body": "x"}))
    assert sorted(p.name for p in outside.iterdir()) == ["Secret.md"]
