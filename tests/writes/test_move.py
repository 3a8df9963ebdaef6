"""move(): files and folders, every link kept pointing at the moved notes, in its own style."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mdstore.errors import InvalidPath, WriteConflict
from tests.conftest import cli_run

TESTS = Path(__file__).resolve().parents[1]
DENDRON = TESTS.parent.parent / "shared" / "corpora" / "dendron-site"


def test_move_rewrites_every_style(make_vault):
    v = make_vault({
        "target.md": "# T\n\n## Sec\n\npara ^blk\n",
        "ref.md": (
            "---\nrelated: \"[[target]]\"\n---\n"
            "[[target]] [[target|alias]] [[target#Sec]] [[target#^blk|b]] ![[target]]\n"
            "[md](target.md) [md2](./target.md#Sec) `[[target]]`\n\n| c | [[target\\|t]] |\n|---|---|\n"
        ),
        "sub/deep.md": "[up](../target.md) [[/target]] [[./../target]]\n",
    })
    v.sync()
    report = v.move("target.md", "archive/2026/renamed.md")
    assert report.moved == (("target.md", "archive/2026/renamed.md"),)
    assert (v.root / "ref.md").read_text() == (
        "---\nrelated: \"[[renamed]]\"\n---\n"
        "[[renamed]] [[renamed|alias]] [[renamed#Sec]] [[renamed#^blk|b]] ![[renamed]]\n"
        "[md](archive/2026/renamed.md) [md2](archive/2026/renamed.md#Sec) `[[target]]`\n\n"
        "| c | [[renamed\\|t]] |\n|---|---|\n"
    )
    assert (v.root / "sub/deep.md").read_text() == (
        "[up](../archive/2026/renamed.md) [[/archive/2026/renamed]] [[../archive/2026/renamed]]\n"
    )
    assert v.broken_links().rows == []
    assert {r["source"] for r in v.backlinks("archive/2026/renamed.md")} == {"ref.md", "sub/deep.md"}


def test_reference_style_links_are_rewritten_at_their_definition(make_vault):
    v = make_vault({
        "target.md": "# T\n",
        "ref.md": (
            "See [the target][t], [again][T] and ![pic][p].\n\n"
            "[t]: target.md#Sec \"Title\"\n"
            "> [p]: <./target.md>\n\n"
            "```\n[t]: target.md\n```\n"
            "[unused]: elsewhere.md\n"
        ),
    })
    v.sync()
    broken = len(v.broken_links())
    report = v.move("target.md", "archive/new name.md")
    assert report.rewritten == ("ref.md",) and report.links == 2
    assert (v.root / "ref.md").read_text() == (
        "See [the target][t], [again][T] and ![pic][p].\n\n"
        "[t]: archive/new%20name.md#Sec \"Title\"\n"
        "> [p]: <archive/new name.md>\n\n"
        "```\n[t]: target.md\n```\n"  # code is not a definition
        "[unused]: elsewhere.md\n"
    )
    assert len(v.broken_links()) == broken
    assert {r["source"] for r in v.backlinks("archive/new name.md")} == {"ref.md"}


def test_ambiguous_name_becomes_a_path(make_vault):
    v = make_vault({"a.md": "[[x]]\n", "x.md": "x\n", "other/y.md": "y\n"})
    v.sync()
    v.move("x.md", "deep/er/y.md")  # a root y.md? no: other/y.md is shallower, so [[y]] would miss
    assert (v.root / "a.md").read_text() == "[[deep/er/y]]\n"
    assert v.broken_links().rows == []


def test_captured_links_keep_their_target(make_vault):
    v = make_vault({"a.md": "[[n]]\n", "f/n.md": "deep n\n", "g/m.md": "m\n"})
    v.sync()
    v.move("g/m.md", "n.md")  # the moved note now owns the name "n"
    assert (v.root / "a.md").read_text() == "[[f/n]]\n"


def test_folder_move_and_relative_links_inside(make_vault):
    v = make_vault({
        "proj/a.md": "[b](b.md) [[b]] ![img](img/p%20q.png)\n",
        "proj/b.md": "[root](../root.md)\n",
        "proj/img/p q.png": b"\x89PNG",
        "root.md": "[[proj/a]] [a](proj/a.md)\n",
    })
    v.sync()
    report = v.move("proj", "archive/proj2")
    assert len(report.moved) == 3 and not (v.root / "proj").exists()
    assert (v.root / "root.md").read_text() == "[[archive/proj2/a]] [a](archive/proj2/a.md)\n"
    assert (v.root / "archive/proj2/b.md").read_text() == "[root](../../root.md)\n"
    assert (v.root / "archive/proj2/a.md").read_text() == "[b](b.md) [[b]] ![img](img/p%20q.png)\n"
    assert v.broken_links().rows == []
    assert sorted(v.find().column("path")) == ["archive/proj2/a.md", "archive/proj2/b.md", "root.md"]


def test_folder_move_takes_its_empty_subfolders_along(make_vault):
    v = make_vault({"Projects/a.md": "[[b]]\n", "Projects/Sub/b.md": "b\n", "templates/t.md": "t\n"})
    for empty in ("Projects/Sub Folder", "Projects/Sub/deeper/deepest", "Projects/Sub/none"):
        (v.root / empty).mkdir(parents=True)
    v.sync()
    report = v.move("Projects", "templates")  # an existing folder: Projects goes inside it
    assert len(report.moved) == 2 and not (v.root / "Projects").exists()
    moved = v.root / "templates/Projects"
    assert sorted(p.relative_to(moved).as_posix() for p in moved.rglob("*")) == [
        "Sub", "Sub Folder", "Sub/b.md", "Sub/deeper", "Sub/deeper/deepest", "Sub/none", "a.md"
    ]
    (v.root / "Other/Empty").mkdir(parents=True)
    (v.root / "Other/x.md").write_text("x\n")
    assert cli_run("mv", "Other", "Moved", vault=v.root).exit_code == 0
    assert (v.root / "Moved/Empty").is_dir() and not (v.root / "Other").exists()


def test_a_case_only_rename_renames_the_note_and_its_links(make_vault):
    v = make_vault({
        "Home.md": "# Home\n",
        "ref.md": "[[Home]] [h](Home.md) [[Home.md|alias]]\n",
        "Sub/Inbox.md": "inbox\n",
        "other.md": "o\n",
    })
    v.sync()
    result = cli_run("mv", "Home.md", "home.md", "--json", vault=v.root)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in v.root.iterdir() if p.is_file()) == ["home.md", "other.md", "ref.md"]
    assert (v.root / "home.md").read_text() == "# Home\n"
    assert (v.root / "ref.md").read_text() == "[[home]] [h](home.md) [[home.md|alias]]\n"
    assert v.find().paths() == sorted(v.find().paths()) and "home.md" in v.find().paths()
    assert not (v.root / ".mdstore/journal").exists() or not any((v.root / ".mdstore/journal").iterdir())
    report = v.move("Sub/Inbox.md", "Sub/INBOX")
    assert report.moved == (("Sub/Inbox.md", "Sub/INBOX.md"),)
    assert [p.name for p in (v.root / "Sub").iterdir()] == ["INBOX.md"]
    with pytest.raises(InvalidPath, match="differs only in case"):
        v.move("other.md", "HOME.md")  # another note's name in other case is still refused
    with pytest.raises(InvalidPath, match="differs only in case"):
        v.move("Sub/INBOX.md", "sub/inbox.md")  # the folder is not renamed by a note's move
    with pytest.raises(InvalidPath, match="differs only in case"):
        v.move("Sub", "sub")  # a folder renamed only in case: not supported
    assert (v.root / "other.md").exists() and (v.root / "Sub/INBOX.md").exists()


def test_move_into_existing_folder_and_never_over(make_vault):
    v = make_vault({"a.md": "a\n", "b.md": "b\n", "box/keep.md": "k\n"})
    v.sync()
    v.move("a.md", "box")
    assert (v.root / "box/a.md").read_text() == "a\n"
    with pytest.raises(WriteConflict):
        v.move("b.md", "box/keep.md")
    assert (v.root / "b.md").exists()


def test_move_without_link_updates(make_vault):
    v = make_vault({"a.md": "[[b]]\n", "b.md": "b\n"})
    v.sync()
    v.move("b.md", "c.md", update_links=False)
    assert (v.root / "a.md").read_text() == "[[b]]\n"
    assert len(v.broken_links()) == 1


@pytest.mark.skipif(not DENDRON.is_dir(), reason="dendron-site corpus not present")
def test_dendron_move_rewrites_every_link(tmp_path):
    import mdstore

    root = tmp_path / "dendron"
    shutil.copytree(DENDRON, root, ignore=shutil.ignore_patterns(".mdstore", ".git"))
    (root / "mdstore.toml").write_text('[vault]\nlink_style = "dendron"\n[search]\nengine = "none"\n')
    with mdstore.open(root, index={"parse_workers": 1}) as v:
        v.sync()
        broken = len(v.broken_links())
        hub = v.sql(
            "SELECT target FROM backlinks WHERE source <> target GROUP BY target ORDER BY count(*) DESC LIMIT 1"
        ).first()["target"]
        sources = {r["source"] for r in v.backlinks(hub)}
        new = "moved." + hub.rpartition("/")[2]
        report = v.move(hub, new)
        assert set(report.rewritten) >= sources - {hub}
        assert {r["source"] for r in v.backlinks(new)} >= sources - {hub}
        assert len(v.backlinks(new)) >= len(sources - {hub})
        assert len(v.broken_links()) <= broken
