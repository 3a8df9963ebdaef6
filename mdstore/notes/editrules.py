"""What every frontmatter editor (YAML, TOML, JSON) agrees on: how a dot-path key is read, when a
new value counts as the value already there (so an edit that changes nothing writes nothing), and
how text takes the note's newline style."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from ..errors import ValidationError


def key_parts(dotted: str) -> tuple[str, ...]:
    if not isinstance(dotted, str) or not dotted:
        raise ValidationError(f"frontmatter keys must be non-empty strings, not {dotted!r}")
    parts = tuple(dotted.split("."))
    return parts if all(parts) else (dotted,)


def same_value(old: Any, new: Any) -> bool:
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
            and all(same_value(a, b) for a, b in zip(old, new, strict=True))
        )
    if isinstance(new, Mapping):
        return (
            isinstance(old, Mapping)
            and set(old.keys()) == set(new.keys())
            and all(same_value(old[key], new[key]) for key in new)
        )
    return False


def to_newline(text: str, nl: str) -> str:
    if nl == "\n":
        return text
    return re.sub(r"(?<!\r)\n", "\r\n", text)
