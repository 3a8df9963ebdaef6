"""Realistic, seeded edits to notes of a vault, for the sync and watch benchmarks.

    from edit import make_edit, make_edits
    edit = make_edit(vault, seed=7)            # one edit to one note, chosen by the seed
    edits = make_edits(vault, count=100, seed=7)

An edit either appends a line to the body (a sentence, sometimes with a tag, a wikilink or a task)
or changes one frontmatter value (``status``, ``priority``, ``rating``, ``due``) in place, touching
only that line the way a person would in an editor. The same vault and seed give the same edits.
``mode="atomic"`` writes like editors that save to a temp file and rename it over the note;
``mode="inplace"`` rewrites the file itself (vim with ``backupcopy=yes``, most scripts).

Standard library only, like ``genvault.py``.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

try:
    from genvault import TAG_POOL, vocabulary
except ImportError:  # imported as part of a package (benchmarks.edit)
    from .genvault import TAG_POOL, vocabulary  # type: ignore[no-redef]

__all__ = ["Edit", "append_line", "make_edit", "make_edits", "note_paths", "set_frontmatter_value"]

_WORDS = vocabulary()[:1500]
_STATUSES = ["draft", "active", "paused", "review", "done", "archived"]
_IGNORED_DIRS = {".git", ".mdstore", ".obsidian", ".trash", "node_modules"}


@dataclass(frozen=True)
class Edit:
    path: Path
    kind: str  # "append" | "frontmatter"
    detail: str  # the appended line, or "key: old -> new"


def note_paths(vault: Path) -> list[Path]:
    """The vault's Markdown notes in a stable order (sorted vault-relative paths)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(vault):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS)
        found.extend(Path(folder) / f for f in files if f.endswith(".md"))
    return sorted(found, key=lambda p: p.relative_to(vault).as_posix())


def _sentence(rng: random.Random, paths: list[Path] | None) -> str:
    words = rng.choices(_WORDS, k=rng.randint(5, 16))
    text = " ".join(words).capitalize() + "."
    roll = rng.random()
    if roll < 0.2:
        text = text[:-1] + f" #{rng.choice(TAG_POOL)}."
    elif roll < 0.35 and paths:
        text = text[:-1] + f" [[{rng.choice(paths).stem}]]."
    elif roll < 0.5:
        text = f"- [ ] {text[:-1]}"
    return text


def _write(path: Path, data: bytes, mode: str) -> None:
    if mode == "inplace":
        with open(path, "r+b") as handle:
            handle.write(data)
            handle.truncate()
        return
    if mode != "atomic":
        raise ValueError(f"mode must be 'inplace' or 'atomic', not {mode!r}")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def append_line(
    path: Path, rng: random.Random, mode: str = "inplace", paths: list[Path] | None = None
) -> str:
    """Append one line of prose (or a task, a tag, a wikilink to one of ``paths``); return it."""
    data = path.read_bytes()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    line = _sentence(rng, paths)
    if data and not data.endswith(newline):
        data += newline
    _write(path, data + newline + line.encode("utf-8") + newline, mode)
    return line


def _new_value(key: str, old: str, rng: random.Random) -> str:
    if key == "status":
        return rng.choice([s for s in _STATUSES if s != old])
    if key == "priority":
        return str(rng.choice([p for p in range(1, 6) if str(p) != old]))
    if key == "rating":
        return f"{rng.uniform(0, 5):.1f}"
    return f"{rng.choice((2026, 2027))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def set_frontmatter_value(path: Path, rng: random.Random, mode: str = "inplace") -> str:
    """Change one scalar frontmatter value on its own line (adding ``status`` if none exists).

    Returns ``"key: old -> new"``. Only that line changes; every other byte is kept.
    """
    text = path.read_bytes().decode("utf-8")
    match = re.match(r"---\r?\n(.*?)(\r?\n)---\r?\n", text, re.S)
    if match is None:  # no frontmatter, or an empty one: start it with a status
        new = rng.choice(_STATUSES)
        body = re.sub(r"\A---\r?\n---\r?\n", "", text)
        _write(path, f"---\nstatus: {new}\n---\n{body}".encode(), mode)
        return f"status: None -> {new}"
    block, newline = match.group(1), match.group(2)
    lines = block.split(newline)
    editable = [i for i, line in enumerate(lines) if re.match(r"(status|priority|rating|due): \S", line)]
    if not editable:
        new = rng.choice(_STATUSES)
        lines.append(f"status: {new}")
        detail = f"status: None -> {new}"
    else:
        i = rng.choice(editable)
        key, _, rest = lines[i].partition(": ")
        old, hash_, comment = rest.partition(" #")  # keep a trailing YAML comment
        new = _new_value(key, old.strip(), rng)
        lines[i] = f"{key}: {new}" + (f" #{comment}" if hash_ else "")
        detail = f"{key}: {old.strip()} -> {new}"
    start, end = match.span(1)
    _write(path, (text[:start] + newline.join(lines) + text[end:]).encode("utf-8"), mode)
    return detail


def make_edit(
    vault: Path,
    seed: int,
    mode: str = "inplace",
    paths: list[Path] | None = None,
    rng: random.Random | None = None,
) -> Edit:
    """Make one edit to one note of ``vault``; the note and the edit are chosen by ``seed``.

    Pass ``paths`` (from ``note_paths``) to skip walking the vault on every call, and ``rng`` to
    continue one random stream over many edits (``seed`` is then ignored).
    """
    rng = rng or random.Random(seed)
    paths = paths if paths is not None else note_paths(Path(vault))
    if not paths:
        raise FileNotFoundError(f"no notes in {vault}")
    path = rng.choice(paths)
    if rng.random() < 0.6:
        return Edit(path, "append", append_line(path, rng, mode, paths))
    return Edit(path, "frontmatter", set_frontmatter_value(path, rng, mode))


def make_edits(vault: Path, count: int, seed: int, mode: str = "inplace") -> list[Edit]:
    """``count`` edits (a note may be edited more than once), deterministic for a vault and seed."""
    rng = random.Random(seed)
    paths = note_paths(Path(vault))
    return [make_edit(vault, seed, mode, paths, rng) for _ in range(count)]
