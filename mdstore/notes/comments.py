"""Obsidian comments: ``%%hidden text%%``, inline or over several lines.

Obsidian keeps a comment out of everything it reads from a note (links, tags, tasks, headings), so
the parser reads the body with each comment blanked. Blanking keeps every newline and the length of
every line, so line numbers and offsets still point into the file. A ``%%`` inside a code span or a
fenced code block is text, not a comment; a comment that is never closed runs to the end of the note.
"""

from __future__ import annotations

import re

__all__ = ["hide_comments"]

_MARK = "%%"
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")
_TICKS = re.compile(r"`+")


def hide_comments(body: str) -> str:
    """``body`` with every comment (its ``%%`` marks included) turned into spaces."""
    if _MARK not in body:
        return body
    out: list[str] = []
    fence = ""  # the opening fence of the code block we are in
    in_comment = False
    for line in body.split("\n"):
        if in_comment:
            in_comment, line = _continue_comment(line)
        elif fence:
            opened = _FENCE.match(line)
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                if not line[opened.end() :].strip():
                    fence = ""
        else:
            opened = _FENCE.match(line)
            if opened and not (opened.group(1)[0] == "`" and "`" in line[opened.end() :]):
                fence = opened.group(1)
            else:
                in_comment, line = _hide_in_line(line)
        out.append(line)
    return "\n".join(out)


def _continue_comment(line: str) -> tuple[bool, str]:
    """A line that starts inside a comment: (still in a comment at its end, the line blanked)."""
    end = line.find(_MARK)
    if end < 0:
        return True, " " * len(line)
    end += len(_MARK)
    still, rest = _hide_in_line(line[end:])
    return still, " " * end + rest


def _hide_in_line(line: str) -> tuple[bool, str]:
    """Blank the comments that start on this line, outside code spans; say whether one stays open."""
    if _MARK not in line:
        return False, line
    pos = 0
    while True:
        mark = line.find(_MARK, pos)
        if mark < 0:
            return False, line
        tick = line.find("`", pos, mark)
        if tick >= 0:  # a code span may start before the mark: skip it whole, marks and all
            run = _TICKS.match(line, tick)
            assert run is not None
            close = _closing_ticks(line, run.end(), len(run.group()))
            pos = close if close >= 0 else run.end()
            continue
        end = line.find(_MARK, mark + len(_MARK))
        if end < 0:
            return True, line[:mark] + " " * (len(line) - mark)
        end += len(_MARK)
        line = line[:mark] + " " * (end - mark) + line[end:]
        pos = end


def _closing_ticks(line: str, start: int, size: int) -> int:
    """The end of the backtick run of exactly ``size`` that closes a code span, or -1."""
    for run in _TICKS.finditer(line, start):
        if len(run.group()) == size:
            return run.end()
    return -1
