"""Unified diffs of two versions of a note, in the format ``git diff`` prints."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\n\\ No newline at end of file\n"


def unified_diff(
    old: tuple[str, bytes] | None, new: tuple[str, bytes] | None, old_label: str, new_label: str
) -> str:
    """Diff ``(path, bytes)`` pairs; ``None`` is a side where the note does not exist.

    Returns ``""`` when both sides are equal. Bytes that are not UTF-8 are shown replaced; a
    side holding NUL bytes is treated as binary, as git does.
    """
    old_bytes = old[1] if old else b""
    new_bytes = new[1] if new else b""
    if old_bytes == new_bytes and (old is None) == (new is None):
        return ""
    old_name = f"a/{old[0]}" if old else "/dev/null"
    new_name = f"b/{new[0]}" if new else "/dev/null"
    if b"\x00" in old_bytes or b"\x00" in new_bytes:
        return f"Binary files {old_name} ({old_label}) and {new_name} ({new_label}) differ\n"
    lines = difflib.unified_diff(
        _lines(old_bytes), _lines(new_bytes), old_name, new_name, old_label, new_label, lineterm="\n"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _lines(data: bytes) -> list[str]:
    # Split on "\n" only (str.splitlines would also split on form feeds and U+2028).
    parts = data.decode("utf-8", "replace").split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        # A last line without its newline differs from the same line with one; git marks it so.
        lines.append(parts[-1] + _NO_NEWLINE)
    return lines
