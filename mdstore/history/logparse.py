"""Parsing the NUL-separated output of ``git log -z`` (pure functions, no git here).

Paths come from ``-z`` output, so git never quotes them: names with spaces, quotes or non-ASCII
characters arrive as raw bytes and are decoded like the file system does (``os.fsdecode``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

# Starts every commit record; a byte sequence no commit message or header will contain.
_MARK = b"\x1e\x1emdstore\x1f"
_MARK_FORMAT = "%x1e%x1emdstore%x1f"


def log_format(*fields: str) -> str:
    """A ``--format=`` value: the record mark, then ``fields`` (git placeholders) split by 0x1f.

    Put a free-text field such as ``%B`` last: it is the only one allowed to contain 0x1f.
    """
    return "--format=" + _MARK_FORMAT + "%x1f".join(fields)


@dataclass(frozen=True)
class LogEntry:
    fields: tuple[str, ...]
    files: tuple[tuple[str, str, str | None], ...]  # (kind, path, old_path); kind "" for --name-only


def parse_log(out: bytes, nfields: int, name_status: bool) -> Iterator[LogEntry]:
    """Records of ``git log -z --format=log_format(...)`` with ``--name-status`` or ``--name-only``."""
    for chunk in out.split(_MARK)[1:]:
        header, _, rest = chunk.partition(b"\x00")
        fields = header.decode("utf-8", "replace").split("\x1f", nfields - 1)
        if rest.startswith(b"\n"):
            rest = rest[1:]
        tokens = rest.split(b"\x00")
        if tokens and tokens[-1] == b"":
            tokens.pop()
        yield LogEntry(tuple(fields), tuple(_files(tokens, name_status)))


def _files(tokens: list[bytes], name_status: bool) -> Iterator[tuple[str, str, str | None]]:
    if not name_status:
        for token in tokens:
            yield "", os.fsdecode(token), None
        return
    i = 0
    while i < len(tokens):
        status = tokens[i].decode("ascii", "replace")
        kind = status[:1]
        if kind in ("R", "C") and i + 2 < len(tokens):
            yield kind, os.fsdecode(tokens[i + 2]), os.fsdecode(tokens[i + 1])
            i += 3
        elif i + 1 < len(tokens):
            yield kind, os.fsdecode(tokens[i + 1]), None
            i += 2
        else:
            break


def parse_ls_tree(out: bytes) -> Iterator[tuple[str, str, str]]:
    """``(type, object, path)`` of each entry of ``git ls-tree -z``."""
    for record in out.split(b"\x00"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        _mode, kind, obj = meta.decode("ascii").split(" ")
        yield kind, obj, os.fsdecode(path)


def parse_name_status(out: bytes) -> list[tuple[str, str, str | None]]:
    """``(kind, path, old_path)`` of each entry of ``git diff --name-status -z``."""
    tokens = out.split(b"\x00")
    if tokens and tokens[-1] == b"":
        tokens.pop()
    return list(_files(tokens, name_status=True))
