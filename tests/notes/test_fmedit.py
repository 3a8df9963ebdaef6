"""Lossless frontmatter and body edits on raw bytes."""

from __future__ import annotations

import datetime as dt

import pytest
from ruamel.yaml import YAML

from mdstore.errors import NoteParseError, ValidationError
from mdstore.notes.fmedit import append_text, replace_body, set_keys

NOTE = b"""---
title: "Hello"   # the title
tags:
  - a
  - b
# a standalone comment
desc: |
  line1

  # not a comment
nested:
    x: 1
    y: [1,
      2]  # flow
empty:  # nothing here
---
Body *bytes* caf\xc3\xa9 kept
no final newline"""
BODY = NOTE[NOTE.index(b"Body") :]


def lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def load(data: bytes) -> dict:
    block = data.split(b"---")[1].decode()
    return dict(YAML(typ="rt").load(block) or {})


def changed_lines(before: bytes, after: bytes) -> tuple[set[bytes], set[bytes]]:
    old, new = lines(before), lines(after)
    return set(old) - set(new), set(new) - set(old)


def test_only_the_touched_line_changes() -> None:
    out = set_keys(NOTE, {"title": "World"})
    assert changed_lines(NOTE, out) == ({b'title: "Hello"   # the title'}, {b'title: "World"   # the title'})
    assert out.endswith(BODY)


def test_nested_key_and_new_keys() -> None:
    out = set_keys(NOTE, {"nested.x": 2, "nested.z": True, "added": dt.date(2024, 1, 2), "a.b": "yes"})
    removed, added = changed_lines(NOTE, out)
    assert removed == {b"    x: 1"}
    assert added == {b"    x: 2", b"    z: true", b"added: 2024-01-02", b"a:", b"    b: 'yes'"}
    data = load(out)
    assert data["nested"]["z"] is True and data["a"]["b"] == "yes" and data["added"] == dt.date(2024, 1, 2)
    assert out.index(b"added:") > out.index(b"empty:")  # appended at the end of the block


def test_list_replacement_keeps_block_style_and_indent() -> None:
    out = set_keys(NOTE, {"tags": ["x", "y z"]})
    assert b"tags:\n  - x\n  - y z\n# a standalone comment" in out


def test_flow_list_stays_flow_and_comment_is_kept() -> None:
    out = set_keys(NOTE, {"nested.y": [3, 4]})
    assert b"    y: [3, 4]\nempty:" in out


def test_key_line_comment_survives_a_block_value() -> None:
    out = set_keys(NOTE, {"empty": ["p"]})
    assert b"empty:  # nothing here\n  - p\n---" in out


def test_block_scalar_replaced_whole() -> None:
    out = set_keys(NOTE, {"desc": "short"})
    assert b"desc: short\nnested:" in out
    assert b"not a comment" not in out


def test_no_op_is_byte_identical() -> None:
    assert set_keys(NOTE, {"title": "Hello", "nested.x": 1, "tags": ["a", "b"]}) == NOTE
    assert set_keys(NOTE, unset=["missing", "nested.missing", "title.sub"]) == NOTE
    assert set_keys(NOTE) == NOTE


def test_types_are_strict() -> None:
    assert set_keys(b"---\na: 1\n---\n", {"a": True}) == b"---\na: true\n---\n"
    assert set_keys(b"---\na: 1\n---\n", {"a": 1.0}) == b"---\na: 1.0\n---\n"
    assert set_keys(b"---\na: 2024-01-02\n---\n", {"a": "2024-01-02"}) == b"---\na: '2024-01-02'\n---\n"


def test_unset() -> None:
    out = set_keys(NOTE, unset=["tags", "nested.x"])
    assert b"tags" not in out and b"x: 1" not in out
    assert b"# a standalone comment" in out and b"    y: [1," in out
    only = set_keys(b"---\na:\n  b: 1\nc: 2\n---\n", unset=["a.b"])
    assert only == b"---\na: {}\nc: 2\n---\n"


def test_unsetting_the_last_key_removes_an_empty_block() -> None:
    assert set_keys(b"---\na: 1\n---\nbody\n", unset=["a"]) == b"body\n"
    with_comment = set_keys(b"---\n# keep me\na: 1\n---\nbody\n", unset=["a"])
    assert with_comment == b"---\n# keep me\n---\nbody\n"


def test_note_without_frontmatter_gets_a_block() -> None:
    assert set_keys(b"hello\r\nworld", {"a": 1}) == b"---\r\na: 1\r\n---\r\nhello\r\nworld"
    assert set_keys(b"", {"a": [1]}) == b"---\na:\n  - 1\n---\n"
    assert set_keys(b"\xef\xbb\xbfx\n", {"a": 1}) == b"\xef\xbb\xbf---\na: 1\n---\nx\n"
    assert set_keys(set_keys(b"plain\n", {"k": "v"}), unset=["k"]) == b"plain\n"
    assert set_keys(b"plain\n", unset=["k"]) == b"plain\n"


def test_crlf_and_bom_are_kept() -> None:
    crlf = b"\xef\xbb\xbf" + NOTE.replace(b"\n", b"\r\n")
    out = set_keys(crlf, {"title": "W", "new": [1, 2], "nested.q": "x"})
    assert out.startswith(b"\xef\xbb\xbf---\r\n")
    assert b"\n" not in out.replace(b"\r\n", b"")
    assert b"new:\r\n  - 1\r\n  - 2\r\n---\r\n" in out
    assert out.endswith(BODY.replace(b"\n", b"\r\n"))


def test_literal_dotted_key_wins() -> None:
    data = b"---\na.b: 1\na:\n  b: 2\n---\n"
    assert set_keys(data, {"a.b": 5}) == b"---\na.b: 5\na:\n  b: 2\n---\n"
    assert set_keys(b"---\nx: 1\n---\n", {"p.q.r": 1}) == b"---\nx: 1\np:\n  q:\n    r: 1\n---\n"


def test_values_of_every_supported_type() -> None:
    values = {
        "s": "text: with colon # and hash",
        "multi": "two\nlines",
        "i": -3,
        "f": 2.5,
        "b": False,
        "n": None,
        "d": dt.date(2020, 2, 29),
        "t": dt.datetime(2024, 5, 6, 7, 8, 9),
        "tz": dt.datetime(2024, 5, 6, 7, 8, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "l": [1, "two", [3]],
        "m": {"k": "v", "deep": {"x": 1}},
        "yes_word": "yes",
        "num_text": "0755",
    }
    data = load(set_keys(b"---\nz: 0\n---\n", values))
    for key, value in values.items():
        assert data[key] == value, key
        assert type(data[key]) is not bool or type(value) is bool
    assert data["tz"].utcoffset() == dt.timedelta(hours=-5)


@pytest.mark.parametrize(
    "data",
    [
        b"---\na: [1\n---\nbody",
        b"---\na: 1\na: 2\n---\n",
        b"---\n- a list\n---\n",
        b"---\njust text\n---\n",
        b"---\na: 1\nno closing fence\n",
        b"---\n\ta: tab\n---\n",
        b"---\na: \xff\n---\n",
        b'{\n  "a": \n}\n',
        b"+++\na = \n+++\n",
    ],
)
def test_broken_frontmatter_is_never_rewritten(data: bytes) -> None:
    with pytest.raises(NoteParseError, match="notes/x.md"):
        set_keys(data, {"k": 1}, path="notes/x.md")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("# x\n".encode("utf-16"), "UTF-16 byte-order mark"),
        ("# x\n".encode("utf-32"), "UTF-32 byte-order mark"),
        (b"---\na: 1\n---\nbody\x00\n", "NUL byte at offset 17"),
        ("Caf\xe9\n".encode("latin-1"), "not UTF-8 at offset 3"),
        (b"---\na: 1\n---\nok \xff\n", "not UTF-8 at offset 16"),
    ],
)
def test_a_note_that_is_not_utf8_text_is_never_edited(data: bytes, why: str) -> None:
    for edit in (
        lambda: set_keys(data, {"k": "Zo\xeb"}, path="x.md"),
        lambda: set_keys(data, unset=["a"], path="x.md"),
        lambda: replace_body(data, "new", path="x.md"),
        lambda: append_text(data, "more", "Log", path="x.md"),
    ):
        with pytest.raises(NoteParseError, match=f"^x.md: is not UTF-8 text .*{why}"):
            edit()


def test_impossible_edits() -> None:
    with pytest.raises(ValidationError, match="'a' holds a str"):
        set_keys(b"---\na: text\n---\n", {"a.b": 1})
    with pytest.raises(ValidationError, match="set"):
        set_keys(b"---\na: 1\n---\n", {"a": {1, 2}})
    with pytest.raises(ValidationError, match="null"):
        set_keys(b"+++\na = 1\n+++\n", {"a": None})
    with pytest.raises(ValidationError, match="flow-style"):
        set_keys(b"---\n{a: 1}\n---\n", {"a": 2})


def test_toml() -> None:
    toml = b'+++\r\ntitle = "x" # c\r\n\r\n[params]\r\na = 1\r\n+++\r\nbody\r\n'
    out = set_keys(toml, {"title": "y", "params.b": 2, "new": dt.date(2024, 1, 1)})
    assert out == (
        b'+++\r\ntitle = "y" # c\r\nnew = 2024-01-01\r\n\r\n[params]\r\na = 1\r\nb = 2\r\n+++\r\nbody\r\n'
    )
    assert set_keys(toml, {"title": "x", "params.a": 1}) == toml
    assert set_keys(toml, unset=["params.a", "nope"]) == toml.replace(b"a = 1\r\n", b"")


def test_json() -> None:
    data = b'{\n  "title": "x",\n  "n": 1\n}\nbody\n'
    assert set_keys(data, {"n": 2}) == b'{\n  "title": "x",\n  "n": 2\n}\nbody\n'
    assert set_keys(data, {"d": dt.date(2020, 1, 1)}).startswith(
        b'{\n  "title": "x",\n  "n": 1,\n  "d": "2020-01-01"\n}'
    )
    assert set_keys(data, {"n": 1}) == data
    assert (
        set_keys(b'{\n\t"a": "\xc3\xa9"\n}\n', {"b": "\xe9"})
        == b'{\n\t"a": "\xc3\xa9",\n\t"b": "\xc3\xa9"\n}\n'
    )
    assert set_keys(b'{\n"a": 1\n}\nbody', unset=["a"]) == b"body"


def test_replace_body() -> None:
    assert replace_body(NOTE, "new\nbody") == NOTE[: NOTE.index(b"Body")] + b"new\nbody"
    crlf = b"---\r\na: 1\r\n---\r\nold\r\n"
    assert replace_body(crlf, "x\ny\n") == b"---\r\na: 1\r\n---\r\nx\r\ny\r\n"
    assert replace_body(b"---\na: 1\n---", "b") == b"---\na: 1\n---\nb"
    assert replace_body(b"no frontmatter", "b") == b"b"
    broken = b"---\na: [\n---\nold"
    assert replace_body(broken, "new") == b"---\na: [\n---\nnew"  # the block bytes are kept as they are


def test_append_at_the_end() -> None:
    assert append_text(b"a\n", "b") == b"a\nb\n"
    assert append_text(b"a", "b\n") == b"a\nb\n"
    assert append_text(b"a\r\n", "b\nc") == b"a\r\nb\r\nc\r\n"
    assert append_text(b"", "b") == b"b\n"
    assert append_text(b"---\nk: 1\n---", "b") == b"---\nk: 1\n---\nb\n"
    assert append_text(b"a\n", "") == b"a\n"


def test_append_under_a_heading() -> None:
    note = b"# T\n## Log\n- a\n\n### Sub\nsub\n\n## Other\ntext\n"
    assert append_text(note, "- b", "Log") == b"# T\n## Log\n- a\n\n### Sub\nsub\n- b\n\n## Other\ntext\n"
    assert append_text(note, "- b", "## Other") == note + b"- b\n"
    assert append_text(note, "- b", "### Log") == note + b"### Log\n- b\n"
    assert append_text(b"# T\n## Empty\n## Next\n", "x", "Empty") == b"# T\n## Empty\nx\n## Next\n"
    assert append_text(b"## Log", "x", "Log") == b"## Log\nx\n"


def test_append_ignores_headings_in_code() -> None:
    note = b"## Log\n```\n## Not a heading\n```\n## After\n"
    assert append_text(note, "x", "Log") == b"## Log\n```\n## Not a heading\n```\nx\n## After\n"
    assert append_text(note, "x", "Not a heading") == note + b"## Not a heading\nx\n"


def test_append_creates_a_missing_heading() -> None:
    assert append_text(b"text", "x", "Log") == b"text\n## Log\nx\n"
