"""Turning parsed notes into the column-oriented rows of the index tables (bulk inserts via Arrow,
never row by row), and typing values for the ``properties`` table."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, NamedTuple

from ..notes.links import link_key
from ..notes.model import Link, Note
from ..notes.values import flatten, normalize_value
from .scan import FileStat

# Column names and DuckDB-compatible Arrow types of each table, in table order.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "notes": [
        ("path", "string"),
        ("folder", "string"),
        ("name", "string"),
        ("key", "string"),
        ("title", "string"),
        ("size", "int64"),
        ("mtime", "float64"),
        ("modified", "timestamp"),
        ("created", "timestamp"),
        ("hash", "string"),
        ("words", "int32"),
        ("frontmatter", "string"),
        ("frontmatter_format", "string"),
        ("body", "string"),
        ("error", "string"),
        ("digests", "string"),
    ],
    "properties": [
        ("path", "string"),
        ("key", "string"),
        ("idx", "int32"),
        ("type", "string"),
        ("v_text", "string"),
        ("v_num", "float64"),
        ("v_bool", "bool"),
        ("v_time", "timestamp"),
        ("source", "string"),
        ("line", "int32"),
    ],
    "tags": [("path", "string"), ("tag", "string")],
    "aliases": [("path", "string"), ("alias", "string"), ("key", "string")],
    "links": [
        ("path", "string"),
        ("ord", "int32"),
        ("line", "int32"),
        ("kind", "string"),
        ("target", "string"),
        ("anchor", "string"),
        ("alias", "string"),
        ("resolved", "string"),
        ("key", "string"),
    ],
    "headings": [("path", "string"), ("level", "int32"), ("text", "string"), ("line", "int32")],
    "tasks": [
        ("path", "string"),
        ("line", "int32"),
        ("status", "string"),
        ("done", "bool"),
        ("text", "string"),
        ("section", "string"),
        ("fields", "string"),
    ],
    "blocks": [("path", "string"), ("block_id", "string")],
    "attachments": [
        ("path", "string"),
        ("folder", "string"),
        ("name", "string"),
        ("key", "string"),
        ("ext", "string"),
        ("size", "int64"),
        ("mtime", "float64"),
    ],
    "parse_errors": [("path", "string"), ("kind", "string"), ("message", "string")],
}


def json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def iso_duration(value: dt.timedelta) -> str:
    """An ISO 8601 duration: ``P3D``, ``PT1H30M``, ``-P1DT0.5S``; zero is ``PT0S``."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    secs = f"{seconds}.{value.microseconds:06d}".rstrip("0") if value.microseconds else str(seconds)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n) + (
        f"{secs}S" if seconds or value.microseconds else ""
    )
    days = f"{value.days}D" if value.days else ""
    if not days and not time:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{time}" if time else "")


def json_safe(value: Any) -> Any:
    """``value`` with every NaN and infinity (which JSON cannot hold) as None, at any depth."""
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False)


def typed(value: Any) -> tuple[str, str | None, float | None, bool | None, dt.datetime | None]:
    """(type, v_text, v_num, v_bool, v_time) of one scalar property value."""
    value = normalize_value(value)
    if value is None:
        return ("null", None, None, None, None)
    if isinstance(value, bool):
        return ("bool", "true" if value else "false", None, value, None)
    if isinstance(value, int | float):
        num = float(value)
        if num != num or num in (float("inf"), float("-inf")):
            return ("number", str(value), None, None, None)
        return ("number", str(value), num, None, None)
    if isinstance(value, dt.datetime):
        when = naive_utc(value)
        if when is None:  # its UTC time is outside years 1-9999: kept as its text, like an impossible date
            return ("text", value.isoformat(), None, None, None)
        return ("datetime", value.isoformat(), None, None, when)
    if isinstance(value, dt.date):
        return ("date", value.isoformat(), None, None, dt.datetime(value.year, value.month, value.day))
    if isinstance(value, str):
        return ("text", value, None, None, None)
    return ("json", to_json(value), None, None, None)


def naive_utc(value: dt.datetime) -> dt.datetime | None:
    """``value`` as a naive UTC time (a naive one as it is); None when a zone moves it outside
    years 1-9999, which Python cannot hold (``0001-01-01T00:00+05:00``)."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        return None


def created_of(note: Note) -> dt.datetime:
    """frontmatter ``created`` (a date, datetime, ISO text or epoch number), else the file's mtime."""
    raw = note.frontmatter.get("created") if isinstance(note.frontmatter, dict) else None
    kind, _, num, _, when = (
        typed(raw) if raw is not None and not isinstance(raw, list | dict) else ("", 0, 0, 0, 0)
    )
    if when is not None and kind in ("date", "datetime"):
        return when  # type: ignore[return-value]
    if kind == "number" and isinstance(num, float) and num > 0:
        seconds = num / 1000 if num > 1e11 else num  # epoch millis (Dendron) or seconds
        try:
            return dt.datetime.fromtimestamp(seconds)
        except (OverflowError, OSError, ValueError):
            pass
    return dt.datetime.fromtimestamp(note.mtime)


class RowSet:
    """Column lists for every table, filled note by note, then handed to DuckDB as Arrow tables."""

    def __init__(self) -> None:
        self.cols: dict[str, dict[str, list[Any]]] = {
            table: {name: [] for name, _ in cols} for table, cols in COLUMNS.items()
        }
        # the same lists in column order: a cold build adds millions of rows
        self._lists = {table: list(cols.values()) for table, cols in self.cols.items()}

    def add(self, table: str, *values: Any) -> None:
        for column, value in zip(self._lists[table], values, strict=True):
            column.append(value)

    def add_rows(self, table: str, path: str, rows: list[tuple[Any, ...]]) -> None:
        """``rows`` of one note (without their ``path`` column) into ``table``."""
        if not rows:
            return
        lists = self._lists[table]
        lists[0].extend([path] * len(rows))
        for column, values in zip(lists[1:], zip(*rows, strict=True), strict=True):
            column.extend(values)

    def extend(self, tables: Mapping[str, Mapping[str, list[Any]]]) -> None:
        """Append the columns of another RowSet's tables (``cols``, as a parse worker sends them)."""
        for table, columns in tables.items():
            for name, values in columns.items():
                self.cols[table][name].extend(values)

    def count(self, table: str) -> int:
        return len(self.cols[table]["path"])

    def arrow(self, table: str) -> Any:
        import pyarrow as pa

        types = {
            "string": pa.string(),
            "int64": pa.int64(),
            "int32": pa.int32(),
            "float64": pa.float64(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us"),
        }
        schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS[table]])
        return pa.table(self.cols[table], schema=schema)

    def add_note(
        self,
        note: Note,
        resolve: Callable[[Link, str], str | None],
        digests: Mapping[str, str] | None = None,
        skip: Collection[str] = (),
        tables: Mapping[str, list[tuple[Any, ...]]] | None = None,
    ) -> None:
        """The note's row and its rows in the per-note tables, except the tables in ``skip`` (their
        rows in the index are already these). ``tables`` (``note_tables``) and ``digests`` (one
        ``digest`` a table) are given when the caller made them already; the digests are stored
        in ``notes.digests``."""
        p = note.path
        if tables is None:
            tables = note_tables(note)
        if digests is None:
            digests = {table: digest(rows) for table, rows in tables.items()}
        for table, rows in tables.items():
            if table in skip:
                continue
            if table == "links":
                rows = [
                    (
                        ord_,
                        line,
                        kind,
                        target,
                        anchor,
                        alias,
                        None if link.kind == "url" else resolve(link, p),
                        key,
                    )
                    for link, (ord_, line, kind, target, anchor, alias, key) in zip(
                        note.links, rows, strict=True
                    )
                ]
            self.add_rows(table, p, rows)
        self.add(
            "notes",
            p,
            p.rpartition("/")[0],
            note.name,
            link_key(p),
            note.title,
            note.size,
            note.mtime,
            dt.datetime.fromtimestamp(note.mtime),
            created_of(note),
            note.hash,
            note.word_count,
            to_json(note.frontmatter),
            note.frontmatter_format,
            note.body,
            note.error,
            json.dumps(digests, sort_keys=True),
        )

    def add_unreadable(self, path: str, message: str) -> None:
        """The ``parse_errors`` row of a file that could not be read (kept until it can be)."""
        self.add("parse_errors", path, "unreadable", message)

    def add_attachment(self, path: str, stat: FileStat) -> None:
        folder, _, base = path.rpartition("/")
        ext = base.rpartition(".")[2].lower() if "." in base else ""
        mtime, size = stat
        self.add("attachments", path, folder, base, link_key(path), ext, size, mtime)


def note_tables(note: Note) -> dict[str, list[tuple[Any, ...]]]:
    """The note's rows in each per-note table, without the ``path`` column; ``links`` rows also
    lack ``resolved`` (it depends on the other notes): (ord, line, kind, target, anchor, alias, key)."""
    properties: list[tuple[Any, ...]] = []
    if isinstance(note.frontmatter, dict):
        for key, idx, value in flatten(note.frontmatter):
            properties.append((key, idx, *typed(value), "frontmatter", None))
    # A field written on a task belongs to the task (tasks.fields), not to the note.
    task_fields = {(f.key, f.line) for t in note.tasks for f in t.fields}
    for f in note.fields:
        if (f.key, f.line) not in task_fields:
            properties.append((f.key, None, *typed(f.value), "inline", f.line))
    tasks = []
    for t in note.tasks:
        fields = {f.key: f.value for f in t.fields}
        tasks.append((t.line, t.status, t.done, t.text, t.section, to_json(fields) if fields else None))
    errors: list[tuple[Any, ...]] = []
    if note.error:
        from ..notes.parse import parse_issue

        issue = parse_issue(note)
        if issue is not None:
            errors.append((issue.kind, issue.message))
    return {
        "properties": properties,
        "tags": [(tag,) for tag in note.tags],
        "aliases": [(alias, link_key(alias)) for alias in note.aliases],
        "links": [
            (
                ord_,
                link.line,
                link.kind,
                link.target,
                link.anchor,
                link.alias,
                None if link.kind == "url" else link_key(link.target),
            )
            for ord_, link in enumerate(note.links)
        ],
        "headings": [(h.level, h.text, h.line) for h in note.headings],
        "tasks": tasks,
        "blocks": [(block,) for block in note.block_ids],
        "parse_errors": errors,
    }


def digest(rows: list[tuple[Any, ...]]) -> str:
    """A short fingerprint of one table's rows for one note: equal rows, equal digest."""
    if not rows:  # most tables of most notes: computed once
        return _EMPTY_DIGEST
    return hashlib.blake2b(repr(rows).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


_EMPTY_DIGEST = hashlib.blake2b(repr([]).encode("utf-8"), digest_size=8).hexdigest()


class Known(NamedTuple):
    """What a sync worked out about a note the index holds already (``tables.unchanged_tables``)."""

    digests: dict[str, str]  # its new table digests
    same: frozenset[str]  # the per-note tables whose stored rows are these already
    tables: dict[str, list[tuple[Any, ...]]]  # its ``note_tables``, made once for both uses


def rows_for(
    notes: Iterable[Note],
    resolve: Callable[[Link, str], str | None],
    unchanged: Mapping[str, Known] | None = None,
) -> RowSet:
    """Rows of ``notes``; ``unchanged`` holds what is known of the notes indexed already."""
    rows = RowSet()
    for note in notes:
        known = unchanged.get(note.path) if unchanged else None
        if known is None:
            rows.add_note(note, resolve)
        else:
            rows.add_note(note, resolve, digests=known.digests, skip=known.same, tables=known.tables)
    return rows
