"""Conflict copies: when two edits of one note truly overlap, the path keeps the version committed
first and the other becomes ``Note (conflict 2026-12-05 ann).md`` beside it: an ordinary note,
pushed like any other, until someone merges it by hand and deletes it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

POLICIES = ("keep-both", "mine", "theirs", "fail")
_COPY = re.compile(
    r"^(?P<stem>.*) \(conflict (?P<date>\d{4}-\d{2}-\d{2}) (?P<author>[^()]*?)(?: \d+)?\)(?P<ext>\.[^./]*)?$"
)
_UNSAFE = re.compile(r'[\\/:*?"<>|()\x00-\x1f]+')


def copy_name(path: str, author: str, taken: Iterable[str], today: datetime | None = None) -> str:
    """A free conflict-copy path for ``path`` (case-insensitively distinct from ``taken``)."""
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    day = (today or datetime.now(UTC)).strftime("%Y-%m-%d")
    who = _UNSAFE.sub(" ", author).strip() or "unknown"
    used = {p.lower() for p in taken}
    n = 1
    while True:
        label = f"{who}" if n == 1 else f"{who} {n}"
        candidate = f"{stem} (conflict {day} {label})" + (f".{ext}" if ext else "")
        full = f"{folder}/{candidate}" if folder else candidate
        if full.lower() not in used:
            return full
        n += 1


def parse_copy(path: str) -> tuple[str, str, str] | None:
    """(original path, date, author) of a conflict copy's path, or None for any other path."""
    folder, _, name = path.rpartition("/")
    match = _COPY.match(name)
    if match is None:
        return None
    original = match["stem"] + (match["ext"] or "")
    return (f"{folder}/{original}" if folder else original), match["date"], match["author"]
