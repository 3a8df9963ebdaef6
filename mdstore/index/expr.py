"""The filter language shared by ``Vault.find`` and ``mdstore find``.

One filter is one string: ``status = active``, ``priority >= 2``, ``due < 2026-12-01``,
``tags contains idea``, ``status in (active, waiting)``, ``due between 2026-01-01 and 2026-03-31``,
``reviewer exists``, ``#project`` (tag, nested match), ``-#archived`` (without tag). Values are typed:
numbers, ``true``/``false``, dates ``YYYY-MM-DD``, datetimes ISO 8601, ``today``/``now``, quoted
strings, else bare text. See docs/query.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ..errors import QueryError

OPERATORS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "between",
    "contains",
    "not contains",
    "exists",
    "not exists",
)
_OP_ALIASES = {"==": "=", "<>": "!="}
_KEY = r"(?P<key>[^\s=!<>~(),\"']+)"
_SYMBOL_OP = re.compile(r"\s*(?P<op>[=!<>~]+)\s*")
_WORD_OP = re.compile(
    r"\s+(?P<op>not\s+in|in|between|not\s+contains|contains|not\s+exists|exists)\b\s*", re.I
)
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_DATETIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TAG = re.compile(r"^[^\s#]+$")
_RELATIVE = re.compile(r"^([+-])(\d+)\s*([dwh])$", re.I)
_OR = re.compile(r"\s+or(?:\s+|$)", re.I)


@dataclass(frozen=True)
class Filter:
    """One condition: ``key op value``; ``op`` is one of OPERATORS, or "tag" / "not tag", or "or"
    (``value`` is then a tuple of Filters, any of which may match; ``key`` is empty)."""

    key: str
    op: str
    value: Any = None

    def __str__(self) -> str:
        if self.op == "or":
            return " or ".join(str(f) for f in self.value)
        if self.op in ("tag", "not tag"):
            return ("-#" if self.op == "not tag" else "#") + str(self.value)
        if self.op in ("exists", "not exists"):
            return f"{self.key} {self.op}"
        return f"{self.key} {self.op} {self.value!r}"


def parse_filter(text: str) -> Filter:
    """Parse one filter string; a malformed one raises QueryError naming it."""
    source = text
    text = text.strip()
    if not text:
        raise QueryError("empty filter")
    parts = _split_or(text)
    if len(parts) > 1:
        alternatives = []
        for part in parts:
            if not part.strip():
                raise QueryError(f"filter {source!r}: 'or' needs a filter on each side")
            try:
                alternatives.append(parse_filter(part))
            except QueryError as exc:
                raise QueryError(
                    f"filter {source!r}: {part!r} is not a filter ({exc}); quote a value that contains ' or '"
                ) from None
        return Filter("", "or", tuple(alternatives))
    if text.startswith(("-#", "!#")) or text.lower().startswith("not #"):
        tag = text.split("#", 1)[1].strip()
        return Filter("tags", "not tag", _tag(tag, source))
    if text.startswith("#"):
        return Filter("tags", "tag", _tag(text[1:], source))
    m = re.match(_KEY, text)
    if not m:
        raise QueryError(f"cannot read filter {source!r}: expected 'key op value' or '#tag'")
    key = m.group("key")
    rest = text[m.end() :]
    word = _WORD_OP.match(rest)
    if word:
        op = " ".join(word.group("op").lower().split())
        value_text = rest[word.end() :]
    else:
        sym = _SYMBOL_OP.match(rest)
        if not sym or not rest.strip():
            raise QueryError(f"filter {source!r} has no operator (use {', '.join(OPERATORS)})")
        op = _OP_ALIASES.get(sym.group("op"), sym.group("op"))
        value_text = rest[sym.end() :]
    if op not in OPERATORS:
        raise QueryError(f"unknown operator {op!r} in filter {source!r} (use {', '.join(OPERATORS)})")
    value_text = value_text.strip()
    if op in ("exists", "not exists"):
        if value_text:
            raise QueryError(f"filter {source!r}: '{op}' takes no value")
        return Filter(key, op)
    if not value_text:
        raise QueryError(f"filter {source!r} has no value after {op!r}")
    if op in ("in", "not in"):
        opened, closed = value_text.startswith("("), value_text.endswith(")")
        if opened != closed:
            missing = "closing ')'" if opened else "opening '('"
            raise QueryError(f"filter {source!r}: the list after {op!r} has no {missing}")
        inner = value_text[1:-1] if opened else value_text
        items = [filter_value(part, source) for part in _split_list(inner)]
        if not items:
            raise QueryError(f"filter {source!r}: '{op}' needs at least one value")
        return Filter(key, op, tuple(items))
    if op == "between":
        parts = re.split(r"\s+and\s+", value_text, flags=re.I)
        if len(parts) != 2:
            raise QueryError(f"filter {source!r}: write 'between LOW and HIGH'")
        return Filter(key, op, (filter_value(parts[0], source), filter_value(parts[1], source)))
    return Filter(key, op, filter_value(value_text, source))


def _split_or(text: str) -> list[str]:
    """``text`` cut at each `` or `` that is outside quotes and parentheses."""
    parts: list[str] = []
    start = depth = 0
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch.isspace():
            m = _OR.match(text, i)
            if m:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return parts


def filter_value(text: str, source: str = "", what: str = "filter") -> Any:
    """A filter's value (or an SQL parameter's): a literal (``parse_value``) or a time relative to
    now. ``-7d`` and ``+2w`` are days (a date, compared by whole day like ``today``), ``-12h``
    hours (a datetime)."""
    m = _RELATIVE.match(text.strip())
    if not m:
        return parse_value(text, source, what)
    sign = -1 if m.group(1) == "-" else 1
    amount, unit = int(m.group(2)), m.group(3).lower()
    try:
        if unit == "h":
            return dt.datetime.now().replace(microsecond=0) + dt.timedelta(hours=sign * amount)
        days = amount * (7 if unit == "w" else 1)
        return dt.date.today() + dt.timedelta(days=sign * days)
    except OverflowError:
        raise QueryError(
            f"relative date {text.strip()!r}{_within(what, source)} is out of range "
            "(dates run from 0001-01-01 to 9999-12-31)"
        ) from None


def parse_value(text: str, source: str = "", what: str = "filter") -> Any:
    """A typed literal: quoted text, true/false/null, number, date, datetime, today/now, or bare text.
    A malformed date names ``source``, the ``what`` it came from (a filter, a --set pair)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if lowered == "today":
        return dt.date.today()
    if lowered == "now":
        return dt.datetime.now().replace(microsecond=0)
    if _NUMBER.match(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(_pad_date(text))
        except ValueError:
            raise QueryError(f"malformed date {text!r}{_within(what, source)} (use YYYY-MM-DD)") from None
    if _DATETIME.match(text):
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(f"malformed datetime {text!r}{_within(what, source)} (use ISO 8601)") from None
        return value
    return text


def _within(what: str, source: str) -> str:
    return f" in {what} {source!r}" if source else ""


def _pad_date(text: str) -> str:
    y, m, d = text.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def _split_list(text: str) -> list[str]:
    parts: list[str] = []
    buf = ""
    quote = ""
    for ch in text:
        if quote:
            buf += ch
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            buf += ch
        elif ch == ",":
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return [p.strip() for p in parts if p.strip()]


def _tag(text: str, source: str) -> str:
    tag = text.strip().lstrip("#").lower()
    if not tag or not _TAG.match(tag):
        raise QueryError(f"malformed tag filter {source!r}")
    return tag


def parse_sort(spec: str | list[str] | tuple[str, ...] | None) -> list[tuple[str, bool]]:
    """``"-modified"`` or ``["priority", "-due"]`` (or comma-separated) → [(key, descending)]."""
    if spec is None:
        return []
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[tuple[str, bool]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        desc = item.startswith("-")
        key = item.lstrip("+-").strip()
        if not key or not re.fullmatch(r"[^\s]+", key):
            raise QueryError(f"malformed sort key {item!r}")
        out.append((key, desc))
    return out
