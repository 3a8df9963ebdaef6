"""Line-by-line editing of a YAML frontmatter block (the lossless writer's YAML half).

The block is composed by libyaml with the reader's own YAML 1.2 typing (``frontmatter.py``), which
says where each key and value start and end and how each value is styled; only the lines of a
touched key are replaced, by a fragment that ruamel.yaml serialises in the block's detected
indentation and the replaced value's style (quotes, flow). Comments, quoting, key order,
flow/block style and blank lines elsewhere are the original characters. The edited block is read
again — by the reader's loader, so what is checked is what the index will see — and must hold the
new values and every untouched key unchanged, else the edit is refused. A brand-new block (a note
without frontmatter) is written by PyYAML's faster emitter when reading it back gives the same
values.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import NoteParseError, ValidationError
from .editrules import key_parts, same_value

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from yaml.nodes import MappingNode, Node

_YAML11_SURPRISES = re.compile(
    r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|=|<<)"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
)


_WIDTH = 1 << 30  # never fold a long value onto a second line


_KEY_LINE_COMMENT = re.compile(r"[ \t]*:([ \t]+#[^\r\n]*)")


_EOL_COMMENT = re.compile(r"[ \t]+#[^\r\n]*")


_ALIAS = re.compile(r"[ \t]*:[ \t]*\*[^\s,\[\]{}]+")


def fresh_yaml(changes: Mapping[str, Any], newline: str) -> str | None:
    """A new frontmatter block written by PyYAML's C emitter (~30x faster than ruamel, which matters
    for create_many), or None when it could be misread: the block is read back with mdstore's YAML 1.2
    reader and must give exactly the same values and types. Nothing exists yet to preserve."""
    import yaml

    from .frontmatter import load_yaml

    if any("." in key for key in changes):
        return None  # dot paths make nested maps: the ruamel path handles them
    try:
        text = yaml.dump(
            dict(changes),
            Dumper=_block_dumper(),
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=4096,
        )
        back = load_yaml(text)
    except Exception:  # noqa: BLE001 - any doubt: the careful path
        return None
    if not same_value(back, dict(changes)):
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


@dataclass(frozen=True)
class _Slot:
    """Where a dot path lands in the YAML text: an existing key, or a new key in a mapping."""

    mapping: Any  # the dict holding the key (as the reader loads it)
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


def edit_yaml(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    # The block is parsed once for the first change rather than again by each step; nothing below
    # mutates the parsed values.
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
        text = _yaml_set(text, key_parts(dotted), value, nl, path, touched)
    for dotted in removals:
        text = _yaml_unset(text, key_parts(dotted), nl, path, touched)
    if touched:
        _yaml_verify(original, text, changes, removals, touched, path)
    return text


def _yaml_load(text: str, path: str) -> tuple[Any, MappingNode | None]:
    cache = getattr(_parsed, "cache", None)
    if cache is not None and text in cache:
        return cache[text]
    result = _yaml_parse(text, path)
    if cache is not None:
        cache[text] = result
    return result


def _yaml_parse(text: str, path: str) -> tuple[Any, MappingNode | None]:
    """(the values as the reader loads them, the composed node tree with positions and styles)."""
    import yaml
    from yaml.nodes import MappingNode

    from .frontmatter import compose_yaml, load_yaml

    try:
        data = load_yaml(text)
        node = compose_yaml(text)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise NoteParseError(f"{path}: invalid YAML frontmatter: {detail}") from exc
    except (ValueError, TypeError, OverflowError) as exc:  # a value the constructors refuse
        raise NoteParseError(f"{path}: invalid YAML frontmatter: {exc}") from exc
    if data is None:
        return {}, None
    if not isinstance(data, dict) or not isinstance(node, MappingNode):
        raise NoteParseError(f"{path}: the YAML frontmatter is a {type(data).__name__}, not a mapping")
    duplicate = _duplicate_key(node)
    if duplicate is not None:
        # readers disagree on which one counts: an edit could change the note's meaning
        raise NoteParseError(f"{path}: invalid YAML frontmatter: duplicate key {duplicate!r}")
    return data, node


def _duplicate_key(root: Node) -> str | None:
    from yaml.nodes import MappingNode, SequenceNode

    pending, seen_nodes = [root], set()
    while pending:
        node = pending.pop()
        if id(node) in seen_nodes:
            continue  # an alias repeats a node: look at it once
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            keys: set[tuple[str, str]] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node.value, str):
                    if (key_node.tag, key_node.value) in keys:
                        return str(key_node.value)
                    keys.add((key_node.tag, key_node.value))
                pending.append(value_node)
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
    return None


def _resolve(data: Any, node: MappingNode | None, parts: tuple[str, ...], path: str) -> _Slot:
    from yaml.nodes import MappingNode

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
            if same_value(old, value):
                return text
            new = _to_yaml(value, slot.value_node, path)
        else:  # inside a flow mapping: rebuild that mapping with the nested key set
            import copy

            rebuilt = copy.deepcopy(old)
            target = rebuilt
            for part in slot.rest[:-1]:
                if not isinstance(target.get(part), dict):
                    target[part] = {}
                target = target[part]
            if slot.rest[-1] in target and same_value(target[slot.rest[-1]], value):
                return text
            target[slot.rest[-1]] = value
            new = _to_yaml(rebuilt, slot.value_node, path)
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

        rebuilt = copy.deepcopy(slot.mapping[slot.key])
        target = rebuilt
        for part in slot.rest[:-1]:
            target = target.get(part)
            if not isinstance(target, dict):
                return text
        if slot.rest[-1] not in target:
            return text
        del target[slot.rest[-1]]
        return _replace_key(text, slot, _to_yaml(rebuilt, slot.value_node, path), node, nl)
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
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if key_node is not None and _is_alias(key_node, node):
        alias = _ALIAS.match(text, key_node.end_mark.index)
        return alias.end() if alias else key_node.end_mark.index
    if isinstance(node, ScalarNode):
        if node.value == "" and not node.style:  # an empty value: the line of its key
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
    from yaml.nodes import MappingNode, SequenceNode

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


def _to_yaml(value: Any, old: Node | None, path: str) -> Any:
    """``value`` as a ruamel object, taking the style of the node it replaces (quotes, flow)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from yaml.nodes import MappingNode, SequenceNode

    if value is None or isinstance(value, bool | int | float | dt.date):
        return value
    if isinstance(value, str):
        return _yaml_str(value, old)
    if isinstance(value, list | tuple):
        olds = list(old.value) if isinstance(old, SequenceNode) else []
        seq = CommentedSeq(
            _to_yaml(item, olds[i] if i < len(olds) else None, path) for i, item in enumerate(value)
        )
        if isinstance(old, SequenceNode) and old.flow_style:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, Mapping):
        nodes = {k.value: v for k, v in old.value} if isinstance(old, MappingNode) else {}
        result = CommentedMap()
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{path}: frontmatter keys must be strings, not {key!r}")
            result[key] = _to_yaml(item, nodes.get(key), path)
        if isinstance(old, MappingNode) and old.flow_style:
            result.fa.set_flow_style()
        return result
    raise ValidationError(f"{path}: cannot store a {type(value).__name__} in frontmatter: {value!r}")


_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


def _yaml_str(value: str, old: Node | None) -> Any:
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )
    from yaml.nodes import ScalarNode

    if any(ch in value for ch in _YAML_BREAKS) or not value.isprintable() and "\n" not in value:
        # Characters YAML reads as line breaks (NEL, LS, PS) or that are not printable only survive
        # a round trip as escapes, which only double quotes have.
        return DoubleQuotedScalarString(value)
    single_line = "\n" not in value and "\r" not in value
    style = old.style if isinstance(old, ScalarNode) and isinstance(old.value, str) else None
    if style == '"' and single_line:
        return DoubleQuotedScalarString(value)
    if style == "'" and single_line:
        return SingleQuotedScalarString(value)
    if style == "|" and not single_line and _literal_ok(value):
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
    problems = [
        key for key in original if key not in touched and not same_value(data.get(key), original[key])
    ]
    problems += [key for key in data if key not in original and key not in touched]
    for dotted, value in changes.items():
        if dotted in removals:
            continue
        slot = _resolve(data, node, key_parts(dotted), path)
        if slot.key_node is None or not same_value(_lookup(slot.mapping[slot.key], slot.rest), value):
            problems.append(dotted)
    if problems:
        shown = ", ".join(sorted(map(str, problems)))
        raise ValidationError(f"{path}: cannot edit the frontmatter losslessly (keys affected: {shown})")


def _lookup(value: Any, rest: tuple[str, ...]) -> Any:
    for part in rest:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


# --- TOML and JSON -----------------------------------------------------------------------------
