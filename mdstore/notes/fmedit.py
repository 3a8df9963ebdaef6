"""Lossless edits of a note's raw bytes: frontmatter keys, the body, appended text.

Every function takes the file's bytes and returns the new bytes; nothing outside what the edit
needs changes. The body is never re-serialised (its bytes are copied), the BOM and the file's line
ending style (LF or CRLF, taken from the first line) are kept, and an edit that changes nothing
returns the input unchanged, byte for byte.

Frontmatter is recognised exactly as the reader (``notes/frontmatter.py``) does: ``---`` YAML
closed by ``---`` or ``...``, ``+++`` TOML, or a JSON object whose first line is a lone ``{``.

The format editors live beside this module: ``yamledit.py`` (YAML), ``structedit.py`` (TOML, JSON);
``editrules.py`` holds what they share (dot-path keys, unchanged values, newline style).

- **YAML** is edited line by line. ruamel.yaml (round-trip, YAML 1.2 typing like the reader) finds
  where each key and value start and end; only the lines of a touched key are replaced, by a
  fragment that ruamel serialises in the block's detected indentation. Comments, quoting, key order,
  flow/block style and blank lines elsewhere are the original characters. A touched key keeps its
  end-of-line comment, its quoting style (``"..."``/``'...'``) and a flow list stays a flow list.
  New strings that YAML 1.1 readers would type differently (``yes``, ``off``, ``1:30``) are quoted.
- **TOML** goes through tomlkit, which keeps everything it does not touch.
- **JSON** has no comments; it is re-serialised in the detected indentation and separators.

Keys are dot paths: ``set={"a.b": 1}`` sets ``b`` inside mapping ``a`` (created if missing). A
literal key containing dots wins when it exists (``"a.b": 1`` at the top level is updated as is); at
each level the longest existing dotted prefix is taken. New keys go at the end of their mapping
(TOML: before the first table, where TOML requires them). Unsetting the last key of a nested mapping
leaves ``a: {}``; when the whole block ends up empty (nothing but blank lines) it is removed, so
adding then removing a key restores the original file; it is kept (empty) when the body would
otherwise be read as a block of its own.

Only UTF-8 text is edited: a note holding a NUL byte, a byte that is not UTF-8, or a UTF-16/32
byte-order mark (``utf8_text``) raises ``NoteParseError``, since writing UTF-8 into it would mix
two encodings in one file.

Errors: a block that does not parse (invalid YAML/TOML/JSON, a duplicate key, not a mapping, an
unclosed fence, non-UTF-8) raises ``NoteParseError``, never a silent rewrite. An impossible edit
(``a.b`` where ``a`` is a string, an unsupported value type, ``None`` in TOML) raises
``ValidationError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import NoteParseError
from .editrules import to_newline
from .structedit import edit_json, edit_toml
from .yamledit import edit_yaml, fresh_yaml

__all__ = ["append_text", "replace_body", "section_span", "set_keys", "utf8_text"]

_BOM = b"\xef\xbb\xbf"
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


_FENCES = {b"---": "yaml", b"+++": "toml"}


_CLOSERS = {"yaml": (b"---", b"..."), "toml": (b"+++",)}


@dataclass(frozen=True)
class _Parts:
    """A note's bytes cut at the frontmatter fences; the pieces concatenate to the original."""

    bom: bytes
    format: str | None  # "yaml" | "toml" | "json" | None
    head: bytes  # the opening fence line with its newline (empty for JSON and without frontmatter)
    block: bytes  # between the fences (JSON: the object itself)
    tail: bytes  # the closing fence line with its newline (JSON: the rest of the "}" line)
    body: bytes
    newline: str

    @property
    def prefix(self) -> bytes:
        return self.bom + self.head + self.block + self.tail


def set_keys(
    data: bytes,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - the name the write API uses
    unset: Iterable[str] = (),
    *,
    path: str = "note",
) -> bytes:
    """Set and remove frontmatter keys of the note ``data``; every other byte stays as it was.

    Values may be str, int, float, bool, None, date, datetime, list/tuple and dict (nested).
    A note without frontmatter gets a YAML block. ``path`` only names the note in error messages.
    """
    changes = dict(set or {})
    removals = list(unset)
    if not changes and not removals:
        return data
    parts = _split(data, path)
    if parts.format is None:
        if not changes:
            return data
        fresh = fresh_yaml(changes, parts.newline)
        if fresh is None:
            fresh = edit_yaml("", changes, [], parts.newline, path)
        block = fresh.encode("utf-8")
        fence = b"---" + parts.newline.encode()
        return parts.bom + fence + block + fence + parts.body
    text = _decode(parts.block, path)
    if parts.format == "yaml":
        new = edit_yaml(text, changes, removals, parts.newline, path)
    elif parts.format == "toml":
        new = edit_toml(text, changes, removals, parts.newline, path)
    else:
        new = edit_json(text, changes, removals, parts.newline, path)
    if new == text:
        return data
    emptied = not new.strip() or (parts.format == "json" and not json.loads(new))
    if emptied and _opener(parts.body)[1] is None:  # kept when the body would then read as a block
        return parts.bom + parts.body
    return parts.bom + parts.head + new.encode("utf-8") + parts.tail + parts.body


def replace_body(data: bytes, body: str, *, path: str = "note") -> bytes:
    """The note ``data`` with its body replaced by ``body``; the frontmatter bytes are kept exactly.

    ``\\n`` in ``body`` becomes the file's line ending (CRLF files stay CRLF).
    """
    parts = _split(data, path)
    new = _encode_body(to_newline(body, parts.newline))
    if new and parts.format is not None and not parts.prefix.endswith((b"\n", b"\r")):
        new = parts.newline.encode() + new  # the closing fence was the last line, without a newline
    return _with_body(parts, new)


def append_text(data: bytes, text: str, under_heading: str | None = None, *, path: str = "note") -> bytes:
    """The note ``data`` with ``text`` appended, at the end or at the end of a heading's section.

    ``text`` is added as whole lines: a line break is put before it when the note does not end with
    one, and after it when ``text`` does not end with one. With ``under_heading`` (``"Log"`` or
    ``"## Log"`` to also match the level), the text goes after the last non-blank line of the first
    matching ATX heading's section, which ends at the next heading of the same or a higher level
    (headings inside code fences do not count). A missing heading is created at the end of the note
    (level 2 unless the ``#`` are given) with the text under it.
    """
    if not text:
        return data
    parts = _split(data, path)
    body = parts.body.decode("utf-8")  # _split let only UTF-8 text through
    nl = parts.newline
    text = to_newline(text, nl)
    if not text.endswith(("\n", "\r")):
        text += nl
    if under_heading is None:
        new_body = _join_lines(body, text, nl)
    else:
        level, title = _heading_arg(under_heading)
        at = _section_end(body, level, title)
        if at is None:
            new_body = _join_lines(body, f"{'#' * (level or 2)} {title}{nl}{text}", nl)
        else:
            new_body = _join_lines(body[:at], text, nl) + body[at:]
    if parts.format is not None and not body and not parts.prefix.endswith((b"\n", b"\r")):
        new_body = nl + new_body
    return _with_body(parts, _encode_body(new_body))


def _with_body(parts: _Parts, body: bytes) -> bytes:
    """``parts``' frontmatter followed by a new ``body``. A note without frontmatter whose new body
    starts with a line that opens a block (``---``, ``+++``, a lone ``{``) gets an empty YAML block
    first: text written as the body is never read back as frontmatter."""
    if parts.format is None and _opener(body)[1] is not None:
        fence = b"---" + parts.newline.encode()
        return parts.bom + fence + fence + body
    return parts.prefix + body


def utf8_text(data: bytes, path: str) -> str:
    """The note ``data`` decoded, or ``NoteParseError`` naming ``path`` when it is not UTF-8 text:
    a UTF-16/32 byte-order mark, a NUL byte or a byte that is not UTF-8. Every edit of a note's
    bytes checks this first, since UTF-8 written into such a file would mix two encodings."""
    bom = next((enc for mark, enc in _OTHER_BOMS if data.startswith(mark)), None)
    problem = None if bom is None else f"it starts with a {bom} byte-order mark"
    nul = data.find(b"\x00")
    if problem is None and nul >= 0:
        problem = f"it holds a NUL byte at offset {nul} (a binary file?)"
    if problem is None:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = f"it has a byte that is not UTF-8 at offset {exc.start}"
    raise NoteParseError(
        f"{path}: is not UTF-8 text ({problem}); mdstore writes UTF-8 only, so it left the file "
        "as it is: convert the file to UTF-8 to edit it"
    )


# --- splitting -------------------------------------------------------------------------------


def _split(data: bytes, path: str) -> _Parts:
    utf8_text(data, path)
    bom = _BOM if data.startswith(_BOM) else b""
    rest = data[len(bom) :]
    first_end = rest.find(b"\n")
    newline = "\r\n" if first_end > 0 and rest[first_end - 1 : first_end] == b"\r" else "\n"
    first, fmt = _opener(rest)
    opener = first.rstrip(b"\r\n").rstrip(b" \t")
    if fmt in ("yaml", "toml"):
        pos = len(first)
        while pos < len(rest):
            end = rest.find(b"\n", pos)
            line_end = len(rest) if end < 0 else end + 1
            line = rest[pos:line_end]
            if line.rstrip(b"\r\n").rstrip(b" \t") in _CLOSERS[fmt]:
                return _Parts(bom, fmt, first, rest[len(first) : pos], line, rest[line_end:], newline)
            pos = line_end
        fence = opener.decode()
        raise NoteParseError(f"{path}: the frontmatter opened by {fence} on line 1 is never closed")
    if fmt == "json":
        text = _decode(rest, path)
        try:
            _, end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as exc:
            raise NoteParseError(
                f"{path}: invalid JSON frontmatter at line {exc.lineno}: {exc.msg}"
            ) from None
        cut = len(text[:end].encode("utf-8"))
        nl_at = rest.find(b"\n", cut)
        after = len(rest) if nl_at < 0 else nl_at + 1
        return _Parts(bom, "json", b"", rest[:cut], rest[cut:after], rest[after:], newline)
    return _Parts(bom, None, b"", b"", b"", rest, newline)


def _opener(rest: bytes) -> tuple[bytes, str | None]:
    """The first line of ``rest`` (with its newline) and the frontmatter format it opens, if any."""
    end = rest.find(b"\n")
    first = rest if end < 0 else rest[: end + 1]
    opener = first.rstrip(b"\r\n").rstrip(b" \t")
    if opener in _FENCES:
        return first, _FENCES[opener]
    return first, "json" if opener == b"{" and end >= 0 else None


def _decode(block: bytes, path: str) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteParseError(f"{path}: the frontmatter is not valid UTF-8 ({exc.reason})") from None


def _encode_body(text: str) -> bytes:
    # surrogateescape: a str that carries undecodable bytes (os.fsdecode's) gets those bytes back.
    return text.encode("utf-8", "surrogateescape")


def _join_lines(before: str, text: str, nl: str) -> str:
    if before and not before.endswith(("\n", "\r")):
        before += nl
    return before + text


# --- sections for append_text ------------------------------------------------------------------


_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*(?:\r?\n|\r)?")


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _heading_arg(under_heading: str) -> tuple[int | None, str]:
    match = re.fullmatch(r"[ \t]*(#{1,6})[ \t]+(.*?)[ \t]*", under_heading)
    if match:
        return len(match.group(1)), match.group(2)
    return None, under_heading.strip()


def _section_end(body: str, level: int | None, title: str) -> int | None:
    """Offset in ``body`` where text appended to the section goes, or None without that heading."""
    fence: str | None = None
    found: int | None = None  # level of the heading whose section we are in
    last_content = 0
    for match in _LINE.finditer(body):
        line = match.group()
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            if found is not None:
                last_content = match.end()
            continue
        if opening:
            fence = opening.group(1)
        heading = _HEADING.fullmatch(line)
        if heading:
            this_level = len(heading.group(1))
            if found is not None and this_level <= found:
                return last_content
            text = (heading.group(2) or "").strip()
            if found is None and text == title and (level is None or level == this_level):
                found = this_level
                last_content = match.end()
                continue
        if found is not None and line.strip():
            last_content = match.end()
    return last_content if found is not None else None


def section_span(body: str, heading: str) -> tuple[int, int, int] | None:
    """Where the first ATX heading matching ``heading`` (``"Log"``, or ``"## Log"`` to also match
    the level) sits in ``body``: offsets of the heading line, of the line after it, and of the end
    of its section (the next heading of the same or a higher level, or the end). Headings inside
    code fences do not count; None when there is no such heading."""
    level, title = _heading_arg(heading)
    fence: str | None = None
    found: tuple[int, int, int] | None = None  # heading start, content start, heading level
    for match in _LINE.finditer(body):
        line = match.group()
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        matched = _HEADING.fullmatch(line)
        if not matched:
            continue
        this_level = len(matched.group(1))
        if found is not None:
            if this_level <= found[2]:
                return found[0], found[1], match.start()
            continue
        if (matched.group(2) or "").strip() == title and (level is None or level == this_level):
            found = (match.start(), match.end(), this_level)
    return None if found is None else (found[0], found[1], len(body))


# --- YAML ----------------------------------------------------------------------------------------
