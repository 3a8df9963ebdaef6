"""Vault.sync: incremental changes, moves, deletes, and the rules that keep notes safe."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import dump_index

NOTE_A = """---
title: Alpha
status: active
priority: 2
due: 2026-12-01
tags: [project, area/work]
aliases: [First]
---
# Alpha heading

Links to [[Beta]] and [[Gamma#Section]] and ![[pic.png]].

- [ ] open task [due:: 2026-11-30]
- [x] done task
"""

NOTE_B = """---
status: done
---
# Beta

Back to [[Alpha]] and to [[First|via alias]]. #inline/tag
"""


def bump(path: Path) -> None:
    """Change a file's mtime so the scan notices even on coarse timestamps."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_first_sync_indexes_notes_and_attachments(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A, "sub/Beta.md": NOTE_B, "pic.png": b"\x89PNG"})
    report = vault.sync()
    assert sorted(report.added) == ["Alpha.md", "sub/Beta.md"]
    assert report.errors == ()
    assert vault.sql("SELECT count(*) AS n FROM attachments").first() == {"n": 1}
    links = {r["target"]: r["resolved"] for r in vault.outlinks("Alpha.md")}
    assert links == {"Beta": "sub/Beta.md", "Gamma": None, "pic.png": "pic.png"}
    assert [r["source"] for r in vault.backlinks("Alpha.md")] == ["sub/Beta.md", "sub/Beta.md"]


def test_noop_sync_changes_nothing(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A, "sub/Beta.md": NOTE_B})
    vault.sync()
    before = dump_index(vault)
    report = vault.sync()
    assert report.changed_count == 0
    assert dump_index(vault) == before


def test_edit_is_picked_up(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A})
    vault.sync()
    path = vault.root / "Alpha.md"
    path.write_text(NOTE_A.replace("status: active", "status: paused"))
    bump(path)
    report = vault.sync()
    assert report.changed == ("Alpha.md",)
    assert vault.find("status = paused").paths() == ["Alpha.md"]
    assert vault.find("status = active").paths() == []


def test_touch_without_change_is_not_a_change(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A})
    vault.sync()
    bump(vault.root / "Alpha.md")
    report = vault.sync()
    assert report.changed_count == 0
    mtime = vault.sql("SELECT mtime FROM notes").first()["mtime"]
    assert mtime == (vault.root / "Alpha.md").stat().st_mtime


def test_rename_is_a_move_and_links_follow_resolution(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A, "sub/Beta.md": NOTE_B})
    vault.sync()
    os.rename(vault.root / "sub" / "Beta.md", vault.root / "Beta.md")
    report = vault.sync()
    assert report.moved == (("sub/Beta.md", "Beta.md"),)
    assert report.added == () and report.deleted == ()
    links = {r["target"]: r["resolved"] for r in vault.outlinks("Alpha.md")}
    assert links["Beta"] == "Beta.md"


def test_new_note_resolves_previously_broken_links(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A})
    vault.sync()
    assert {r["target"] for r in vault.broken_links()} >= {"Gamma", "Beta"}
    (vault.root / "Gamma.md").write_text("# Gamma\n\n## Section\n")
    vault.sync()
    links = {r["target"]: r["resolved"] for r in vault.outlinks("Alpha.md")}
    assert links["Gamma"] == "Gamma.md"
    os.remove(vault.root / "Gamma.md")
    report = vault.sync()
    assert report.deleted == ("Gamma.md",)
    assert {r["target"]: r["resolved"] for r in vault.outlinks("Alpha.md")}["Gamma"] is None


def test_alias_change_re_resolves_links(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A, "sub/Beta.md": NOTE_B})
    vault.sync()
    by_target = {r["target"]: r["resolved"] for r in vault.outlinks("sub/Beta.md")}
    assert by_target["First"] == "Alpha.md"
    path = vault.root / "Alpha.md"
    path.write_text(NOTE_A.replace("aliases: [First]", "aliases: [Premier]"))
    bump(path)
    vault.sync()
    assert {r["target"]: r["resolved"] for r in vault.outlinks("sub/Beta.md")}["First"] is None


def test_targeted_sync_of_paths(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A, "sub/Beta.md": NOTE_B})
    vault.sync()
    (vault.root / "New.md").write_text("# New\n")
    os.remove(vault.root / "sub" / "Beta.md")
    report = vault.sync(paths=["New.md"])
    assert report.added == ("New.md",)
    assert report.deleted == ()  # not named, not checked
    report = vault.sync(paths=["sub/Beta.md"])
    assert report.deleted == ("sub/Beta.md",)


def test_rebuild_equals_incremental(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A, "sub/Beta.md": NOTE_B, "pic.png": b"x"})
    vault.sync()
    (vault.root / "Gamma.md").write_text("# Gamma\n[[Alpha]]\n")
    os.rename(vault.root / "sub" / "Beta.md", vault.root / "B2.md")
    vault.sync()
    incremental = dump_index(vault)
    vault.sync(rebuild=True)
    assert dump_index(vault) == incremental


def test_ignored_folders_and_temp_files(make_vault):
    vault = make_vault(
        {
            "Alpha.md": NOTE_A,
            ".obsidian/workspace.md": "x",
            ".git/notes.md": "x",
            ".trash/old.md": "x",
            "node_modules/pkg/readme.md": "x",
            ".Alpha.md.swp": "x",
            "Alpha.md~": "x",
            "drafts/secret.md": "x",
            ".mdstoreignore": "drafts/\n",
        }
    )
    report = vault.sync()
    assert report.added == ("Alpha.md",)


def test_index_is_rebuilt_on_schema_mismatch(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A})
    vault.sync()
    from mdstore.index.store import store_for

    store = store_for(vault.config.state_dir, 5)
    with store.write() as con:
        con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    vault.close()
    import mdstore

    fresh = mdstore.open(vault.root)
    assert fresh.find().paths() == ["Alpha.md"]
    assert fresh.sql("SELECT value FROM meta WHERE key = 'schema_version'").first()["value"] != "0"
    fresh.close()


def test_sync_report_seconds_and_generation(make_vault):
    vault = make_vault({"Alpha.md": NOTE_A})
    t0 = time.perf_counter()
    report = vault.sync()
    assert 0 <= report.seconds <= time.perf_counter() - t0 + 0.01
    g1 = int(vault.status()["generation"])
    vault.sync()
    assert int(vault.status()["generation"]) == g1, "a no-op sync writes nothing"
    (vault.root / "New.md").write_text("# new\n")
    vault.sync()
    assert int(vault.status()["generation"]) == g1 + 1


def test_edits_that_change_some_tables_give_the_rebuilt_index(make_vault):
    """Re-indexing an edited note rewrites only the per-note tables whose rows changed
    (notes.digests); every kind of edit must still end in exactly the rebuilt index."""
    vault = make_vault(
        {
            "Alpha.md": "---\naliases: [First]\ntags: [a]\nstatus: x\n---\n# Alpha\n[[Beta]] [[Self]] #inline\n- [ ] task\n",
            "Beta.md": "# Beta\nSee [[First]] and [[Alpha#Alpha]] and [[Third]].\n",
        }
    )
    vault.sync()
    steps = [
        {"set": {"status": "y"}},  # properties only
        {"set": {"tags": ["a", "b"]}},  # properties and tags
        {"set": {"aliases": ["Third", "Self"]}},  # aliases: links elsewhere and its own re-resolve
        {"body": "# Alpha renamed\n[[Beta]] [[Self]] #inline\n- [x] task\n"},  # headings and tasks
        {"body": "# Alpha renamed\nno links now ^blk\n"},  # links, tags, tasks and blocks go
        {"unset": ["aliases"]},
    ]
    for step in steps:
        vault.update("Alpha.md", **step)
        incremental = dump_index(vault)
        vault.sync(rebuild=True)
        assert dump_index(vault) == incremental, step
    resolved = {r["target"]: r["resolved"] for r in vault.outlinks("Beta.md")}
    assert resolved == {"First": None, "Alpha": "Alpha.md", "Third": None}
