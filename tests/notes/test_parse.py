"""parse_note end to end: bad bytes, line endings, frontmatter fallbacks, real and synthetic vaults."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import sys
from pathlib import Path

import pytest

from mdstore.notes.links import LinkResolver
from mdstore.notes.model import content_hash
from mdstore.notes.parse import parse_issue, parse_note

ROOT = Path(__file__).resolve().parents[2]
DENDRON = ROOT.parent / "shared" / "corpora" / "dendron-site"

NOTE = b"""---
title: Front Title
aliases: [One, Two]
tags: [Alpha, "#beta"]
related: "[[Other Note]]"
nested:
  see: ["[[Deep|d]]"]
---
# H1 Title

Text #gamma and #alpha [[Link]].

- [ ] task [due:: 2024-05-01]
"""


def test_a_full_note() -> None:
    note = parse_note("folder/My Note.md", NOTE, mtime=12.5)
    assert note.path == "folder/My Note.md"
    assert note.title == "Front Title"
    assert note.aliases == ("One", "Two")
    assert note.tags == ("alpha", "beta", "gamma")
    assert note.frontmatter_format == "yaml"
    assert note.hash == content_hash(NOTE)
    assert note.size == len(NOTE)
    assert note.mtime == 12.5
    assert note.error is None
    assert [(link.target, link.alias, link.line) for link in note.links] == [
        ("Other Note", None, 5),
        ("Deep", "d", 6),
        ("Link", None, 11),
    ]
    assert [(h.text, h.line) for h in note.headings] == [("H1 Title", 9)]
    assert note.tasks[0].line == 13 and note.tasks[0].section == "H1 Title"
    assert note.fields[0].value == dt.date(2024, 5, 1)
    assert note.body.startswith("# H1 Title")
    assert parse_issue(note) is None


def test_title_falls_back_to_h1_then_file_name() -> None:
    assert parse_note("a/x.md", b"## not h1\n# The H1\n").title == "The H1"
    assert parse_note("a/my.dotted.name.md", b"no heading").title == "my.dotted.name"
    assert parse_note("a/x.md", b"---\ntitle: 2024\n---\n").title == "2024"
    assert parse_note("a/x.md", b"---\ntitle: ''\n---\n# H\n").title == "H"


def test_tags_and_aliases_as_strings() -> None:
    note = parse_note("x.md", b"---\ntag: 'one, #Two three'\nalias: Smith, John\n---\n#four #one\n")
    assert note.tags == ("one", "two", "three", "four")
    assert note.aliases == ("Smith, John",)


def test_pure_number_frontmatter_tags_are_dropped() -> None:
    assert parse_note("x.md", b"---\ntags: [2024, y2024]\n---\n").tags == ("y2024",)


def test_bom_crlf_and_no_final_newline() -> None:
    data = "\ufeff---\r\ntitle: T\r\n---\r\n# H\r\n\r\n[[A]] #t".encode()
    note = parse_note("x.md", data)
    assert note.error is None
    assert note.frontmatter == {"title": "T"}
    assert note.body == "# H\n\n[[A]] #t"
    assert note.headings[0].line == 4
    assert note.links[0].line == 6
    assert note.tags == ("t",)
    assert note.hash == content_hash(data)


def test_old_mac_cr_line_endings() -> None:
    note = parse_note("x.md", b"line one\rline two [[A]]\r\r# H\r")
    assert note.links[0].line == 2
    assert note.headings[0].line == 4


def test_latin1_and_cp1252_are_read_as_windows_1252_and_reported() -> None:
    data = "# Title\n\ncafé [[Link]] – “quoted” 5 €\n".encode("cp1252") + b"\x81\n"
    note = parse_note("x.md", data)
    assert note.error == "not valid UTF-8 (first bad byte at offset 12); read as Windows-1252"
    assert note.body == "# Title\n\ncafé [[Link]] – “quoted” 5 €\n\x81\n"  # 0x81: unassigned, as Latin-1
    assert note.links[0].target == "Link"
    issue = parse_issue(note)
    assert issue is not None and issue.kind == "encoding"


def test_utf8_with_stray_bytes_keeps_utf8_with_replacement() -> None:
    data = "# Tïtle\n\ncafé ".encode() + b"\xe9 [[Link]]\n"
    note = parse_note("x.md", data)
    assert note.error == (
        "not valid UTF-8 (first bad byte at offset 16); read as UTF-8 with U+FFFD for the bad bytes"
    )
    assert "café \ufffd" in note.body
    assert note.links[0].target == "Link"
    issue = parse_issue(note)
    assert issue is not None and issue.kind == "encoding" and issue.path == "x.md"


def test_binary_file() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    note = parse_note("img.md", data)
    assert note.error == "binary file (NUL bytes); indexed by path only"
    assert note.body == "" and note.links == () and note.title == "img"
    assert note.hash == content_hash(data)
    issue = parse_issue(note)
    assert issue is not None and issue.kind == "binary"


def test_too_large_file() -> None:
    data = b"# Big\n" + b"word " * (4 * 1024 * 1024)  # 20 MB
    note = parse_note("big/Huge Note.md", data)
    assert note.error == "file is 20 MB, over the 10 MB limit; indexed by path only"
    assert note.title == "Huge Note" and note.body == "" and note.size == len(data)
    issue = parse_issue(note)
    assert issue is not None and issue.kind == "too-large"
    small = parse_note("x.md", b"x" * 2000, max_bytes=1024)
    assert small.error == "file is 0 MB, over the 0 MB limit; indexed by path only"


def test_empty_file() -> None:
    note = parse_note("empty.md", b"")
    assert note.error is None
    assert note.title == "empty" and note.body == "" and note.word_count == 0
    assert note.hash == content_hash(b"")


def test_invalid_yaml_keeps_the_body_links_and_tags() -> None:
    note = parse_note("x.md", b"---\ntitle: [oops\n---\n# Real H1\n[[Still]] #found\n")
    assert note.frontmatter == {}
    assert note.error is not None and note.error.startswith("invalid YAML frontmatter at line 2")
    assert note.title == "Real H1"
    assert [link.target for link in note.links] == ["Still"]
    assert note.tags == ("found",)
    assert note.headings[0].line == 4
    issue = parse_issue(note)
    assert issue is not None and issue.kind == "frontmatter"


def test_unclosed_frontmatter_reads_everything_as_body() -> None:
    note = parse_note("x.md", b"---\ntitle: x\n\n# Heading\n[[L]]\n")
    assert note.error == "frontmatter opened on line 1 is never closed"
    assert note.frontmatter == {} and note.frontmatter_format is None
    assert note.links[0].line == 5
    assert note.title == "Heading"


def test_list_frontmatter() -> None:
    note = parse_note("x.md", b"---\n- a\n- b\n---\nbody\n")
    assert note.error == "frontmatter must be a mapping, got a list"
    assert note.frontmatter == {} and note.body == "body\n"


def test_two_problems_give_one_message() -> None:
    note = parse_note("x.md", b"---\n- a\n---\n\xff\n")
    assert note.error == (
        "not valid UTF-8 (first bad byte at offset 12); read as Windows-1252; "
        "frontmatter must be a mapping, got a list"
    )
    issue = parse_issue(note)
    assert issue is not None and issue.kind == "encoding"


def test_toml_and_json_frontmatter() -> None:
    toml = parse_note("t.md", b'+++\ntitle = "Toml"\ntags = ["x"]\nsee = "[[Target]]"\n+++\nbody [[B]]\n')
    assert (toml.frontmatter_format, toml.title, toml.tags) == ("toml", "Toml", ("x",))
    assert [(link.target, link.line) for link in toml.links] == [("Target", 4), ("B", 6)]
    js = parse_note("j.md", b'{\n  "title": "Json",\n  "see": "[[T]]"\n}\nbody\n')
    assert (js.frontmatter_format, js.title, js.body) == ("json", "Json", "body\n")
    assert [(link.target, link.line) for link in js.links] == [("T", 3)]


def test_decoys_in_code_never_become_tags_links_or_tasks() -> None:
    note = parse_note("x.md", b"```\n#fenced [[F]]\n- [ ] no\n```\n\n`#span [[S]]`\n")
    assert note.tags == () and note.links == () and note.tasks == ()


def test_unicode_path_and_content() -> None:
    note = parse_note("Ünïcødé/日本.md", "# 見出し\n\n#タグ [[ノート]]\n".encode())
    assert (note.title, note.tags, note.links[0].target) == ("見出し", ("タグ",), "ノート")


def test_parse_note_and_its_result_pickle() -> None:
    # parse_note runs in worker processes: the function and the Note must cross process boundaries.
    assert pickle.loads(pickle.dumps(parse_note)) is parse_note
    note = parse_note("x.md", NOTE)
    assert pickle.loads(pickle.dumps(note)) == note


def test_dendron_link_style() -> None:
    data = b"[[docs|dendron.ref.telemetry#startup]] [[dendron://v/a.b]]"
    note = parse_note("x.md", data, link_style="dendron")
    assert [(link.target, link.anchor, link.alias) for link in note.links] == [
        ("dendron.ref.telemetry", "startup", "docs"),
        ("a.b", None, None),
    ]


# --- a real vault --------------------------------------------------------------------------------

needs_dendron = pytest.mark.skipif(
    not DENDRON.is_dir(), reason=f"corpus {DENDRON} absent (only CI and the project machine have it)"
)


@pytest.fixture(scope="module")
def dendron() -> dict[str, object]:
    notes = {}
    for file in sorted(DENDRON.rglob("*.md")):
        rel = file.relative_to(DENDRON).as_posix()
        notes[rel] = parse_note(rel, file.read_bytes(), mtime=file.stat().st_mtime, link_style="dendron")
    return notes


@needs_dendron
def test_every_dendron_note_parses_cleanly(dendron: dict) -> None:
    assert len(dendron) > 1000
    assert [path for path, note in dendron.items() if note.error] == []
    assert all(note.frontmatter_format == "yaml" for note in dendron.values())
    for note in dendron.values():
        lines = note.body.count("\n") + 20 + 1
        assert all(1 <= link.line <= lines + 40 for link in note.links)


@needs_dendron
def test_known_dendron_notes(dendron: dict) -> None:
    careers = dendron["careers.md"]
    assert careers.title == "Careers"
    assert careers.frontmatter["updated"] == 1636510026672
    assert careers.frontmatter["desc"] == ""

    advocate = dendron["careers.developer-advocate.md"]
    assert advocate.title == "Developer Advocate"
    assert ("embed", "careers.mission", None, 10) in [
        (link.kind, link.target, link.anchor, link.line) for link in advocate.links
    ]
    dendronites = next(link for link in advocate.links if link.alias == "Dendronites")
    assert (dendronites.target, dendronites.anchor) == ("community.concepts", "dendronites")
    assert dendronites.line == 14
    assert [h.text for h in advocate.headings][:2] == ["What you'll do", "Who You are"]

    cheatsheet = dendron["dendron.cheatsheet.md"]
    assert (cheatsheet.title, cheatsheet.tags) == ("Cheatsheet", ("stage.seed",))

    changelog = dendron["changelog.md"]
    # "(#3524)" issue numbers are not tags; "#star" at the end of a changelog line is.
    assert changelog.tags == ("star", "stars", "pending", "breaking")

    links = dendron["dendron.topic.links.md"]
    assert (links.title, links.links[0].target, links.links[0].alias) == (
        "Links",
        "dendron.topic.links.backlink",
        "backlinks",
    )


@needs_dendron
def test_most_dendron_wikilinks_resolve(dendron: dict) -> None:
    resolver = LinkResolver([(path, note.aliases) for path, note in dendron.items()], [])
    wikilinks = [(note, link) for note in dendron.values() for link in note.links if link.kind == "wikilink"]
    resolved = sum(resolver.resolve(link, note.path) is not None for note, link in wikilinks)
    assert resolver.resolve(wikilinks[0][1], wikilinks[0][0].path) is not None or resolved
    assert resolved / len(wikilinks) > 0.9  # the rest point at notes the site has since deleted


# --- a synthetic vault with a ground-truth manifest -----------------------------------------------


def test_synthetic_vault_matches_its_manifest(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import genvault  # noqa: PLC0415 - a script folder, not a package
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    stats = genvault.generate(tmp_path / "vault", notes=120, seed=3)
    manifest = json.loads(Path(stats.manifest).read_text("utf-8"))
    root = tmp_path / "vault"
    notes = {e["path"]: parse_note(e["path"], (root / e["path"]).read_bytes()) for e in manifest["notes"]}
    resolver = LinkResolver([(p, n.aliases) for p, n in notes.items()], manifest["attachments"])
    for entry in manifest["notes"]:
        note = notes[entry["path"]]
        assert note.error is None
        assert note.title == entry["title"]
        assert list(note.aliases) == entry["aliases"]
        assert sorted(note.tags) == sorted(entry["tags"])
        got = sorted(
            (
                (link.kind, link.target, link.anchor, link.alias, resolver.resolve(link, note.path))
                for link in note.links
            ),
            key=str,
        )
        assert got == sorted((tuple(x) for x in entry["links"]), key=str), entry["path"]
        assert len(note.headings) == entry["headings"]
        assert sorted(note.block_ids) == sorted(entry["block_ids"])
        assert (len(note.tasks), sum(t.done for t in note.tasks)) == (entry["tasks"], entry["tasks_done"])
        assert sum(len(t.fields) for t in note.tasks) == entry["task_fields"]
        page_fields = [f.key for f in note.fields if not any(f in t.fields for t in note.tasks)]
        assert sorted(page_fields) == sorted(entry["fields"])
