"""The synthetic vault generator (benchmarks/genvault.py) and the edit helpers (benchmarks/edit.py)."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import edit  # noqa: E402
import genvault  # noqa: E402


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _frontmatter(text: str) -> object:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "no YAML frontmatter"
    return yaml.safe_load(match.group(1))


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, genvault.GenStats, dict]:
    out = tmp_path_factory.mktemp("gen") / "vault"
    stats = genvault.generate(out, notes=50, seed=7)
    return out, stats, json.loads(Path(stats.manifest).read_text("utf-8"))


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = genvault.generate(tmp_path / "a", notes=50, seed=42)
    second = genvault.generate(tmp_path / "b", notes=50, seed=42)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert Path(first.manifest).read_bytes() == Path(second.manifest).read_bytes()
    other = genvault.generate(tmp_path / "c", notes=50, seed=43)
    assert _tree(tmp_path / "c") != _tree(tmp_path / "a")
    assert other.notes == 50


def test_counts_match_the_request_and_the_manifest(vault: tuple[Path, genvault.GenStats, dict]) -> None:
    root, stats, manifest = vault
    notes = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md"))
    pngs = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert len(notes) == stats.notes == 50
    assert notes == [n["path"] for n in manifest["notes"]]
    assert pngs == manifest["attachments"] and len(pngs) == stats.attachments
    assert not (root / Path(stats.manifest).name).exists()  # the manifest is not part of the vault
    assert stats.wikilinks == sum(n["wikilinks"] for n in manifest["notes"])
    assert stats.markdown_links == 50  # one per note
    assert 50 * 2 <= stats.wikilinks <= 50 * 8
    assert stats.tasks == sum(n["tasks"] for n in manifest["notes"])


def test_notes_are_utf8_with_mapping_frontmatter(vault: tuple[Path, genvault.GenStats, dict]) -> None:
    root, _, manifest = vault
    for entry in manifest["notes"]:
        text = (root / entry["path"]).read_bytes().decode("utf-8")
        meta = _frontmatter(text)
        assert isinstance(meta, dict), entry["path"]
        if "title" in meta:
            assert meta["title"] == entry["title"]
        if "tags" in meta and isinstance(meta["tags"], list):
            assert {str(t).lower() for t in meta["tags"]} <= set(entry["tags"])


def test_manifest_links_resolve_and_match_the_text(vault: tuple[Path, genvault.GenStats, dict]) -> None:
    root, _, manifest = vault
    for entry in manifest["notes"]:
        text = (root / entry["path"]).read_text("utf-8")
        outside_code = re.sub(r"(```|~~~).*?\1", "", text, flags=re.S)
        assert len(re.findall(r"(?<!!)\[\[", outside_code)) == entry["wikilinks"]
        assert len(re.findall(r"!\[\[", outside_code)) == entry["embeds"]
        for kind, target, _anchor, _alias, resolved in entry["links"]:
            if resolved is not None:
                assert (root / resolved).is_file(), (entry["path"], target)
            elif kind == "wikilink":
                assert not list(root.rglob(f"{target}.md"))
        for tag in entry["tags"]:
            assert not tag.isdigit() and tag == tag.lower()


def test_ten_percent_scale_is_fast_and_has_broken_links(tmp_path: Path) -> None:
    stats = genvault.generate(tmp_path / "v", notes=1000, seed=1)
    assert 0 < stats.broken_links < stats.wikilinks * 0.05
    assert stats.seconds < 10


def test_edits_are_deterministic_and_touch_one_note(tmp_path: Path) -> None:
    for name in ("a", "b"):
        genvault.generate(tmp_path / name, notes=30, seed=3)
    before = _tree(tmp_path / "a")
    edits_a = edit.make_edits(tmp_path / "a", count=10, seed=5, mode="atomic")
    edits_b = edit.make_edits(tmp_path / "b", count=10, seed=5, mode="inplace")
    assert [(e.path.name, e.kind, e.detail) for e in edits_a] == [
        (e.path.name, e.kind, e.detail) for e in edits_b
    ]
    after = _tree(tmp_path / "a")
    assert after == _tree(tmp_path / "b")
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {e.path.relative_to(tmp_path / "a").as_posix() for e in edits_a}
    for rel in changed:
        assert isinstance(_frontmatter(after[rel].decode("utf-8")), dict)


def test_frontmatter_edit_changes_one_line(tmp_path: Path) -> None:
    note = tmp_path / "n.md"
    note.write_bytes(b"---\r\ntitle: x\r\nstatus: draft # keep\r\npriority: 2\r\n---\r\nbody\r\n")
    detail = edit.set_frontmatter_value(note, random.Random(0))
    lines_before = b"---\r\ntitle: x\r\nstatus: draft # keep\r\npriority: 2\r\n---\r\nbody\r\n".split(b"\r\n")
    lines_after = note.read_bytes().split(b"\r\n")
    assert len(lines_after) == len(lines_before)
    assert sum(a != b for a, b in zip(lines_before, lines_after, strict=True)) == 1
    assert "->" in detail
    assert b" # keep" in note.read_bytes() or not detail.startswith("status")
