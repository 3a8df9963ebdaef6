"""Lossless edits of a note's raw bytes: frontmatter keys, the body, appended text.

Every function takes the file's bytes and returns the new bytes; nothing outside what the edit
needs changes. The body is never re-serialised (its bytes are copied), the BOM and the file's line
ending style (LF or CRLF, taken from the first line) are kept, and an edit that changes nothing
returns the input unchanged, byte for byte.

Frontmatter is recognised exactly as the reader (``notes/frontmatter.py``) does: ``---`` YAML
closed by ``---`` or ``...``, ``+++`` TOML, or a JSON object whose first line is a lone ``{``.

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
adding then removing a key restores the original file.

Errors: a block that does not parse (invalid YAML/TOML/JSON, a duplicate key, not a mapping, an
unclosed fence, non-UTF-8) raises ``NoteParseError``, never a silent rewrite. An impossible edit
(``a.b`` where ``a`` is a string, an unsupported value type, ``None`` in TOML) raises
``ValidationError``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import NoteParseError, ValidationError

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, Node

__all__ = ["append_text", "replace_body", "set_keys"]

_BOM = b"\xef\xbb\xbf"
_FENCES = {b"---": "yaml", b"+++": "toml"}
_CLOSERS = {"yaml": (b"---", b"..."), "toml": (b"+++",)}
_YAML11_SURPRISES = re.compile(
    r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|=|<<)"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
)
_WIDTH = 1 << 30  # never fold a long value onto a second line
_KEY_LINE_COMMENT = re.compile(r"[ \t]*:([ \t]+#[^\r\n]*)")
_EOL_COMMENT = re.compile(r"[ \t]+#[^\r\n]*")
_ALIAS = re.compile(r"[ \t]*:[ \t]*\*[^\s,\[\]{}]+")


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


def _fresh_yaml(changes: Mapping[str, Any], newline: str) -> str | None:
    """A new frontmatter block written by PyYAML's C emitter (~30x faster than ruamel, which matters
    for create_many), or None when it could be misread: the block is read back with mdstore's YAML 1.2
    reader and must give exactly the same values and types. Nothing exists yet to preserve."""
    import yaml

    from .frontmatter import load_yaml

    if any("." in key for key in changes):
        return None  # dot paths make nested maps: the ruamel path handles them
    try:
        text = yaml.dump(dict(changes), Dumper=_block_dumper(), sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=4096)
        back = load_yaml(text)
    except Exception:  # noqa: BLE001 - any doubt: the careful path
        return None
    if not _same(back, dict(changes)):
        return None
    return text.replace("\n", newline) if newline != "\n" else text


def _block_dumper() -> Any:
    """PyYAML's safe dumper with list items indented under their key (``tags:\\n  - a``), the
    style Obsidian and the ruamel path write."""
    global _DUMPER
    if _DUMPER is None:
        import yaml

        class IndentedDumper(yaml.SafeDumper):
            def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
                return super().increase_indent(flow, False)

        _DUMPER = IndentedDumper
    return _DUMPER


_DUMPER: Any = None


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
        fresh = _fresh_yaml(changes, parts.newline)
        if fresh is None:
            fresh = _yaml_edit("", changes, [], parts.newline, path)
        block = fresh.encode("utf-8")
        fence = b"---" + parts.newline.encode()
        return parts.bom + fence + block + fence + parts.body
    text = _decode(parts.block, path)
    if parts.format == "yaml":
        new = _yaml_edit(text, changes, removals, parts.newline, path)
    elif parts.format == "toml":
        new = _toml_edit(text, changes, removals, parts.newline, path)
    else:
        new = _json_edit(text, changes, removals, parts.newline, path)
    if new == text:
        return data
    if not new.strip() or (parts.format == "json" and not json.loads(new)):
        return parts.bom + parts.body
    return parts.bom + parts.head + new.encode("utf-8") + parts.tail + parts.body


def replace_body(data: bytes, body: str, *, path: str = "note") -> bytes:
    """The note ``data`` with its body replaced by ``body``; the frontmatter bytes are kept exactly.

    ``\\n`` in ``body`` becomes the file's line ending (CRLF files stay CRLF).
    """
    parts = _split(data, path)
    new = _encode_body(_to_newline(body, parts.newline))
    if new and parts.format is not None and not parts.prefix.endswith((b"\n", b"\r")):
        new = parts.newline.encode() + new  # the closing fence was the last line, without a newline
    return parts.prefix + new


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
    body = parts.body.decode("utf-8", "surrogateescape")
    nl = parts.newline
    text = _to_newline(text, nl)
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
    return parts.prefix + _encode_body(new_body)


# --- splitting -------------------------------------------------------------------------------


def _split(data: bytes, path: str) -> _Parts:
    bom = _BOM if data.startswith(_BOM) else b""
    rest = data[len(bom) :]
    first_end = rest.find(b"\n")
    newline = "\r\n" if first_end > 0 and rest[first_end - 1 : first_end] == b"\r" else "\n"
    first = rest if first_end < 0 else rest[: first_end + 1]
    opener = first.rstrip(b"\r\n").rstrip(b" \t")
    if opener in _FENCES:
        fmt = _FENCES[opener]
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
    if opener == b"{" and first_end >= 0:
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


def _decode(block: bytes, path: str) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteParseError(f"{path}: the frontmatter is not valid UTF-8 ({exc.reason})") from None


def _encode_body(text: str) -> bytes:
    # surrogateescape: bytes that were not UTF-8 in the original body go back unchanged.
    return text.encode("utf-8", "surrogateescape")


def _to_newline(text: str, nl: str) -> str:
    if nl == "\n":
        return text
    return re.sub(r"(?<!\r)\n", "\r\n", text)


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


# --- YAML ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """Where a dot path lands in the YAML text: an existing key, or a new key in a mapping."""

    mapping: Any  # the CommentedMap holding the key
    node: MappingNode | None  # its node (None: the block is empty)
    key: Any  # the existing key object (keeps its quoting) or the new key
    key_node: Node | None
    value_node: Node | None
    rest: tuple[str, ...]  # path below ``key`` still to create (new key) or to edit (flow mapping)
    parent: _Slot | None  # the slot whose value ``mapping`` is (None at the top level)
    top: str  # the top-level key the edit falls under


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    return yaml


_parsed = threading.local()  # text -> (data, node) for the edit in progress on this thread


def _yaml_edit(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    # The block is parsed once for the first change rather than again by each step (a ruamel
    # round-trip parse costs several ms); nothing below mutates the parsed values.
    _parsed.cache = {}
    try:
        return _yaml_edit_cached(text, changes, removals, nl, path)
    finally:
        _parsed.cache = None


def _yaml_edit_cached(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    original, node = _yaml_load(text, path)
    if node is not None and node.flow_style:
        raise ValidationError(f"{path}: flow-style frontmatter ({{...}}) cannot be edited line by line")
    touched: set[str] = set()
    for dotted, value in changes.items():
        text = _yaml_set(text, _components(dotted), value, nl, path, touched)
    for dotted in removals:
        text = _yaml_unset(text, _components(dotted), nl, path, touched)
    if touched:
        _yaml_verify(original, text, changes, removals, touched, path)
    return text


def _components(dotted: str) -> tuple[str, ...]:
    if not isinstance(dotted, str) or not dotted:
        raise ValidationError(f"frontmatter keys must be non-empty strings, not {dotted!r}")
    parts = tuple(dotted.split("."))
    return parts if all(parts) else (dotted,)


def _yaml_load(text: str, path: str) -> tuple[Any, MappingNode | None]:
    cache = getattr(_parsed, "cache", None)
    if cache is not None and text in cache:
        return cache[text]
    result = _yaml_parse(text, path)
    if cache is not None:
        cache[text] = result
    return result


def _yaml_parse(text: str, path: str) -> tuple[Any, MappingNode | None]:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.nodes import MappingNode

    yaml = _yaml()
    try:
        data = yaml.load(text)
        node = yaml.compose(text)
    except Exception as exc:  # ruamel raises several unrelated classes (scanner, parser, duplicates)
        detail = " ".join(str(exc).split())
        raise NoteParseError(f"{path}: invalid YAML frontmatter: {detail}") from exc
    if data is None:
        return CommentedMap(), None
    if not isinstance(data, dict) or not isinstance(node, MappingNode):
        raise NoteParseError(f"{path}: the YAML frontmatter is a {type(data).__name__}, not a mapping")
    return data, node


def _resolve(data: Any, node: MappingNode | None, parts: tuple[str, ...], path: str) -> _Slot:
    from ruamel.yaml.nodes import MappingNode

    mapping, mnode, parent, top, i = data, node, None, "", 0
    while True:
        found = None
        for j in range(len(parts), i, -1):
            name = ".".join(parts[i:j])
            pair = _find_pair(mnode, name)
            if pair is not None:
                found = (j, name, pair)
                break
        if found is None:
            new_top = top or parts[i]
            return _Slot(mapping, mnode, parts[i], None, None, parts[i + 1 :], parent, new_top)
        j, name, (key_node, value_node) = found
        key = next(k for k in mapping if isinstance(k, str) and k == name)
        slot = _Slot(mapping, mnode, key, key_node, value_node, parts[j:], parent, top or name)
        if j == len(parts):
            return slot
        child = mapping[key]
        if isinstance(value_node, MappingNode) and not value_node.flow_style and isinstance(child, dict):
            if not _is_alias(key_node, value_node):
                mapping, mnode, parent, top, i = child, value_node, slot, slot.top, j
                continue
        if isinstance(child, dict):
            return slot  # a flow mapping (or alias): the whole key is rewritten
        shown = ".".join(parts)
        raise ValidationError(
            f"{path}: cannot set {shown!r}: {name!r} holds a {type(child).__name__}, not a mapping"
        )


def _find_pair(mnode: MappingNode | None, name: str) -> tuple[Node, Node] | None:
    if mnode is None:
        return None
    for key_node, value_node in mnode.value:
        if key_node.tag == "tag:yaml.org,2002:str" and key_node.value == name:
            return key_node, value_node
    return None


def _is_alias(key_node: Node, value_node: Node) -> bool:
    # An alias value is the anchored node itself, which starts before this key.
    return bool(value_node.start_mark.index < key_node.end_mark.index)


def _yaml_set(text: str, parts: tuple[str, ...], value: Any, nl: str, path: str, touched: set[str]) -> str:
    data, node = _yaml_load(text, path)
    slot = _resolve(data, node, parts, path)
    if slot.key_node is not None:
        old = slot.mapping[slot.key]
        if not slot.rest:
            if _same(old, value):
                return text
            new = _to_yaml(value, old, path)
        else:  # inside a flow mapping: rebuild that mapping with the nested key set
            import copy

            new = copy.deepcopy(old)
            target = new
            for part in slot.rest[:-1]:
                if not isinstance(target.get(part), dict):
                    target[part] = _to_yaml({}, None, path)
                target = target[part]
            if slot.rest[-1] in target and _same(target[slot.rest[-1]], value):
                return text
            target[slot.rest[-1]] = _to_yaml(value, target.get(slot.rest[-1]), path)
        touched.add(slot.top)
        return _replace_key(text, slot, new, node, nl)
    new = _to_yaml(value, None, path)
    for part in reversed(slot.rest):
        new = _to_yaml({part: new}, None, path)
    touched.add(slot.top)
    return _insert_key(text, slot, new, node, nl)


def _yaml_unset(text: str, parts: tuple[str, ...], nl: str, path: str, touched: set[str]) -> str:
    data, node = _yaml_load(text, path)
    try:
        slot = _resolve(data, node, parts, path)
    except ValidationError:
        return text  # a.b under a scalar a: there is no such key to remove
    if slot.key_node is None:
        return text
    touched.add(slot.top)
    if slot.rest:  # inside a flow mapping
        import copy

        new = copy.deepcopy(slot.mapping[slot.key])
        target = new
        for part in slot.rest[:-1]:
            target = target.get(part)
            if not isinstance(target, dict):
                return text
        if slot.rest[-1] not in target:
            return text
        del target[slot.rest[-1]]
        return _replace_key(text, slot, new, node, nl)
    if slot.parent is not None and len(slot.mapping) == 1:
        # Removing the only key of a nested mapping: keep the mapping, now empty.
        return _replace_key(text, slot.parent, _to_yaml({}, None, path), node, nl)
    start, end = _key_span(text, slot)
    return text[:start] + text[end:]


def _replace_key(text: str, slot: _Slot, new: Any, doc: MappingNode | None, nl: str) -> str:
    assert slot.key_node is not None and slot.value_node is not None
    start, end = _key_span(text, slot)
    key_at = slot.key_node.start_mark.index
    column = key_at - start
    lines = _fragment(slot.key, new, doc)
    comment = _carried_comment(text, slot, end)
    if comment and (len(lines) == 1 or lines[0].endswith(":")):
        lines[0] += comment
    fragment = text[start:key_at] + _indent(lines, column, nl)[column:]
    if not text[:end].endswith(("\n", "\r")):
        fragment = fragment[: -len(nl)]
    return text[:start] + fragment + text[end:]


def _insert_key(text: str, slot: _Slot, new: Any, doc: MappingNode | None, nl: str) -> str:
    lines = _fragment(slot.key, new, doc)
    if slot.parent is None:
        column = _column(text, slot.node.value[0][0].start_mark.index) if slot.node else 0
        at = len(text)
    else:
        last_key, last_value = slot.node.value[-1] if slot.node else (None, None)
        assert last_key is not None and last_value is not None
        column = _column(text, last_key.start_mark.index)
        at = _value_end_line(text, last_key, last_value)
    before = text[:at]
    if before and not before.endswith(("\n", "\r")):
        before += nl
    return before + _indent(lines, column, nl) + text[at:]


def _key_span(text: str, slot: _Slot) -> tuple[int, int]:
    assert slot.key_node is not None and slot.value_node is not None
    start = _line_start(text, slot.key_node.start_mark.index)
    return start, _value_end_line(text, slot.key_node, slot.value_node)


def _value_end_line(text: str, key_node: Node, value_node: Node) -> int:
    """Offset just past the line break of the last line holding ``value_node``."""
    return _line_end(text, _value_end(text, key_node, value_node) - 1)


def _value_end(text: str, key_node: Node | None, node: Node) -> int:
    """Offset just past the last character of ``node`` (its trailing comments excluded)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if key_node is not None and _is_alias(key_node, node):
        alias = _ALIAS.match(text, key_node.end_mark.index)
        return alias.end() if alias else key_node.end_mark.index
    if isinstance(node, ScalarNode):
        if node.value == "" and node.style is None:  # an empty value: the line of its key
            if key_node is not None:
                return int(key_node.end_mark.index)
            return text.rfind("-", 0, node.start_mark.index) + 1
        start, end = node.start_mark.index, node.end_mark.index
        if node.style in ("|", ">") and "+" in _block_header(text, start):
            return int(end)  # keep-chomping: trailing blank lines are content
        return start + len(text[start:end].rstrip())
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        if isinstance(node, MappingNode):
            last_key, last_value = node.value[-1]
            return _value_end(text, last_key, last_value)
        return _value_end(text, None, node.value[-1])
    return int(node.end_mark.index)


def _block_header(text: str, start: int) -> str:
    match = re.compile(r"[|>][0-9+-]*").match(text, start)
    return match.group() if match else ""


def _carried_comment(text: str, slot: _Slot, end: int) -> str:
    """The end-of-line comment of a replaced key, to put back on its new first line."""
    assert slot.key_node is not None and slot.value_node is not None
    key_end = slot.key_node.end_mark.index
    value_end = _value_end(text, slot.key_node, slot.value_node)
    if _line_end(text, key_end) >= value_end:  # key and value on one line
        rest = text[value_end:end].rstrip("\r\n")
        match = _EOL_COMMENT.fullmatch(rest)
        if match:
            return match.group()
        empty_value = _KEY_LINE_COMMENT.fullmatch(rest)  # ``key:  # comment`` with no value
        return empty_value.group(1) if empty_value else ""
    match = _KEY_LINE_COMMENT.fullmatch(text[key_end : _line_end(text, key_end)].rstrip("\r\n"))
    return match.group(1) if match else ""


def _line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def _line_end(text: str, index: int) -> int:
    index = max(index, 0)
    match = re.compile(r"\r\n|\r|\n").search(text, index)
    return len(text) if match is None else match.end()


def _column(text: str, index: int) -> int:
    return index - _line_start(text, index)


def _indent(lines: list[str], column: int, nl: str) -> str:
    pad = " " * column
    return "".join((pad + line if line else line) + nl for line in lines)


def _fragment(key: Any, value: Any, doc: MappingNode | None) -> list[str]:
    """``key: value`` serialised by ruamel in the block's indentation style, as lines without breaks."""
    import io

    from ruamel.yaml.comments import CommentedMap

    yaml = _yaml()
    mapping, sequence, offset = _detect_indent(doc)
    yaml.indent(mapping=mapping, sequence=max(sequence, offset + 2), offset=offset)
    holder = CommentedMap()
    holder[key] = value
    out = io.StringIO()
    yaml.dump(holder, out)
    return out.getvalue().rstrip("\n").split("\n")


def _detect_indent(doc: MappingNode | None) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) of the first nested block mapping/sequence."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    pending: list[MappingNode] = [doc] if doc is not None else []
    while pending and (mapping is None or sequence is None):
        parent = pending.pop(0)
        for key_node, value_node in parent.value:
            base = key_node.start_mark.column
            if not isinstance(value_node, MappingNode | SequenceNode) or value_node.flow_style:
                continue
            if not value_node.value or _is_alias(key_node, value_node):
                continue
            if isinstance(value_node, MappingNode):
                if mapping is None:
                    mapping = value_node.value[0][0].start_mark.column - base
                pending.append(value_node)
            elif isinstance(value_node, SequenceNode) and sequence is None:
                first = value_node.value[0]
                sequence = (first.start_mark.column - base, value_node.start_mark.column - base)
    if sequence is None:
        sequence = (4, 2) if mapping is None else (mapping + 2, mapping)
    mapping = mapping if mapping and mapping > 0 else 2
    return mapping, max(sequence[0], 2), max(sequence[1], 0)


def _to_yaml(value: Any, old: Any, path: str) -> Any:
    """``value`` as a ruamel object, taking the style of the value it replaces (quotes, flow)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if value is None or isinstance(value, bool | int | float | dt.date):
        return value
    if isinstance(value, str):
        return _yaml_str(value, old)
    if isinstance(value, list | tuple):
        olds = list(old) if isinstance(old, list) else []
        seq = CommentedSeq(
            _to_yaml(item, olds[i] if i < len(olds) else None, path) for i, item in enumerate(value)
        )
        if isinstance(old, CommentedSeq) and old.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, Mapping):
        result = CommentedMap()
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{path}: frontmatter keys must be strings, not {key!r}")
            result[key] = _to_yaml(item, old.get(key) if isinstance(old, Mapping) else None, path)
        if isinstance(old, CommentedMap) and old.fa.flow_style():
            result.fa.set_flow_style()
        return result
    raise ValidationError(f"{path}: cannot store a {type(value).__name__} in frontmatter: {value!r}")


_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


def _yaml_str(value: str, old: Any) -> Any:
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )

    if any(ch in value for ch in _YAML_BREAKS) or not value.isprintable() and "\n" not in value:
        # Characters YAML reads as line breaks (NEL, LS, PS) or that are not printable only survive
        # a round trip as escapes, which only double quotes have.
        return DoubleQuotedScalarString(value)
    single_line = "\n" not in value and "\r" not in value
    if isinstance(old, DoubleQuotedScalarString | SingleQuotedScalarString) and single_line:
        return type(old)(value)
    if isinstance(old, LiteralScalarString) and not single_line and _literal_ok(value):
        return LiteralScalarString(value)
    if _YAML11_SURPRISES.fullmatch(value):
        return SingleQuotedScalarString(value)
    return value


def _literal_ok(value: str) -> bool:
    lines = value.split("\n")
    return (
        "\r" not in value
        and not value.startswith((" ", "\t"))
        and all(line == line.rstrip() for line in lines)
        and all(ch == "\t" or ch == "\n" or ord(ch) >= 0x20 for ch in value)
    )


def _same(old: Any, new: Any) -> bool:
    """Equal in value and in type, as a reader would see them (1 is not True, a date not a datetime)."""
    if isinstance(new, bool) or isinstance(old, bool):
        return isinstance(new, bool) and isinstance(old, bool) and old == new
    if new is None or old is None:
        return new is None and old is None
    if isinstance(new, dt.datetime) or isinstance(old, dt.datetime):
        return (
            isinstance(new, dt.datetime)
            and isinstance(old, dt.datetime)
            and (old.tzinfo is None) == (new.tzinfo is None)
            and old == new
            and old.utcoffset() == new.utcoffset()
        )
    if isinstance(new, dt.date):
        return isinstance(old, dt.date) and old == new
    if isinstance(new, int):
        return isinstance(old, int) and old == new
    if isinstance(new, float):
        return isinstance(old, float) and (old == new or (math.isnan(old) and math.isnan(new)))
    if isinstance(new, str):
        return isinstance(old, str) and str(old) == new
    if isinstance(new, list | tuple):
        return (
            isinstance(old, list | tuple)
            and len(old) == len(new)
            and all(_same(a, b) for a, b in zip(old, new, strict=True))
        )
    if isinstance(new, Mapping):
        return (
            isinstance(old, Mapping)
            and set(old.keys()) == set(new.keys())
            and all(_same(old[key], new[key]) for key in new)
        )
    return False


def _yaml_verify(
    original: Any, text: str, changes: dict[str, Any], removals: list[str], touched: set[str], path: str
) -> None:
    """Re-read the edited block: the edits must be there and every untouched key unchanged.

    A guard against YAML this line editor cannot handle (anchors shared with other keys, exotic
    syntax): the edit is refused rather than written wrong.
    """
    try:
        data, node = _yaml_load(text, path)
    except NoteParseError as exc:
        raise ValidationError(f"{path}: this frontmatter edit would break the YAML; edit it by hand") from exc
    problems = [key for key in original if key not in touched and not _same(data.get(key), original[key])]
    problems += [key for key in data if key not in original and key not in touched]
    for dotted, value in changes.items():
        if dotted in removals:
            continue
        slot = _resolve(data, node, _components(dotted), path)
        if slot.key_node is None or not _same(_lookup(slot.mapping[slot.key], slot.rest), value):
            problems.append(dotted)
    if problems:
        shown = ", ".join(sorted(map(str, problems)))
        raise ValidationError(f"{path}: cannot edit the frontmatter losslessly (keys affected: {shown})")


def _lookup(value: Any, rest: tuple[str, ...]) -> Any:
    for part in rest:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


# --- TOML and JSON -----------------------------------------------------------------------------


def _toml_edit(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise NoteParseError(f"{path}: invalid TOML frontmatter: {exc}") from exc
    changed = False
    for dotted, value in changes.items():
        container, name = _descend(doc, _components(dotted), path, create=tomlkit.table)
        if name in container and _same(_unwrap(container[name]), value):
            continue
        if value is None:
            raise ValidationError(f"{path}: TOML has no null; unset {dotted!r} instead")
        try:
            container[name] = _plain(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{path}: cannot store {value!r} in TOML frontmatter: {exc}") from exc
        changed = True
    for dotted in removals:
        try:
            container, name = _descend(doc, _components(dotted), path, create=None)
        except (KeyError, ValidationError):
            continue
        if name in container:
            del container[name]
            changed = True
    if not changed:
        return text
    out = tomlkit.dumps(doc)
    if nl == "\r\n" and not re.search(r"(?<!\r)\n", text):
        out = _to_newline(out, nl)  # tomlkit writes new lines with LF; the untouched ones keep CRLF
    return out


def _json_edit(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NoteParseError(f"{path}: invalid JSON frontmatter at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise NoteParseError(f"{path}: the JSON frontmatter is a {type(obj).__name__}, not an object")
    changed = False
    for dotted, value in changes.items():
        container, name = _descend(obj, _components(dotted), path, create=dict)
        new = _plain(value, dates_as_text=True)
        if name in container and _same(container[name], new):
            continue
        container[name] = new
        changed = True
    for dotted in removals:
        try:
            container, name = _descend(obj, _components(dotted), path, create=None)
        except (KeyError, ValidationError):
            continue
        if name in container:
            del container[name]
            changed = True
    if not changed:
        return text
    lines = text.splitlines()
    indent: str | int | None = None
    if len(lines) > 1:
        lead = lines[1][: len(lines[1]) - len(lines[1].lstrip())]
        indent = lead if "\t" in lead else len(lead)
    item_sep = ", " if indent is None and re.search(r",\s", text) else ","
    key_sep = ": " if re.search(r'"\s*:\s', text) or not re.search(r'":', text) else ":"
    ascii_only = "\\u" in text and not re.search(r"[^\x00-\x7f]", text)
    out = json.dumps(obj, indent=indent, separators=(item_sep, key_sep), ensure_ascii=ascii_only)
    return _to_newline(out, nl)


def _descend(root: Any, parts: tuple[str, ...], path: str, create: Any) -> tuple[Any, str]:
    """The container and key a dot path lands on (longest existing dotted prefix at each level)."""
    container, i = root, 0
    while True:
        for j in range(len(parts), i, -1):
            name = ".".join(parts[i:j])
            if name in container:
                break
        else:
            j, name = i + 1, parts[i]
            if j == len(parts):
                return container, name
            if create is None:
                raise KeyError(name)
            container[name] = create()
        if j == len(parts):
            return container, name
        child = container[name]
        if not isinstance(child, Mapping):
            shown = ".".join(parts)
            raise ValidationError(f"{path}: cannot set {shown!r}: {name!r} holds a {type(child).__name__}")
        container, i = child, j


def _unwrap(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _plain(value: Any, *, dates_as_text: bool = False) -> Any:
    """``value`` checked and made of plain types (TOML and JSON have no styles to carry over)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat() if dates_as_text else value
    if isinstance(value, list | tuple):
        return [_plain(item, dates_as_text=dates_as_text) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item, dates_as_text=dates_as_text) for key, item in value.items()}
    raise ValidationError(f"cannot store a {type(value).__name__} in frontmatter: {value!r}")
