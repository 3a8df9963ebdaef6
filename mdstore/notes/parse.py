"""From the bytes of one file to a :class:`~mdstore.notes.model.Note`.

``parse_note`` never raises for what a file contains: a problem becomes ``Note.error`` (one message)
and everything that could still be read is kept, so a broken note stays findable (DESIGN §2.6).
It is a plain top-level function of (path, bytes) so that it can run in worker processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .frontmatter import Frontmatter, read_frontmatter
from .markdown import Extracted, extract, find_wikilinks, normalize_tag
from .model import Link, Note, ParseIssue, content_hash

__all__ = ["DEFAULT_MAX_BYTES", "parse_issue", "parse_note"]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_BINARY_SNIFF = 8192

# Note.error starts with one of these; parse_issue maps it to the ParseIssue kind.
_TOO_LARGE = "file is "
_BINARY = "binary file"
_ENCODING = "not valid UTF-8"
_FRONTMATTER = ("frontmatter", "invalid YAML", "invalid TOML", "invalid JSON")

_TAG_SPLIT = re.compile(r"[,\s]+")
_NOT_ONLY_NUMBERS = re.compile(r"[^\d/\-]")


def parse_note(
    path: str,
    data: bytes,
    *,
    mtime: float = 0.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    link_style: str = "obsidian",
) -> Note:
    """Parse the file at vault-relative ``path`` whose content is ``data``.

    ``link_style="dendron"`` reads ``[[alias|target]]`` the way Dendron writes it (Obsidian, the
    default, writes ``[[target|alias]]``).

    Text is decoded as UTF-8 (a BOM is dropped; CRLF and CR line ends are read as LF, so ``body``
    uses LF and every line number is that of the file). ``hash`` and ``size`` are those of ``data``.
    """
    size = len(data)
    digest = content_hash(data)
    if size > max_bytes:
        limit = _megabytes(max_bytes)
        error = f"file is {_megabytes(size)} MB, over the {limit} MB limit; indexed by path only"
        return _path_only(path, size, mtime, digest, error)
    if b"\x00" in data[:_BINARY_SNIFF]:
        return _path_only(path, size, mtime, digest, "binary file (NUL bytes); indexed by path only")

    errors: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text, encoding = _decode_legacy(data)
        errors.append(f"not valid UTF-8 (first bad byte at offset {exc.start}); read as {encoding}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")

    front = read_frontmatter(text)
    if front.error:
        errors.append(front.error)
    try:
        found = extract(front.body, first_line=front.body_line, link_style=link_style)
    except Exception as exc:  # noqa: BLE001 - a parser bug on odd input must not lose the note
        found = Extracted()
        errors.append(f"could not parse Markdown: {type(exc).__name__}: {exc}")

    data_fm = front.data
    frontmatter_links = _frontmatter_links(front, link_style)
    return Note(
        path=path,
        title=_title(data_fm, found, path),
        frontmatter=data_fm,
        body=front.body,
        tags=_tags(data_fm, found.tags),
        aliases=_aliases(data_fm),
        links=tuple(frontmatter_links) + found.links if frontmatter_links else found.links,
        headings=found.headings,
        tasks=found.tasks,
        fields=found.fields,
        block_ids=found.block_ids,
        word_count=found.word_count,
        size=size,
        mtime=mtime,
        hash=digest,
        frontmatter_format=front.format,
        error="; ".join(errors) if errors else None,
    )


def _decode_legacy(data: bytes) -> tuple[str, str]:
    """Text that is not UTF-8, and how it was read. A file with no valid multi-byte UTF-8 sequence
    was written in an 8-bit code page: Windows-1252 (a superset of Latin-1's printable characters;
    its five unassigned bytes are read as Latin-1). A file that is UTF-8 but for a few stray bytes
    stays UTF-8, with U+FFFD for those bytes."""
    lenient = data.decode("utf-8", errors="replace")
    if any(ch > "\x7f" and ch != "\ufffd" for ch in lenient):
        return lenient, "UTF-8 with U+FFFD for the bad bytes"
    return data.decode("latin-1").translate(_CP1252), "Windows-1252"


def _cp1252_table() -> dict[int, str]:
    table = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            pass  # unassigned in Windows-1252: kept as Latin-1 reads it
    return table


_CP1252 = _cp1252_table()


def parse_issue(note: Note) -> ParseIssue | None:
    """The problem recorded on ``note`` as a ParseIssue with its kind, or None for a clean note."""
    if note.error is None:
        return None
    message = note.error
    if message.startswith(_TOO_LARGE):
        kind = "too-large"
    elif message.startswith(_BINARY):
        kind = "binary"
    elif message.startswith(_ENCODING):
        kind = "encoding"
    elif message.startswith(_FRONTMATTER):
        kind = "frontmatter"
    else:
        kind = "parse"
    return ParseIssue(path=note.path, message=message, kind=kind)


def _path_only(path: str, size: int, mtime: float, digest: str, error: str) -> Note:
    return Note(
        path=path,
        title=_stem(path),
        frontmatter={},
        body="",
        size=size,
        mtime=mtime,
        hash=digest,
        error=error,
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _stem(path: str) -> str:
    base = path.rpartition("/")[2]
    stem, dot, _ = base.rpartition(".")
    return stem if dot and stem else base


def _title(data: dict[str, Any], found: Extracted, path: str) -> str:
    title = data.get("title")
    if title is not None and not isinstance(title, (dict, list)):
        text = str(title).strip()
        if text:
            return text
    for heading in found.headings:
        if heading.level == 1 and heading.text:
            return heading.text
    return _stem(path)


def _strings(value: Any) -> Iterable[str]:
    """The strings of a scalar or a list of scalars (None dropped, numbers as text)."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]
    if isinstance(value, dict):
        return ()
    return (str(value),)


def _tags(data: dict[str, Any], inline: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for key in ("tags", "tag"):
        for text in _strings(data.get(key)):
            for part in _TAG_SPLIT.split(text):
                tag = normalize_tag(part)
                if tag and _NOT_ONLY_NUMBERS.search(tag):
                    seen.setdefault(tag, None)
    if not seen:
        return inline
    for tag in inline:
        seen.setdefault(tag, None)
    return tuple(seen)


def _aliases(data: dict[str, Any]) -> tuple[str, ...]:
    # A string is one alias (names like "Smith, John" must survive); several aliases need a list.
    seen: dict[str, None] = {}
    for key in ("aliases", "alias"):
        for text in _strings(data.get(key)):
            alias = text.strip()
            if alias:
                seen.setdefault(alias, None)
    return tuple(seen)


def _frontmatter_links(front: Frontmatter, link_style: str) -> list[Link]:
    """Obsidian reads ``[[links]]`` in frontmatter string values; each gets the line of its top key."""
    if "[[" not in front.raw or not front.data:
        return []
    links: list[Link] = []
    for key, value in front.data.items():
        texts = [s for s in _all_strings(value) if "[[" in s]
        if not texts:
            continue
        line = _key_line(front, key)
        for text in texts:
            links.extend(find_wikilinks(text, line, link_style=link_style))
    return links


def _all_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_strings(item)


def _key_line(front: Frontmatter, key: str) -> int:
    name = re.escape(key)
    if front.format == "yaml":
        pattern = rf"^(?:{name}|'{name}'|\"{name}\")[ \t]*:"
    elif front.format == "toml":
        pattern = rf"^[ \t]*(?:{name}|'{name}'|\"{name}\")[ \t]*="
    else:
        pattern = rf"\"{name}\"[ \t]*:"
    match = re.search(pattern, front.raw, re.M)
    if match is None:
        return front.raw_line
    return front.raw_line + front.raw.count("\n", 0, match.start())
