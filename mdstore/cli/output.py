"""How the CLI prints: data to stdout (a table on a terminal, JSON lines when piped or with --json),
messages to stderr, and every MdstoreError as one ``Error: ...`` line with its exit code."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

from ..index.rows import json_default, json_safe


def dumps(value: Any) -> str:
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
    widths = [min(60, max(len(c), *(len(r[i]) for r in cells))) for i, c in enumerate(cols)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in cells:
        click.echo("  ".join(_clip(v, w).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def emit_value(value: Any, as_json: bool) -> None:
    """Print one record or mapping: JSON, or ``key: value`` lines."""
    if use_json(as_json):
        sys.stdout.write(dumps(value) + "\n")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            click.echo(f"{key}: {_cell(item)}")
    else:
        click.echo(_cell(value))


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
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("\n", " ")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def message(text: str) -> None:
    click.echo(text, err=True)
