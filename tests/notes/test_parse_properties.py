"""Properties of parse_note over arbitrary input: never raises, lines inside the file, no tags from code."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdstore.notes.model import Note
from mdstore.notes.parse import parse_note

# Pieces of Markdown that interact: fences, frontmatter fences, brackets, code, HTML, CR/LF, tags.
# fmt: off
FRAGMENTS = [
    "---", "+++", "{", "}", "...", "\n", "\r\n", "\r", " ", "    ", "\t", "#", "# ", "## ", "#tag", "#a/b",
    "[[", "]]", "![[", "|", "^id", "[", "]", "(", ")", "<", ">", "`", "```", "~~~", "- ", "- [ ] ",
    "* [x] ", "1. ", "> ", "key:: ", "[k:: v]", "(k:: v)", "\\", "<div>", "</div>", "<!--", "-->",
    "title: x", "tags: [a, b]", "a: [", "x", "word", "é", "日本", "\ufeff", "\x00", "*", "_", "=",
    "| a | b |", "|---|---|", "https://x.org/#y", "[t](u.md)", "![i](p.png)", "<https://a.b>",
]
# fmt: on

markdownish = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
# Inside a fence: LF only (so the fence's lines are known) and no NUL (that makes the file binary).
IN_FENCE = [f for f in FRAGMENTS if f not in ("\r", "\r\n", "\x00", "\ufeff")]


def _line_count(data: bytes) -> int:
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.count("\n") + 1


def _check_lines(note: Note, data: bytes) -> None:
    last = _line_count(data)
    lines = (
        [link.line for link in note.links]
        + [h.line for h in note.headings]
        + [t.line for t in note.tasks]
        + [f.line for f in note.fields]
        + [f.line for t in note.tasks for f in t.fields]
    )
    assert all(1 <= line <= last for line in lines), (lines, last)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_never_raises_on_markdownish_text(text: str) -> None:
    data = text.encode("utf-8")
    note = parse_note("p.md", data)
    assert note.size == len(data)
    _check_lines(note, data)


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    data = text.encode("utf-8", errors="surrogatepass")
    note = parse_note("p.md", data)
    _check_lines(note, data)


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    note = parse_note("p.md", data)
    assert note.size == len(data)
    if b"\x00" in data:
        assert note.error is not None and note.body == ""
    _check_lines(note, data)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(IN_FENCE), max_size=30).map("".join), st.sampled_from(["```", "~~~~"]))
def test_tags_and_links_never_come_from_fenced_code(inside: str, fence: str) -> None:
    body = "Before #outside\n\n" + fence + "\n" + inside.replace(fence[0] * 3, "") + "\n" + fence + "\n"
    note = parse_note("p.md", body.encode("utf-8"))
    fenced_first, fenced_last = 4, 4 + body.count("\n") - 4
    assert all(not (fenced_first <= link.line <= fenced_last) for link in note.links)
    assert note.tasks == ()
    assert "outside" in note.tags
    assert set(note.tags) == {"outside"}


@settings(max_examples=150)
@given(st.from_regex(r"[a-z][a-z0-9/_-]{0,10}", fullmatch=True))
def test_tags_never_come_from_code_spans(tag: str) -> None:
    note = parse_note("p.md", f"text `#{tag}` and ``#{tag} `x` `` done\n".encode())
    assert note.tags == ()
