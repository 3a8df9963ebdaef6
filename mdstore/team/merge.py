"""Three-way merge of two edits of one note against the revision both started from.

The body is merged line by line by git's own ``git merge-file --diff3`` (no diff code of ours),
refined for the two cases a plain line merge wrongly calls conflicts:

- **edits on adjacent lines**: git merges only changes separated by an unchanged line, so when the
  plain merge conflicts it is retried with a unique separator line before every line (adjacent
  lines are then never touching); the separators are removed from the result;
- **both sides appending at the end** (the journal/log pattern): a conflict whose base part is empty
  and that ends the file keeps both insertions, the one committed first (theirs) first.

When that still conflicts and the frontmatter of all three parses, the frontmatter is merged per key
(two people changing different keys both win) and the body is merged alone. A section between
``<!-- mdstore:generated -->`` and ``<!-- /mdstore:generated -->`` (text mdstore regenerates, such
as the summary in ``MEMORY.md``) is never a conflict: the newer side's section is taken.

Only a true overlap is a conflict: ``merge`` returns ``None`` and the caller applies the policy.
Binary content (NUL bytes) never merges.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from typing import Any

from ..errors import BackendUnavailable

GENERATED_START = b"<!-- mdstore:generated"
GENERATED_END = b"<!-- /mdstore:generated -->"
_MARK = 40  # conflict marker size: far from anything a note holds
_OURS, _BASE, _SEP, _THEIRS = (
    b"<" * _MARK + b" ours",
    b"|" * _MARK + b" base",
    b"=" * _MARK,
    b">" * _MARK + b" theirs",
)
_GENERATED = re.compile(
    re.escape(GENERATED_START) + rb"[^\n]*-->\r?\n.*?" + re.escape(GENERATED_END), re.DOTALL
)

Chunk = bytes | tuple[bytes, bytes, bytes]  # clean text, or a conflict (ours, base, theirs)


def merge(base: bytes, ours: bytes, theirs: bytes, *, ours_newer: bool = False) -> bytes | None:
    """The merge of ``ours`` and ``theirs`` (both edits of ``base``), or None for a true conflict.

    ``ours_newer`` says which generated section wins (the newer side's)."""
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    if b"\x00" in base + ours + theirs:
        return None
    base, ours, theirs = _align_generated(base, ours, theirs, ours_newer)
    appended = _both_appended(base, ours, theirs)
    if appended is not None:
        return appended
    merged = merge_lines(base, ours, theirs)
    if merged is None:
        merged = _merge_frontmatter_and_body(base, ours, theirs)
    return merged


def merge_lines(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """A line merge of the whole text (plain, then with adjacent lines separated), or None."""
    chunks = _git_merge(base, ours, theirs)
    resolved = _resolve(chunks)
    if resolved is not None:
        return resolved
    sep = _separator(base, ours, theirs)
    chunks = _git_merge(_spread(base, sep), _spread(ours, sep), _spread(theirs, sep))
    resolved = _resolve(chunks)
    if resolved is None:
        return None
    return b"".join(line for line in _lines(resolved) if line != sep)


# -- refinements -----------------------------------------------------------------------------


def _both_appended(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """Both sides only added text at the end: theirs' addition, then ours."""
    if not (ours.startswith(base) and theirs.startswith(base)):
        return None
    tail = ours[len(base) :]
    if base and not base.endswith(b"\n") and tail.startswith(b"\n") and theirs.endswith(b"\n"):
        tail = tail[1:]  # both first ended base's last line; once is enough
    elif not theirs.endswith(b"\n") and not tail.startswith(b"\n"):
        tail = b"\n" + tail
    return theirs + tail


def _resolve(chunks: list[Chunk] | None) -> bytes | None:
    """Join the chunks; a conflict is resolved only when it is a pure addition at the very end."""
    if chunks is None:
        return None
    out: list[bytes] = []
    for i, chunk in enumerate(chunks):
        if isinstance(chunk, bytes):
            out.append(chunk)
            continue
        ours, base, theirs = chunk
        at_end = all(isinstance(c, bytes) and not c.strip() for c in chunks[i + 1 :])
        if base or not at_end:
            return None
        out.append(theirs if theirs.endswith(b"\n") or not ours else theirs + b"\n")
        out.append(ours)
    return b"".join(out)


def _merge_frontmatter_and_body(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """Frontmatter merged per key, body merged by lines; None on any overlap or unreadable block."""
    from ..errors import NoteParseError
    from ..notes.fmedit import replace_body, set_keys
    from ..notes.frontmatter import read_frontmatter

    try:
        sides = [read_frontmatter(_text(data)) for data in (base, ours, theirs)]
    except UnicodeDecodeError:
        return None
    if any(side.error or side.format is None for side in sides):
        return None
    b, o, t = (side.data for side in sides)
    changes: dict[str, Any] = {}
    removed: list[str] = []
    for key in {**b, **o, **t}:
        mine, theirs_value, was = o.get(key, _MISSING), t.get(key, _MISSING), b.get(key, _MISSING)
        if mine == was or mine == theirs_value:
            continue
        if theirs_value != was:
            return None  # both changed this key, differently
        if mine is _MISSING:
            removed.append(key)
        else:
            changes[key] = mine
    bodies = [side.body.encode("utf-8", "surrogateescape") for side in sides]
    body = bodies[2] if bodies[1] == bodies[0] else merge_lines(*bodies)
    if body is None:
        body = _both_appended(*bodies)
        if body is None:
            return None
    try:
        result = set_keys(theirs, changes, removed, path="merge")
        if body != bodies[2]:
            result = replace_body(result, body.decode("utf-8", "surrogateescape"), path="merge")
    except NoteParseError:
        return None
    return result


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _align_generated(base: bytes, ours: bytes, theirs: bytes, ours_newer: bool) -> tuple[bytes, bytes, bytes]:
    """Give all three the newer side's generated section, so it can never conflict."""
    winner = _GENERATED.search(ours if ours_newer else theirs)
    if winner is None:
        return base, ours, theirs
    section = winner.group(0)

    def put(data: bytes) -> bytes:
        return _GENERATED.sub(lambda _m: section, data, count=1)

    return put(base), put(ours), put(theirs)


# -- git merge-file --------------------------------------------------------------------------


def _git_merge(base: bytes, ours: bytes, theirs: bytes) -> list[Chunk] | None:
    """``git merge-file --diff3`` cut into clean text and conflicts; None if git refuses (binary)."""
    with tempfile.TemporaryDirectory(prefix="mdstore-merge-") as tmp:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = os.path.join(tmp, name)
            with open(path, "wb") as handle:
                handle.write(data)
            names.append(path)
        try:
            done = subprocess.run(
                [
                    "git",
                    "merge-file",
                    "-p",
                    "--diff3",
                    f"--marker-size={_MARK}",
                    "-L",
                    "ours",
                    "-L",
                    "base",
                    "-L",
                    "theirs",
                    *names,
                ],
                capture_output=True,
                check=False,
            )
        except FileNotFoundError:
            raise BackendUnavailable("merging edits needs git on PATH") from None
    if done.returncode < 0 or done.returncode > 127:
        return None
    return _chunks(done.stdout)


def _chunks(output: bytes) -> list[Chunk]:
    chunks: list[Chunk] = []
    clean: list[bytes] = []
    part: list[list[bytes]] | None = None
    for line in _lines(output):
        bare = line.rstrip(b"\r\n")
        if bare == _OURS:
            chunks.append(b"".join(clean))
            clean, part = [], [[]]
        elif part is not None and bare == _BASE:
            part.append([])
        elif part is not None and bare == _SEP:
            part.append([])
        elif part is not None and bare == _THEIRS:
            ours, base, theirs = (b"".join(p) for p in part)
            chunks.append((ours, base, theirs))
            part = None
        elif part is not None:
            part[-1].append(line)
        else:
            clean.append(line)
    chunks.append(b"".join(clean))
    return [c for c in chunks if c != b""]


def _lines(data: bytes) -> list[bytes]:
    """``data`` cut after each newline (the last line may lack one)."""
    parts = data.split(b"\n")
    out = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _separator(*texts: bytes) -> bytes:
    while True:
        sep = b"\x1emdstore-merge-" + secrets.token_hex(8).encode() + b"\n"
        if not any(sep.rstrip() in text for text in texts):
            return sep


def _spread(data: bytes, sep: bytes) -> bytes:
    """A separator line before every line: no two original lines touch any more."""
    return b"".join(sep + line for line in _lines(data))


def _text(data: bytes) -> str:
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")
