"""Team ``find()``: the local filter language (``index/expr.py`` parses it, ``index/query.py``
builds the ``Query``) compiled to a second dialect, PostgreSQL over ``team_notes``.

Frontmatter lives in JSONB; ``mdstore_fm_values`` (schema migration 2) unrolls it into the same
``(key, value, listed)`` rows the local ``properties`` table holds, so comparisons keep the local
rules: keys case-insensitive, nested keys with dots, a list matches when any element does, and the
literal's type (number, date, boolean, text) picks the comparison. Row-level security limits every
read to the member's spaces; tombstones and attachments are never returned. Every user value
travels as a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import QueryError
from ..index.expr import Filter
from ..index.query import Query, build_query
from ..index.query import _time_compare as local_time_compare
from ..result import Result

_FOLDER = "(CASE WHEN strpos(n.path, '/') > 0 THEN regexp_replace(n.path, '/[^/]*$', '') ELSE '' END)"
_NAME = r"regexp_replace(regexp_replace(n.path, '^.*/', ''), '\.[^./]*$', '')"

# Facts of a shared note, by the names local find() uses; `updated_by` and `revision` are the team's own.
BUILTINS: dict[str, tuple[str, str]] = {
    "path": ("n.path", "text"),
    "folder": (_FOLDER, "text"),
    "name": (_NAME, "text"),
    "title": ("n.title", "text"),
    "size": ("octet_length(n.content)", "number"),
    "modified": ("(n.updated_at AT TIME ZONE 'UTC')", "time"),
    "updated_at": ("(n.updated_at AT TIME ZONE 'UTC')", "time"),
    "hash": ("n.content_hash", "text"),
    "updated_by": ("n.updated_by::text", "text"),
    "revision": ("n.revision", "number"),
}
# Local fields the shared copy does not hold: named in the error instead of silently matching nothing.
UNSUPPORTED = {
    "words": "word counts",
    "created": "creation dates",
}

COLUMNS = ("path", "title", "folder", "modified", "size", "frontmatter", "tags", "updated_by", "revision")
_SELECT = (
    f"SELECT n.path, n.title, {_FOLDER}, (n.updated_at AT TIME ZONE 'UTC'), octet_length(n.content), "
    "n.frontmatter, n.tags, n.updated_by::text, n.revision FROM team_notes n"
)


def find(
    conn: Any,
    space: str,
    *filters: str | Filter,
    where: Mapping[str, Any] | None = None,
    tag: str | Sequence[str] | None = None,
    folder: str | None = None,
    links_to: str | None = None,
    modified_after: Any = None,
    modified_before: Any = None,
    sort: str | Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Result:
    """Live notes of ``space`` matching every filter, as a ``Result`` (dicts, ``.df()``, ``.arrow()``).

    ``conn`` is a psycopg connection of a member role; a space it does not belong to reads as empty.
    """
    q = build_query(
        filters,
        where,
        tag,
        sort,
        limit,
        offset,
        folder=folder,
        links_to=links_to,
        modified_after=modified_after,
        modified_before=modified_before,
    )
    sql, params = to_sql(q, space)
    return Result(COLUMNS, run(conn, sql, params))


def run(conn: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of one read, with PostgreSQL's refusals as ``QueryError`` (first line only)."""
    import psycopg

    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if not conn.autocommit:
            conn.rollback()  # a read: do not leave the connection idle in a transaction
        return rows
    except psycopg.errors.DataError as exc:
        conn.rollback()
        raise QueryError(f"team query rejected: {str(exc).splitlines()[0]}") from None


def to_sql(q: Query, space: str, select: str = _SELECT) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``q`` over the live notes of ``space``."""
    if q.linked_from is not None:
        raise QueryError("team find has no 'linked_from' filter (backlinks are resolved by the local index)")
    if q.has_open_tasks is not None:
        raise QueryError("team find has no 'has_open_tasks' filter (tasks are indexed locally only)")
    if q.modified_by is not None or q.committed:
        raise QueryError("team find has no git history filters; filter on 'updated_by' instead")
    if q.paths is not None:
        raise QueryError("team find cannot restrict to a list of paths")
    where = ["n.space = %s", "n.kind = 'note'", "NOT n.deleted"]
    params: list[Any] = [space]
    for f in q.filters:
        sql, ps = _condition(f)
        where.append(sql)
        params += ps
    if q.folder is not None and q.folder.strip("/"):
        folder = q.folder.strip("/")
        where.append("starts_with(n.path, %s)")
        params.append(folder + "/")
    if q.links_to is not None:
        # Shared notes keep their link targets as written: match the path, with or without ".md",
        # or the bare note name, the ways a wikilink names a note.
        target = q.links_to.strip()
        stem = target[:-3] if target.lower().endswith(".md") else target
        where.append(
            "EXISTS (SELECT 1 FROM unnest(n.links) l WHERE lower(l) IN (lower(%s), lower(%s), lower(%s)))"
        )
        params += [target, stem, stem.rpartition("/")[2]]
    order: list[str] = []
    for key, desc in q.sort:
        direction = "DESC" if desc else "ASC"
        builtin = _builtin(key)
        if builtin:
            order.append(f"{builtin[0]} {direction} NULLS LAST")
            continue
        for expr in (
            "min(CASE WHEN jsonb_typeof(f.v) = 'number' THEN (f.v)::numeric END)",
            "min(mdstore_jsonb_time(f.v))",
            "bool_and(CASE WHEN jsonb_typeof(f.v) = 'boolean' THEN (f.v)::boolean END)",
            "min(f.v #>> '{}')",
        ):
            order.append(
                f"(SELECT {expr} FROM {_source(_prop_key(key))} WHERE f.k = %s) {direction} NULLS LAST"
            )
            params += [_prop_key(key)] * 2
    order.append("n.path")
    sql = f"{select} WHERE " + " AND ".join(where) + " ORDER BY " + ", ".join(order)
    if q.limit is not None:
        sql += " LIMIT %s"
        params.append(q.limit)
    if q.offset:
        sql += " OFFSET %s"
        params.append(q.offset)
    return sql, params


def _builtin(key: str) -> tuple[str, str] | None:
    name = key[5:] if key.startswith("file.") else key
    if name in UNSUPPORTED:
        raise QueryError(
            f"team find cannot filter or sort on {key!r}: the shared copy has no {UNSUPPORTED[name]}"
        )
    found = BUILTINS.get(name)
    if key.startswith("file.") and not found:
        raise QueryError(f"unknown file field {key!r} (known: {', '.join('file.' + k for k in BUILTINS)})")
    return found


def _prop_key(key: str) -> str:
    if key.startswith(("fm.", "prop.")):
        key = key.split(".", 1)[1]
    return key.lower()


def _condition(f: Filter) -> tuple[str, list[Any]]:
    if f.op in ("tag", "not tag"):
        # A nested tag matches a query for its parent: `#a` finds `a/b`. Tags are stored normalised
        # (lower case); string search over the joined array costs a tenth of an unnest per row.
        joined = "(chr(1) || array_to_string(n.tags, chr(1)) || chr(1))"
        sql = f"(strpos({joined}, %s) > 0 OR strpos({joined}, %s) > 0)"
        return (sql if f.op == "tag" else f"NOT {sql}"), [f"\x01{f.value}\x01", f"\x01{f.value}/"]
    if f.key in ("tag", "tags") and f.op in ("=", "contains", "!=", "not contains"):
        if not isinstance(f.value, str):
            raise QueryError(f"filter {f}: a tag is text")
        tag = f.value.lstrip("#").lower()
        return _condition(Filter("tags", "tag" if f.op in ("=", "contains") else "not tag", tag))
    builtin = _builtin(f.key)
    if builtin:
        return _builtin_condition(f, *builtin)
    return _property_condition(f)


def _builtin_condition(f: Filter, column: str, kind: str) -> tuple[str, list[Any]]:
    if f.op in ("exists", "not exists"):
        return ("TRUE" if f.op == "exists" else "FALSE"), []
    if f.op in ("in", "not in"):
        parts = [_builtin_condition(Filter(f.key, "=", v), column, kind) for v in f.value]
        sql = "(" + " OR ".join(p[0] for p in parts) + ")"
        return (sql if f.op == "in" else f"NOT {sql}"), [x for p in parts for x in p[1]]
    if f.op == "between":
        low, high = f.value
        a, pa_ = _builtin_condition(Filter(f.key, ">=", low), column, kind)
        b, pb = _builtin_condition(Filter(f.key, "<=", high), column, kind)
        return f"({a} AND {b})", pa_ + pb
    if f.op in ("contains", "not contains"):
        sql = f"strpos(lower({column}::text), lower(%s)) > 0"
        return (sql if f.op == "contains" else f"NOT {sql}"), [str(f.value)]
    value = f.value
    if kind == "time":
        if not isinstance(value, dt.date):
            raise QueryError(f"filter {f}: {f.key} is a date; compare it with YYYY-MM-DD")
        return _time_compare(column, f.op, value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise QueryError(f"filter {f}: {f.key} is a number")
        return f"{column} {f.op} %s", [value]
    if f.op in ("=", "!="):
        return f"lower({column}) {f.op} lower(%s)", [str(value)]
    return f"{column} {f.op} %s", [str(value)]


def _time_compare(column: str, op: str, value: dt.date) -> tuple[str, list[Any]]:
    """The local rule (dates compare by whole day), in this dialect's placeholders."""
    sql, params = local_time_compare(column, op, value)
    return sql.replace("?", "%s"), params


# The values of one top-level key, lists expanded: the common case, written inline because the
# general (recursive) mdstore_fm_values cost ~0.1 ms a row.
_TOP_VALUES = (
    "(SELECT lower(e.key) AS k, x.v, jsonb_typeof(e.value) = 'array' AS listed "
    "FROM jsonb_each(CASE WHEN jsonb_typeof(n.frontmatter) = 'object' THEN n.frontmatter "
    "ELSE '{}'::jsonb END) e, "
    "jsonb_array_elements(CASE WHEN jsonb_typeof(e.value) = 'array' THEN e.value "
    "ELSE jsonb_build_array(e.value) END) x(v) WHERE lower(e.key) = %s)"
)


def _source(key: str) -> str:
    """The rows ``f(k, v, listed)`` of one frontmatter key; one parameter, the key."""
    return ("mdstore_fm_values(n.frontmatter, %s)" if "." in key else _TOP_VALUES) + " f"


def _values(key: str) -> str:
    return f"EXISTS (SELECT 1 FROM {_source(key)} WHERE "


def _property_condition(f: Filter) -> tuple[str, list[Any]]:
    key = _prop_key(f.key)
    values = _values(key)
    if f.op in ("exists", "not exists"):
        sql = values + "jsonb_typeof(f.v) <> 'null')"
        return (sql if f.op == "exists" else f"NOT {sql}"), [key]
    if f.op in ("!=", "not in", "not contains"):
        positive = {"!=": "=", "not in": "in", "not contains": "contains"}[f.op]
        sql, params = _property_condition(Filter(f.key, positive, f.value))
        return f"NOT {sql}", params
    if f.op == "in":
        parts = [_value_match("=", v) for v in f.value]
        cond = "(" + " OR ".join(p[0] for p in parts) + ")"
        return values + f"f.k = %s AND {cond})", [key, key] + [x for p in parts for x in p[1]]
    if f.op == "between":
        low, high = f.value
        a, pa_ = _value_match(">=", low)
        b, pb = _value_match("<=", high)
        return values + f"f.k = %s AND {a} AND {b})", [key, key, *pa_, *pb]
    if f.op == "contains" and isinstance(f.value, str):
        cond = (
            "(lower(f.v #>> '{}') = lower(%s)"
            " OR (NOT f.listed AND strpos(lower(f.v #>> '{}'), lower(%s)) > 0))"
        )
        return values + f"f.k = %s AND {cond})", [key, key, f.value, f.value]
    cond, params = _value_match("=" if f.op == "contains" else f.op, f.value)
    return values + f"f.k = %s AND {cond})", [key, key, *params]


def _value_match(op: str, value: Any) -> tuple[str, list[Any]]:
    """A typed comparison on one frontmatter value ``f.v``; the literal's type picks the reading."""
    if value is None:
        return ("jsonb_typeof(f.v) = 'null'" if op == "=" else "FALSE"), []
    if isinstance(value, bool):
        if op not in ("=", "!="):
            raise QueryError(f"cannot order booleans with {op!r}")
        return f"(jsonb_typeof(f.v) = 'boolean' AND (f.v)::boolean {op} %s)", [value]
    if isinstance(value, int | float):
        number = "(CASE WHEN jsonb_typeof(f.v) = 'number' THEN (f.v)::numeric END)"
        if op == "=":
            return f"({number} = %s OR f.v #>> '{{}}' = %s)", [value, str(value)]
        return f"{number} {op} %s", [value]
    if isinstance(value, dt.date):
        return _time_compare("mdstore_jsonb_time(f.v)", op, value)
    if not isinstance(value, str):
        raise QueryError(f"unsupported value {value!r}")
    if op == "=":
        return "lower(f.v #>> '{}') = lower(%s)", [value]
    return (
        f"(jsonb_typeof(f.v) = 'string' AND mdstore_jsonb_time(f.v) IS NULL AND f.v #>> '{{}}' {op} %s)",
        [value],
    )
