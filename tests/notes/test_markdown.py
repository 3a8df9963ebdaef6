"""extract(): headings, tasks, links, tags, fields, block ids and words, with decoys in code and HTML."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mdstore.notes import markdown
from mdstore.notes.markdown import extract, find_wikilinks, normalize_field_key, normalize_tag, parse_wikilink
from mdstore.notes.model import Link


def links(body: str, **kw: str) -> list[tuple[str, str, str | None, str | None]]:
    return [(link.kind, link.target, link.anchor, link.alias) for link in extract(body, **kw).links]


def test_headings_with_levels_plain_text_and_lines() -> None:
    got = extract("# One *two* `three`\n\ntext\n\n### [[Link|Shown]] end\n\nSetext\n===\n", first_line=3)
    assert [(h.level, h.text, h.line) for h in got.headings] == [
        (1, "One two three", 3),
        (3, "Shown end", 7),
        (1, "Setext", 9),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[[Note]]", ("wikilink", "Note", None, None)),
        ("[[Note|Shown]]", ("wikilink", "Note", None, "Shown")),
        ("[[Note#Some Heading]]", ("wikilink", "Note", "Some Heading", None)),
        ("[[Note#^blk1]]", ("wikilink", "Note", "^blk1", None)),
        ("[[#Heading]]", ("wikilink", "", "Heading", None)),
        ("[[folder/Note.md|x]]", ("wikilink", "folder/Note.md", None, "x")),
        ("![[pic.png]]", ("embed", "pic.png", None, None)),
        ("![[Note#Part]]", ("embed", "Note", "Part", None)),
        ("[x](rel/path.md)", ("markdown", "rel/path.md", None, "x")),
        ("[x](<a b.md>)", ("markdown", "a b.md", None, "x")),
        ("[x](a%20b.md#My%20Head)", ("markdown", "a b.md", "My Head", "x")),
        ("[x](#local)", ("markdown", "", "local", "x")),
        ("![alt](img/p.png)", ("embed", "img/p.png", None, "alt")),
        ("![](https://x.org/p.png)", ("url", "https://x.org/p.png", None, None)),
        ("[site](https://example.com/a?b=1#c)", ("url", "https://example.com/a?b=1#c", None, "site")),
        ("<https://example.com>", ("url", "https://example.com", None, None)),
        ("<me@example.com>", ("url", "mailto:me@example.com", None, None)),
        ("[mail](mailto:me@example.com)", ("url", "mailto:me@example.com", None, "mail")),
        (
            "[[Dendronites|dendron://dendron.site/community.concepts#dendronites]]",
            ("wikilink", "community.concepts", "dendronites", "Dendronites"),
        ),
        ("[[Café ☕]]", ("wikilink", "Café ☕", None, None)),
    ],
)
def test_link_forms(body: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert links(body) == [expected]


def test_reference_links_resolve_to_their_definition() -> None:
    assert links("See [the doc][d].\n\n[d]: docs/a.md\n") == [("markdown", "docs/a.md", None, "the doc")]


def test_dendron_style_puts_the_alias_first() -> None:
    assert links("[[docs|dendron.ref.telemetry#startup]]", link_style="dendron") == [
        ("wikilink", "dendron.ref.telemetry", "startup", "docs")
    ]
    assert links("[[a.b.c]]", link_style="dendron") == [("wikilink", "a.b.c", None, None)]


def test_empty_and_broken_wikilink_syntax() -> None:
    assert links("[[]] [[ ]] [[a\nb]] [[unclosed") == []


def test_wikilink_in_table_cell_with_escaped_pipe() -> None:
    body = "| a | b |\n|---|---|\n| [[Note\\|Shown]] | #celltag |\n"
    got = extract(body)
    assert [(link.target, link.alias, link.line) for link in got.links] == [("Note", "Shown", 3)]
    assert got.tags == ("celltag",)


DECOYS = """Real [[Real]] #real

`[[CodeSpan]] #codespan [k:: v]`

```python
[[Fenced]] #fenced
- [ ] fenced task
key:: fenced
```

    [[Indented]] #indented

<div>
[[Html]] #html
</div>

Inline <span title="[[HtmlInline]] #htmlinline">between tags is text</span> and \\#escaped and \\[[Escaped]]

[#inlinktext](https://x.org/#frag) http://example.com/page#anchor issue(#123) #2024
"""


def test_decoys_in_code_html_and_links_are_not_extracted() -> None:
    got = extract(DECOYS)
    assert [link.target for link in got.links if link.kind != "url"] == ["Real"]
    assert got.tags == ("real",)
    assert got.tasks == ()
    assert got.fields == ()


def test_tags() -> None:
    got = extract(
        "#Alpha start, mid #beta/Gamma, **#bold** (#paren) #Alpha again #a-b_c\n#émoji-ß #x/ end#not"
    )
    assert got.tags == ("alpha", "beta/gamma", "bold", "paren", "a-b_c", "émoji-ß", "x")


def test_tags_are_not_heading_markers_or_numbers() -> None:
    got = extract("# Heading #intitle\n\n#123 #1984/12 #y1984 ##double\n")
    assert got.tags == ("intitle", "y1984")


def test_tasks_with_status_nesting_lists_and_sections() -> None:
    body = """# Plan

- [ ] first [due:: 2024-01-05]
  continued
- [x] done
* [/] star list
+ [-] plus list
1. [>] numbered
- [ ]
- plain item
- [link](x.md) not a task

## Later
- outer
  - [X] nested ^blk
"""
    got = extract(body, first_line=10)
    assert [(t.text, t.status, t.line, t.section, t.done) for t in got.tasks] == [
        ("first [due:: 2024-01-05]", " ", 12, "Plan", False),
        ("done", "x", 14, "Plan", True),
        ("star list", "/", 15, "Plan", False),
        ("plus list", "-", 16, "Plan", False),
        ("numbered", ">", 17, "Plan", False),
        ("", " ", 18, "Plan", False),
        ("nested", "X", 24, "Later", True),
    ]
    assert got.tasks[0].fields[0].key == "due"
    assert got.tasks[0].fields[0].value == dt.date(2024, 1, 5)
    assert got.block_ids == ("blk",)


def test_task_text_is_its_first_line_and_continuation_fields_are_its_own() -> None:
    got = extract("- [ ] open one\nowner:: ada\n")
    assert [(t.text, [(f.key, f.value, f.line) for f in t.fields]) for t in got.tasks] == [
        ("open one", [("owner", "ada", 2)])
    ]


def test_inline_fields_three_forms() -> None:
    body = (
        "Due Date:: 2024-03-01\n**Bold Key**:: 7\n\n"
        "Text [rating:: 4.5] and (Mood:: good) here.\n- status:: open\n"
    )
    got = extract(body, first_line=2)
    assert [(f.key, f.value, f.line) for f in got.fields] == [
        ("due-date", dt.date(2024, 3, 1), 2),
        ("bold-key", 7, 3),
        ("rating", 4.5, 5),
        ("mood", "good", 5),
        ("status", "open", 6),
    ]


def test_inline_field_value_keeps_links_as_written() -> None:
    got = extract("owner:: [[Ann Lee]]\n")
    assert got.fields[0].value == "[[Ann Lee]]"
    assert got.links[0].target == "Ann Lee"


def test_heading_is_not_a_field() -> None:
    assert extract("## key:: value\n").fields == ()


def test_block_ids() -> None:
    body = "Para one ^abc-1\n\nPara ^mid\nstill para ^end\n\n- item ^li\n\n`code ^nope`\n\n^solo\n"
    assert extract(body).block_ids == ("abc-1", "mid", "end", "li", "solo")


def test_word_count_counts_prose_not_code_or_markup() -> None:
    body = "# Two words\n\nThree more [[Target|shown text]] `code` here.\n\n```\nnot counted at all\n```\n"
    # "Two words" + "Three more shown text code here."
    assert extract(body).word_count == 8


def test_line_numbers_survive_multiline_code_spans() -> None:
    body = "a `code\nspan` b\nc [[Target]] #tag\n"
    got = extract(body, first_line=5)
    assert got.links[0].line == 7


def test_link_lines_in_a_long_paragraph() -> None:
    body = "line one\nline two [[A]]\nline three\n  [[B]] and ![[C]]\n"
    assert [(link.target, link.line) for link in extract(body, first_line=3).links] == [
        ("A", 4),
        ("B", 6),
        ("C", 6),
    ]


def test_unicode_text() -> None:
    got = extract("# Überblick 日本語\n\nПривет #тег [[Заметка]]\n")
    assert got.headings[0].text == "Überblick 日本語"
    assert got.tags == ("тег",)
    assert got.links[0].target == "Заметка"


def test_helpers() -> None:
    assert normalize_tag("#Project/Alpha/") == "project/alpha"
    assert normalize_field_key("  Due   Date ") == "due-date"
    assert parse_wikilink("  ") is None
    assert parse_wikilink("a|b", embed=True, line=4) == Link("a", "embed", None, "b", 4)
    assert [link.target for link in find_wikilinks("see [[A]] and ![[B|x]]", 2)] == ["A", "B"]
    assert find_wikilinks("no links") == []


def test_empty_body() -> None:
    assert extract("") == extract("\n\n")
    assert extract("").word_count == 0


# Plain text, a decoy of every inline rule, and each rule's opening character alone.
_INLINE_PIECES = [
    *["a", "word", " ", "  ", "\n", "\n\n", "\t", "-", ":", "#", "#tag", "key:: v", "^id", "|"],
    *["`", "``", "[", "]", "(", ")", "!", "<", ">", "*", "_", "\\", "&", "~~", "&amp;", "&#35;"],
    *["[[a|b]]", "![[e#h]]", "[t](u)", "![i](p.png)", "<http://a.b>", "<span>", "`[[no]]`"],
    *["- [ ] ", "> ", "# ", "    ", "```\n", "| a | b |\n|---|---|\n", "[x]: /url\n", "%%c%%"],
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(body="# _a_\n")
@example(body="# *a*\n")
@example(body="# a \\# b\n")
@example(body="# a &amp; b\n")
@example(body="# `a`\n")
@example(body="# [[a]]\n")
@example(body="# <b>a</b>\n")
@given(body=st.lists(st.sampled_from(_INLINE_PIECES), max_size=40).map("".join))
def test_plain_text_read_without_the_inline_parser_extracts_the_same(
    body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An inline token with no character an inline rule starts at is read as its text: whatever
    # the body, the extraction must equal the one with every inline token parsed.
    fast = extract(body, first_line=3)
    with monkeypatch.context() as patch:
        patch.setattr(markdown, "_INLINE_STARTS", re.compile(""))  # matches every content
        assert extract(body, first_line=3) == fast
