"""Every read tool on a real vault, checked against the Vault API; paging and trimming."""

from __future__ import annotations

import subprocess
from typing import Any

import mdstore


def test_search_and_find(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    got = agent.ok(agent.call(server, "search", {"query": "tomatoes", "limit": 1}))
    assert got["total"] == vault.search("tomatoes").total == 2
    assert got["rows"][0]["path"] == vault.search("tomatoes").hits[0].path
    assert got["rows"][0]["snippets"] and got["next_offset"] == 1
    filtered = agent.ok(agent.call(server, "search", {"query": "tomatoes", "folder": "Inbox"}))
    assert [r["path"] for r in filtered["rows"]] == ["Inbox/Idea.md"]

    got = agent.ok(agent.call(server, "find", {"filters": ["priority >= 1"], "sort": "-priority"}))
    assert [r["path"] for r in got["rows"]] == ["Projects/Garden.md", "Projects/Website.md"]
    assert got["rows"][0]["frontmatter"]["status"] == "active"
    page = agent.ok(agent.call(server, "find", {"sort": "path", "limit": 2, "offset": 1}))
    assert [r["path"] for r in page["rows"]] == vault.find(sort="path").paths()[1:3]
    assert page["next_offset"] == 3
    text = agent.error(agent.call(server, "find", {"sort": "-"}))
    assert "sort" in text


def test_read_note_by_name_with_a_section_and_paging(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    got = agent.ok(agent.call(server, "read_note", {"path": "Garden"}))
    note = vault.get("Projects/Garden.md")
    assert got["path"] == note.path and got["hash"] == note.hash
    assert got["content"] == note.body and got["next_offset"] is None
    assert got["frontmatter"]["priority"] == 2 and "## Tasks" in got["headings"]
    section = agent.ok(agent.call(server, "read_note", {"path": "Garden", "section": "Tasks"}))
    assert section["content"] == "- [ ] Order seeds\n- [x] Build beds\n\n"
    first = agent.ok(agent.call(server, "read_note", {"path": "Garden", "max_chars": 10}))
    assert first["content"].startswith(note.body[:10])
    assert "[... truncated:" in first["content"] and first["next_offset"] == 10
    rest = agent.ok(agent.call(server, "read_note", {"path": "Garden", "offset": 10}))
    assert note.body[:10] + rest["content"] == note.body
    assert "no heading 'Nope'" in agent.error(
        agent.call(server, "read_note", {"path": "Garden", "section": "Nope"})
    )
    assert "no note" in agent.error(agent.call(server, "read_note", {"path": "Missing"}))


def test_a_long_body_is_trimmed_not_sent_whole(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    vault.create("Big.md", body="word " * 400_000)  # 2 MB
    got = agent.ok(agent.call(server, "read_note", {"path": "Big"}))
    assert len(got["content"]) < 21_000 and got["next_offset"] == 20_000
    assert got["length"] == 2_000_000


def test_list_notes_links_tags_tasks_recent(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    root = agent.ok(agent.call(server, "list_notes", {}))
    assert [r["path"] for r in root["rows"]] == ["Soil.md"]
    assert root["folders"] == [{"path": "Inbox", "notes": 1}, {"path": "Projects", "notes": 2}]
    projects = agent.ok(agent.call(server, "list_notes", {"folder": "Projects/"}))
    assert [r["path"] for r in projects["rows"]] == ["Projects/Garden.md", "Projects/Website.md"]
    assert projects["folders"] == []

    back = agent.ok(agent.call(server, "links", {"path": "Garden"}))
    assert [r["source"] for r in back["rows"]] == vault.backlinks("Garden").column("source")
    out = agent.ok(agent.call(server, "links", {"path": "Garden", "kind": "outlinks"}))
    assert out["rows"][0]["resolved"] == "Soil.md"
    related = agent.ok(agent.call(server, "links", {"path": "Soil", "kind": "related", "limit": 1}))
    assert [r["path"] for r in related["rows"]] == vault.related("Soil", k=1).paths()

    tags = agent.ok(agent.call(server, "tags", {}))
    assert {r["tag"] for r in tags["rows"]} == set(vault.tags().column("tag"))
    tasks = agent.ok(agent.call(server, "tasks", {"done": False}))
    assert [r["text"] for r in tasks["rows"]] == ["Order seeds"]
    recent = agent.ok(agent.call(server, "recent_changes", {"days": 1}))
    assert len(recent["rows"]) == 4


def test_index_reads_see_edits_made_outside(vault: mdstore.Vault, agent: Any) -> None:
    from mdstore.mcp import build_server

    server = build_server(vault)
    (vault.root / "Later.md").write_text("Zucchini everywhere\n")  # an editor's save, not synced
    assert vault.search("zucchini").total == 0
    assert agent.ok(agent.call(server, "search", {"query": "zucchini"}))["total"] == 1


def test_sql_is_read_only_and_paged(server: Any, agent: Any) -> None:
    got = agent.ok(agent.call(server, "sql", {"query": "SELECT path FROM notes ORDER BY path", "limit": 2}))
    assert got["columns"] == ["path"] and got["total"] == 4 and got["next_offset"] == 2
    got = agent.ok(
        agent.call(
            server, "sql", {"query": "SELECT count(*) AS n FROM tags WHERE tag = ?", "params": ["idea"]}
        )
    )
    assert got["rows"] == [{"n": 1}]
    assert "read-only" in agent.error(agent.call(server, "sql", {"query": "DELETE FROM notes"}))


def test_huge_rows_are_cut_and_paged(server: Any, agent: Any) -> None:
    huge = agent.ok(agent.call(server, "sql", {"query": "SELECT repeat('x', 3000000) AS big"}))
    assert len(huge["rows"][0]["big"]) < 21_000 and huge["rows"][0]["big"].endswith("more characters]")
    query = "SELECT path, repeat('y', 15000) AS pad FROM notes ORDER BY path"
    got = agent.ok(agent.call(server, "sql", {"query": query, "limit": 10}))
    assert len(got["rows"]) == 3 and got["next_offset"] == 3 and "offset=3" in got["truncated"]
    rest = agent.ok(agent.call(server, "sql", {"query": query, "offset": 3}))
    assert [r["path"] for r in rest["rows"]] == ["Soil.md"] and rest["next_offset"] is None


def test_history_and_diff_of_a_git_vault(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    assert "not a git repository" in agent.error(agent.call(server, "history", {"path": "Soil"}))
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=vault.root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=vault.root, check=True)
    subprocess.run([*git, "commit", "-qm", "first"], cwd=vault.root, check=True)
    (vault.root / "Soil.md").write_text("# Soil\n\nClay now.\n")
    got = agent.ok(agent.call(server, "history", {"path": "Soil"}))
    assert [r["subject"] for r in got["rows"]] == ["first"]
    diff = agent.ok(agent.call(server, "history", {"path": "Soil", "mode": "diff"}))
    assert "+Clay now." in diff["content"]


def test_status(server: Any, agent: Any, vault: mdstore.Vault) -> None:
    got = agent.ok(agent.call(server, "status", {}))
    assert got["notes"] == vault.status()["notes"] == 4


def test_recent_changes_days_is_bounded(server: Any, agent: Any) -> None:
    """days=100000000 raised OverflowError: the client saw only "Error executing tool"."""
    message = agent.error(agent.call(server, "recent_changes", {"days": 100_000_000}))
    assert "days" in message and "36600" in message
    assert len(agent.ok(agent.call(server, "recent_changes", {"days": 36_600}))["rows"]) == 4
