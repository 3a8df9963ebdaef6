"""Editing TOML and JSON frontmatter as documents: tomlkit keeps everything of TOML it does not
touch; JSON has no comments and is rewritten in its detected indentation and separators."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import NoteParseError, ValidationError
from .editrules import key_parts, same_value, to_newline


def edit_toml(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise NoteParseError(f"{path}: invalid TOML frontmatter: {exc}") from exc
    changed = False
    for dotted, value in changes.items():
        container, name = _descend(doc, key_parts(dotted), path, create=tomlkit.table)
        if name in container and same_value(_unwrap(container[name]), value):
            continue
        if value is None:
            raise ValidationError(f"{path}: TOML has no null; unset {dotted!r} instead")
        try:
            container[name] = _plain(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{path}: cannot store {value!r} in TOML frontmatter: {exc}") from exc
        changed = True
    changed = _remove(doc, removals, path) or changed
    if not changed:
        return text
    out = tomlkit.dumps(doc)
    if nl == "\r\n" and not re.search(r"(?<!\r)\n", text):
        out = to_newline(out, nl)  # tomlkit writes new lines with LF; the untouched ones keep CRLF
    return out


def edit_json(text: str, changes: dict[str, Any], removals: list[str], nl: str, path: str) -> str:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NoteParseError(f"{path}: invalid JSON frontmatter at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise NoteParseError(f"{path}: the JSON frontmatter is a {type(obj).__name__}, not an object")
    changed = False
    for dotted, value in changes.items():
        container, name = _descend(obj, key_parts(dotted), path, create=dict)
        new = _plain(value, dates_as_text=True)
        if name in container and same_value(container[name], new):
            continue
        container[name] = new
        changed = True
    changed = _remove(obj, removals, path) or changed
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
    return to_newline(out, nl)


def _remove(root: Any, removals: Iterable[str], path: str) -> bool:
    """Delete the dot-path keys that exist; True if any did."""
    changed = False
    for dotted in removals:
        try:
            container, name = _descend(root, key_parts(dotted), path, create=None)
        except (KeyError, ValidationError):
            continue
        if name in container:
            del container[name]
            changed = True
    return changed


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
