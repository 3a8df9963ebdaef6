"""How the CLI prints: data to stdout (a table on a terminal, JSON lines when piped or with --json),
messages to stderr, and every MdstoreError as one ``Error: ...`` line with its exit code."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click


def dumps(value: Any) -> str:
    from ..index.rows import json_default, json_safe  # loaded with the first record printed

    return json.dumps(
        json_safe(value), default=json_default, ensure_ascii=False, sort_keys=False, allow_nan=False
    )


def use_json(flag: bool) -> bool:
    """JSON lines when asked, or when stdout is not a terminal."""
    return flag or not sys.stdout.isatty()


def emit_rows(rows: Sequence[Mapping[str, Any]], as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print records: JSON lines, or an aligned table for a person."""
    if use_json(as_json):
        out = sys.stdout
        for row in rows:
            out.write(dumps(dict(row)) + "\n")
        return
    if not rows:
        click.echo("(no results)", err=True)
        return
    cols = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    widths = fit_widths(
        [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)],
        [len(c) for c in cols],
        shutil.get_terminal_size().columns,
        [c in PATH_COLUMNS for c in cols],
    )
    clips = [_clip_middle if c in PATH_COLUMNS else _clip for c in cols]
    click.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in cells:
        click.echo(
            "  ".join(clip(v, w).ljust(w) for v, clip, w in zip(r, clips, widths, strict=True)).rstrip()
        )


PATH_COLUMNS = frozenset({"path", "source", "target", "resolved", "moved_from"})
"""Columns holding vault paths: shortened in the middle, so the file name stays visible."""

GAP = 2  # spaces between columns


def fit_widths(wanted: Sequence[int], least: Sequence[int], total: int, keep: Sequence[bool]) -> list[int]:
    """Column widths that fit ``total`` characters: the widest column gives way first, the
    ``keep`` ones (paths) last, none below its header (or 8) — a table too wide even then
    overflows rather than hide columns."""
    widths = list(wanted)
    floor = [max(min(w, 8), h) for w, h in zip(wanted, least, strict=True)]
    budget = total - GAP * (len(widths) - 1)
    while sum(widths) > budget:
        i = max(
            range(len(widths)), key=lambda k: (widths[k] > floor[k] and not keep[k], widths[k] - floor[k])
        )
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
    return widths


def emit_value(value: Any, as_json: bool) -> None:
    """Print one record or mapping: JSON, or ``key: value`` lines."""
    if use_json(as_json):
        sys.stdout.write(dumps(value) + "\n")
        return
    if isinstance(value, Mapping):
        echo_mapping(value, "")
    else:
        click.echo(_cell(value))


def echo_mapping(value: Mapping[str, Any], indent: str) -> None:
    """``key: value`` lines; a nested mapping is indented under its key, not printed as JSON."""
    for key, item in value.items():
        if isinstance(item, Mapping) and item:
            click.echo(f"{indent}{key}:")
            echo_mapping(item, indent + "  ")
        else:
            click.echo(f"{indent}{key}: {_cell(item)}")


def emit_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return dumps(dict(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("\n", " ")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _clip_middle(text: str, width: int) -> str:
    """``Projects/Long folder name/Note.md`` → ``Projects/Lo…/Note.md``: the end stays."""
    if len(text) <= width:
        return text
    if width < 2:
        return text[-width:] if width > 0 else ""
    tail = max((width - 1) * 2 // 3, 1)
    return text[: width - 1 - tail] + "…" + text[len(text) - tail :]


def message(text: str) -> None:
    click.echo(text, err=True)


def done(record: Mapping[str, Any], as_json: bool, text: str) -> None:
    """What a write did: one JSON line on stdout with ``--json``, else ``text`` on stderr."""
    if as_json:
        sys.stdout.write(dumps(dict(record)) + "\n")
    else:
        message(text)
