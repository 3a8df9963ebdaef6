"""Exact source spans of the links of a note, and edits of their targets (for moves).

The parser (``markdown.py``) says *which* links a note holds; a move must also know *where* each one
is written so that only the target text changes and everything else (alias, anchor, title, the
``!`` of an embed, escaped table pipes, surrounding bytes) stays as written. Spans come from the same
markdown-it token stream as the index, so a ``[[link]]`` inside a code span or block is never touched.

markdown-it gives offsets into an inline token's *content*, which drops block prefixes (indentation,
``>`` and list markers) and trailing blanks; each content line is therefore found again in its source
line (left to right, so two identical table cells map to two places) and the offset is checked
against the source before a span is reported. A link whose place cannot be proven is not reported:
it is left alone rather than rewritten in the wrong place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import Link

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = ["LinkSpan", "link_spans", "replace_spans"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
_DEFINITION = re.compile(r"\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(?:<([^<>\n]*)>|(\S+))")
_CONTAINER_PREFIX = re.compile(r"[ \t>*+\-0-9.)]*")  # blockquote and list markers before a definition


@dataclass(frozen=True)
class LinkSpan:
    """One link as written: ``start``/``end`` are offsets of its target text in the note's text.

    ``written`` is the target exactly as in the file (a Markdown destination still URL-encoded);
    ``link`` is the parsed link (target decoded). ``angle`` is true for ``[x](<dest>)``.
    """

    link: Link
    start: int
    end: int
    written: str
    angle: bool = False
    markdown: bool = False  # ``[text](dest)`` / ``![alt](dest)`` syntax, not ``[[...]]``


def link_spans(text: str, *, link_style: str = "obsidian") -> list[LinkSpan]:
    """The rewritable links of a note's decoded ``text`` (any line endings, BOM allowed), in order.

    Links without a target (``[[#Heading]]``), URLs and Dendron cross-vault links are not
    reported: a move never needs to change them. A reference-style link (``[text][ref]``) is
    reported once, at the destination of its definition (``[ref]: path.md``), when that
    destination is on the definition's first line.
    """
    from .comments import hide_comments
    from .frontmatter import read_frontmatter
    from .markdown import _parser

    bom = 1 if text.startswith("\ufeff") else 0
    starts, lines = _lines(text, bom)
    normalised = "\n".join(lines)
    front = read_frontmatter(normalised)
    spans: list[LinkSpan] = []
    for index in range(front.body_line - 1):  # frontmatter lines: plain text, Obsidian reads [[links]]
        for match in _WIKILINK.finditer(lines[index]):
            span = _wikilink_span(match.group(2), match.start(2), bool(match.group(1)), index + 1, link_style)
            if span is not None:
                spans.append(_shift(span, starts[index]))
    first = front.body_line - 1
    # A link in a %%comment%% is not a link (markdown.py reads the same blanked body); blanking
    # keeps every line's length, so offsets found in the blanked lines hold in the text.
    body = hide_comments(front.body)
    if body is not front.body and len(lines) - first == body.count("\n") + 1:
        lines = lines[:first] + body.split("\n")
    env: dict[str, Any] = {}
    tokens = _parser().parse(body, env)
    cursors: dict[int, int] = {}
    for token in tokens:
        if token.type != "inline" or not token.map or not token.children:
            continue
        spans.extend(_inline_spans(token, lines, starts, first, cursors, link_style))
    definitions = [(label, ref) for label, ref in env.get("references", {}).items()]
    definitions += [(ref["label"], ref) for ref in env.get("duplicate_refs", [])]
    for label, ref in definitions:
        span = _definition_span(label, ref, lines, starts, first)
        if span is not None:
            spans.append(span)
    return sorted(spans, key=lambda span: span.start)


def replace_spans(text: str, edits: Iterable[tuple[LinkSpan, str]]) -> str:
    """``text`` with the target of each span replaced by the given text (spans must not overlap)."""
    out: list[str] = []
    last = 0
    for span, new in sorted(edits, key=lambda e: e[0].start):
        if span.start < last:
            raise ValueError("overlapping link spans")
        out.append(text[last : span.start])
        out.append(new)
        last = span.end
    out.append(text[last:])
    return "".join(out)


# --- internals ----------------------------------------------------------------------------------


def _lines(text: str, bom: int) -> tuple[list[int], list[str]]:
    """Start offset and content (without its line break) of every line of ``text``."""
    starts = [bom]
    lines: list[str] = []
    pos = bom
    for match in _LINE_BREAK.finditer(text, bom):
        lines.append(text[pos : match.start()])
        pos = match.end()
        starts.append(pos)
    lines.append(text[pos:])
    return starts, lines


def _shift(span: LinkSpan, by: int) -> LinkSpan:
    return LinkSpan(span.link, span.start + by, span.end + by, span.written, span.angle, span.markdown)


def _wikilink_span(inner: str, at: int, embed: bool, line: int, style: str) -> LinkSpan | None:
    """The target span of ``[[inner]]`` whose inner text starts at offset ``at``."""
    from .markdown import parse_wikilink

    link = parse_wikilink(inner, embed=embed, line=line, link_style=style)
    if link is None or not link.target:
        return None
    if "dendron://" in inner:  # [[label|dendron://vault/note#anchor]]: the note part only
        slash = inner.find("/", inner.index("dendron://") + len("dendron://"))
        if slash < 0:
            return None
        start = slash + 1
        end = start
        while end < len(inner) and inner[end] not in "#|":
            end += 1
        return (
            LinkSpan(link, at + start, at + end, inner[start:end])
            if inner[start:end] == link.target
            else None
        )
    sep = "\\|" if "\\|" in inner else "|"
    if style == "dendron" and sep in inner:
        offset = inner.index(sep) + len(sep)
    else:
        offset = 0
    part = inner[offset:]
    part = part.split(sep, 1)[0] if offset == 0 else part
    part = part.split("#", 1)[0]
    lead = len(part) - len(part.lstrip())
    written = part.strip()
    if not written:
        return None
    start = at + offset + lead
    return LinkSpan(link, start, start + len(written), written)


def _inline_spans(
    token: Token, lines: list[str], starts: list[int], first: int, cursors: dict[int, int], style: str
) -> list[LinkSpan]:
    src = token.content
    assert token.map is not None
    top = first + token.map[0]  # index in ``lines`` of the token's first content line
    content_lines = src.split("\n")
    line_starts = [0]
    for piece in content_lines[:-1]:
        line_starts.append(line_starts[-1] + len(piece) + 1)
    bases: list[int | None] = []
    for k, piece in enumerate(content_lines):
        index = top + k
        if index >= len(lines):
            bases.append(None)
            continue
        found = lines[index].find(piece, cursors.get(index, 0))
        width = len(piece)
        if found < 0 and "|" in piece:  # a table cell: markdown-it unescaped its "\\|"
            escaped = piece.replace("|", "\\|")
            found, width = lines[index].find(escaped, cursors.get(index, 0)), len(escaped)
        bases.append(None if found < 0 else found)
        if found >= 0:
            cursors[index] = found + width

    def locate(offset: int) -> tuple[int, int] | None:
        """(line index, column) in the file of offset ``offset`` of the content."""
        k = _line_of(line_starts, offset)
        base = bases[k]
        if base is None:
            return None
        return top + k, base + offset - line_starts[k]

    found_spans: list[LinkSpan] = []
    for child in token.children or []:
        span: LinkSpan | None = None
        if child.type == "wikilink":
            start, _end = child.meta["span"]
            inner_at = start + (3 if child.meta["embed"] else 2)
            where = locate(inner_at)
            if where is None:
                continue
            index, column = where
            span = _wikilink_span(child.content, column, child.meta["embed"], index + 1, style)
            if span is not None:
                span = _verified(span, lines[index], starts[index])
        elif child.type in ("link_close", "image") and "span" in child.meta:
            start, end = child.meta["span"]
            span = _markdown_span(src, start, end, child.type == "image", locate, lines, starts)
        if span is not None:
            found_spans.append(span)
    return found_spans


def _verified(span: LinkSpan, line: str, line_start: int) -> LinkSpan | None:
    if line[span.start : span.end] != span.written:
        return None
    return _shift(span, line_start)


def _line_of(line_starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(line_starts, offset) - 1


def _markdown_span(
    src: str, start: int, end: int, image: bool, locate: object, lines: list[str], starts: list[int]
) -> LinkSpan | None:
    from urllib.parse import unquote

    dest = _destination(src, start + (2 if image else 1), end)
    if dest is None:
        return None
    d_start, d_end, angle = dest
    raw = src[d_start:d_end]
    if not raw or _SCHEME.match(raw):
        return None
    written = raw.split("#", 1)[0]
    if not written.strip():
        return None
    where = locate(d_start)  # type: ignore[operator]
    if where is None:
        return None
    index, column = where
    line = lines[index]
    if line[column : column + len(written)] != written:
        return None
    anchor = raw[len(written) + 1 :] if "#" in raw else None
    link = Link(
        target=unquote(written).strip(),
        kind="embed" if image else "markdown",
        anchor=unquote(anchor).strip() or None if anchor else None,
        line=index + 1,
    )
    begin = starts[index] + column
    return LinkSpan(link, begin, begin + len(written), written, angle, markdown=True)


def _definition_span(
    label: str, ref: dict[str, Any], lines: list[str], starts: list[int], first: int
) -> LinkSpan | None:
    """The destination of the definition of reference ``label`` that markdown-it recorded at
    ``ref["map"]`` (body lines), checked against what markdown-it read there."""
    from urllib.parse import unquote

    from markdown_it.common.utils import normalizeReference, unescapeAll

    index = first + ref["map"][0]
    if index >= len(lines):
        return None
    line = lines[index]
    match = _DEFINITION.search(line)
    if match is None or not _CONTAINER_PREFIX.fullmatch(line[: match.start()]):
        return None
    if normalizeReference(match.group(1)) != label:
        return None
    angle = match.group(2) is not None
    raw = match.group(2) if angle else match.group(3)
    column = match.start(2) if angle else match.start(3)
    if unescapeAll(raw) != ref["href"] or not raw or _SCHEME.match(raw):
        return None
    written = raw.split("#", 1)[0]
    if not written.strip():
        return None
    anchor = raw[len(written) + 1 :] if "#" in raw else None
    link = Link(
        target=unquote(written).strip(),
        kind="markdown",
        anchor=unquote(anchor).strip() or None if anchor else None,
        line=index + 1,
    )
    begin = starts[index] + column
    return LinkSpan(link, begin, begin + len(written), written, angle, markdown=True)


def _destination(src: str, i: int, end: int) -> tuple[int, int, bool] | None:
    """Where the destination of the inline link whose label starts at ``i`` is: (start, end, angle)."""
    depth = 1
    while i < end:
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            run = len(src[i:end]) - len(src[i:end].lstrip("`"))
            close = src.find("`" * run, i + run, end)
            i = close + run if close >= 0 else i + run
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if i + 1 >= end or src[i + 1] != "(":
        return None  # a reference link: its destination is in a definition elsewhere
    j = i + 2
    while j < end and src[j] in " \t\n":
        j += 1
    if j < end and src[j] == "<":
        close = src.find(">", j + 1, end)
        return None if close < 0 else (j + 1, close, True)
    k, parens = j, 0
    while k < end:
        ch = src[k]
        if ch == "\\":
            k += 2
            continue
        if ch.isspace():
            break
        if ch == "(":
            parens += 1
        elif ch == ")":
            if parens == 0:
                break
            parens -= 1
        k += 1
    return j, k, False
