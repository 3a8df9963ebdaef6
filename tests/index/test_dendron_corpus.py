"""The real Dendron vault (../shared/corpora/dendron-site): indexed counts, links, tags and frontmatter
values checked against the files themselves."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

import mdstore
from tests.conftest import DENDRON

pytestmark = pytest.mark.skipif(not DENDRON.is_dir(), reason="../shared/corpora/dendron-site is not present")

WIKILINK = re.compile(r"!?\[\[([^\]]+)\]\]")


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> mdstore.Vault:
    root = tmp_path_factory.mktemp("dendron") / "vault"
    shutil.copytree(DENDRON, root)
    (root / "mdstore.toml").write_text('[vault]\nlink_style = "dendron"\n')
    v = mdstore.open(root)
    report = v.sync()
    assert report.errors == (), report.errors[:3]
    yield v
    v.close()


def frontmatter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])


def test_every_note_is_indexed(vault):
    files = sorted(p.relative_to(DENDRON).as_posix() for p in DENDRON.rglob("*.md"))
    assert vault.sql("SELECT count(*) AS n FROM notes").first()["n"] == len(files) == 1012
    assert sorted(vault.find().paths()) == files


def test_frontmatter_values_match_the_files(vault):
    sample = sorted(DENDRON.glob("*.md"))[::37]
    for path in sample:
        fm = frontmatter(path)
        row = vault.find(where={"id": fm["id"]}).to_dicts()
        assert [r["path"] for r in row] == [path.name], path
        assert row[0]["title"] == str(fm["title"])
        created = vault.sql("SELECT v_num FROM properties WHERE path = ? AND key = 'created'", [path.name]).first()
        assert created["v_num"] == fm["created"]


def test_links_match_the_files(vault):
    checked = 0
    for path in sorted(DENDRON.glob("*.md"))[::11]:
        text = path.read_text(encoding="utf-8")
        if "`" in text or "<!--" in text:
            continue  # code and HTML may hold decoys the regex cannot tell apart
        expected = len(WIKILINK.findall(text.split("---", 2)[2]))
        got = vault.sql(
            "SELECT count(*) AS n FROM links WHERE path = ? AND kind IN ('wikilink', 'embed')", [path.name]
        ).first()["n"]
        assert got == expected, path.name
        checked += 1
    assert checked > 20


def test_dendron_links_resolve(vault):
    total = vault.sql("SELECT count(*) AS n FROM links WHERE kind IN ('wikilink', 'embed')").first()["n"]
    broken = vault.sql("SELECT count(*) AS n FROM broken_links WHERE kind IN ('wikilink', 'embed')").first()["n"]
    assert total > 2000
    assert broken / total < 0.1
    # Known links: a cross-vault [[alias|dendron://vault/name]] and a link out of the vault.
    targets = {(r["target"], r["resolved"]) for r in vault.outlinks("changelog.md")}
    assert ("dendron.ref.commands", "dendron.ref.commands.md") in targets
    assert [r["resolved"] for r in vault.outlinks("root.md")] == [None]  # ../dendron.yml is outside


def test_tags_match_frontmatter_tags(vault):
    tagged = [p for p in sorted(DENDRON.glob("*.md")) if frontmatter(p).get("tags")]
    assert tagged
    for path in tagged[:20]:
        raw = frontmatter(path)["tags"]
        raw = raw if isinstance(raw, list) else re.split(r"[,\s]+", str(raw))
        indexed = set(vault.sql("SELECT tag FROM tags WHERE path = ?", [path.name]).column("tag"))
        assert {str(t).lstrip("#").lower() for t in raw if str(t).strip()} <= indexed, path.name
