"""The statements a sync runs on the index tables: looking rows up by a set of values, inserting a
``RowSet``, refreshing stat columns, re-resolving links, and the ``meta`` counters (``sync.py``
decides what to run; this module knows how to say it to DuckDB cheaply for small and big syncs)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..notes.model import Note
from .rows import COLUMNS, Known, RowSet, created_of, digest, note_tables

# Up to this many values go to DuckDB as a list parameter (~0.1 ms); more as a registered Arrow
# table (~2 ms to register, but matched by a hash join instead of value by value).
_LIST_PARAM_MAX = 64

_names = itertools.count()


@contextmanager
def one_of(con: Any, column: str, values: list[str] | None) -> Iterator[tuple[str, list[Any]]]:
    """A condition "``column`` is one of ``values``" (always true for None) and its parameters."""
    if values is None:
        yield "true", []
    elif len(values) <= _LIST_PARAM_MAX:
        yield f"list_contains(?, {column})", [values]
    else:
        import pyarrow as pa

        name = f"_values{next(_names)}"
        con.register(name, pa.table({"v": pa.array(values, pa.string())}))
        try:
            yield f"{column} IN (SELECT v FROM {name})", []
        finally:
            con.unregister(name)


@contextmanager
def rows_of(con: Any, columns: dict[str, tuple[str, list[Any]]]) -> Iterator[tuple[str, list[Any]]]:
    """A relation of the rows given column by column (name -> (DuckDB type, values)), to join in a
    statement, and its parameters: a parameterised VALUES list for a few rows (a one-note write
    then never loads pyarrow, ~100 ms), a registered Arrow table for many."""
    names = list(columns)
    count = len(columns[names[0]][1])
    if count <= _LIST_PARAM_MAX:
        marks = "(" + ", ".join(f"?::{kind}" for kind, _ in columns.values()) + ")"
        rows = zip(*(values for _, values in columns.values()), strict=True)
        values = ", ".join([marks] * count)
        yield f"(SELECT * FROM (VALUES {values}) AS v({', '.join(names)}))", [x for row in rows for x in row]
        return
    import pyarrow as pa

    name = f"_rows{next(_names)}"
    arrow_types = {
        "TEXT": pa.string(),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "TIMESTAMP": pa.timestamp("us"),
    }
    con.register(name, pa.table({n: pa.array(v, arrow_types[kind]) for n, (kind, v) in columns.items()}))
    try:
        yield name, []
    finally:
        con.unregister(name)


def unchanged_tables(con: Any, notes: list[Note]) -> dict[str, Known]:
    """For notes already indexed: path → their new table digests and rows, and the per-note
    tables whose stored digest is the same, i.e. whose rows need no rewrite."""
    if not notes:
        return {}
    import json

    with one_of(con, "path", [n.path for n in notes]) as (where, params):
        stored = dict(con.execute(f"SELECT path, digests FROM notes WHERE {where}", params).fetchall())
    out: dict[str, Known] = {}
    for note in notes:
        before = json.loads(stored[note.path]) if stored.get(note.path) else {}
        tables = note_tables(note)
        now = {table: digest(rows) for table, rows in tables.items()}
        out[note.path] = Known(now, frozenset(t for t, d in now.items() if before.get(t) == d), tables)
    return out


def aliases_of(con: Any, paths: list[str]) -> dict[str, list[str]]:
    if not paths:
        return {}
    with one_of(con, "path", paths) as (where, params):
        rows = con.execute(f"SELECT path, alias FROM aliases WHERE {where}", params).fetchall()
    out: dict[str, list[str]] = {}
    for path, alias in rows:
        out.setdefault(path, []).append(alias)
    return out


def insert_all(con: Any, rows: RowSet) -> None:
    for table, cols in COLUMNS.items():
        count = rows.count(table)
        if count == 0:
            continue
        names = ", ".join(name for name, _ in cols)
        if count <= _LIST_PARAM_MAX:
            # A few rows: one parameterised VALUES insert beats building and registering Arrow.
            marks = "(" + ", ".join("?" * len(cols)) + ")"
            columns = [rows.cols[table][name] for name, _ in cols]
            flat = [value for row in zip(*columns, strict=True) for value in row]
            values = ", ".join([marks] * count)
            con.execute(f"INSERT INTO {table} ({names}) VALUES {values}", flat)
            continue
        insert_arrow(con, table, rows.arrow(table))


def insert_arrow(con: Any, table: str, rows: Any) -> None:
    """Append the Arrow table ``rows`` (the columns of ``rows.COLUMNS[table]``) to ``table``."""
    names = ", ".join(name for name, _ in COLUMNS[table])
    con.register("_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _rows")
    finally:
        con.unregister("_rows")


def touch(con: Any, notes: Iterable[Note]) -> None:
    import datetime as dt

    items = list(notes)
    columns: dict[str, tuple[str, list[Any]]] = {
        "path": ("TEXT", [n.path for n in items]),
        "mtime": ("DOUBLE", [n.mtime for n in items]),
        "modified": ("TIMESTAMP", [dt.datetime.fromtimestamp(n.mtime) for n in items]),
        "size": ("BIGINT", [n.size for n in items]),
        "created": ("TIMESTAMP", [created_of(n) for n in items]),
    }
    with rows_of(con, columns) as (relation, params):
        con.execute(
            "UPDATE notes SET mtime = t.mtime, modified = t.modified, size = t.size, created = t.created "
            f"FROM {relation} t WHERE notes.path = t.path",
            params,
        )


def reresolve(
    con: Any, resolver: Any, keys: set[str], skip: set[str], link_key: Callable[[str], str]
) -> None:
    """Re-resolve only the links whose lookup key names a note or attachment that appeared,
    disappeared, moved or changed aliases."""
    from ..notes.model import Link

    with one_of(con, "key", sorted(keys)) as (where, params):
        rows = con.execute(
            f"SELECT path, ord, kind, target, anchor, alias, resolved FROM links WHERE {where}", params
        ).fetchall()
    paths: list[str] = []
    ords: list[int] = []
    values: list[str | None] = []
    for path, ord_, kind, target, anchor, alias, resolved in rows:
        if path in skip:
            continue
        now = resolver.resolve(Link(target=target, kind=kind, anchor=anchor, alias=alias), path)
        if now != resolved:
            paths.append(path)
            ords.append(ord_)
            values.append(now)
    if not paths:
        return
    columns: dict[str, tuple[str, list[Any]]] = {
        "path": ("TEXT", paths),
        "ord": ("INTEGER", ords),
        "resolved": ("TEXT", values),
    }
    with rows_of(con, columns) as (relation, params):
        con.execute(
            f"UPDATE links SET resolved = r.resolved FROM {relation} r "
            "WHERE links.path = r.path AND links.ord = r.ord",
            params,
        )


def set_meta(con: Any, values: dict[str, str]) -> None:
    marks = ", ".join(["(?, ?)"] * len(values))
    con.execute(f"INSERT OR REPLACE INTO meta VALUES {marks}", [x for item in values.items() for x in item])
