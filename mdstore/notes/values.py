"""Typed values: ISO strings to dates, inline field text to numbers, nested frontmatter to rows.

The index stores every frontmatter and inline-field value as typed rows so that queries compare
``due < 2026-12-01`` and ``priority >= 2`` as dates and numbers, not text. The rules are written in
docs/vault-format.md ("Value typing").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["flatten", "normalize_value", "parse_inline_value"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?", re.I
)
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?")


def normalize_value(value: Any) -> Any:
    """An ISO 8601 date (``2024-01-05``) or date-time string as a ``date``/``datetime``; else ``value``.

    Only whole-string matches count, and only real calendar dates (``2024-02-30`` stays a string).
    """
    if type(value) is not str or len(value) < 10 or not value[0].isdigit():
        return value
    text = value.strip()
    if len(text) == 10 and _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return value
    if _DATETIME.fullmatch(text):
        try:
            return dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def parse_inline_value(text: str) -> Any:
    """Type the text of an inline field (``key:: value``).

    ``12`` → int, ``1.5`` → float, ``true``/``false`` (any case) → bool, an ISO date or date-time →
    date/datetime, nothing → None, anything else → the stripped text.
    """
    value = text.strip()
    if not value:
        return None
    first = value[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(value):
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
        return normalize_value(value)
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return value


def flatten(mapping: Mapping[str, Any]) -> list[tuple[str, int | None, Any]]:
    """One ``(key, index, value)`` row per scalar of a frontmatter mapping.

    Nested mappings give dot paths (``a.b.c``). A list gives one row per element with the element's
    index; a list of mappings gives ``key.sub`` rows carrying the index of their element (the index is
    always that of the outermost list). Empty lists and mappings give no row. Values pass through
    :func:`normalize_value`.
    """
    rows: list[tuple[str, int | None, Any]] = []
    for key, value in mapping.items():
        _flatten_into(rows, str(key), None, value)
    return rows


def _flatten_into(rows: list[tuple[str, int | None, Any]], key: str, index: int | None, value: Any) -> None:
    if isinstance(value, Mapping):
        for sub, item in value.items():
            _flatten_into(rows, f"{key}.{sub}", index, item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            _flatten_into(rows, key, i if index is None else index, item)
    else:
        rows.append((key, index, normalize_value(value)))
