"""``find()`` as parameterised SQL over the index: every user value travels as a parameter, never
inside the SQL text, and keys are matched as parameters too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import QueryError
from .expr import Filter, parse_filter, parse_sort
from .rows import naive_utc

# Names that mean a fact of the file, not a frontmatter property; `fm.NAME` reaches a property
# of the same name, `file.NAME` is accepted for the built-ins too.
BUILTINS: dict[str, tuple[str, str]] = {
    "path": ("n.path", "text"),
    "folder": ("n.folder", "text"),
    "name": ("n.name", "text"),
    "title": ("n.title", "text"),
    "size": ("n.size", "number"),
    "words": ("n.words", "number"),
    "modified": ("n.modified", "time"),
    "created": ("n.created", "time"),
    "hash": ("n.hash", "text"),
}

# Tags are fetched for the returned page only (TAGS_SQL): a per-row list subquery over every
# matching note cost more than the rest of the query.
FIND_COLUMNS = "n.path, n.title, n.folder, n.modified, n.created, n.size, n.words, n.frontmatter"
TAGS_SQL = (
    "SELECT path, list(tag ORDER BY tag) AS tags FROM tags "
    "WHERE path IN (SELECT unnest(?::VARCHAR[])) GROUP BY path"
)


@dataclass(frozen=True)
class Dialect:
    """Where the filter language meets a store's tables: the local DuckDB index, or the team copy
    in PostgreSQL (``team/query.py``). Conditions are written with ``?`` placeholders."""

    builtins: Mapping[str, tuple[str, str]]
    tag_sql: str  # "note n has tag ? or a tag under ?" (the second parameter ends with "/")
    props: str  # "EXISTS (SELECT 1 FROM <properties of n> p WHERE <same note> AND " ...
    key: str  # the lower-cased property key of a row p
    # A row p's text value lower-cased. In PostgreSQL a stored column: under row-level security a
    # condition that calls a function on a row's value (``lower`` is not leakproof) is checked only
    # after the access rule, row by row, so no index can serve it.
    lower_text: str = "lower(p.v_text)"


LOCAL = Dialect(
    builtins=BUILTINS,
    tag_sql="n.path IN (SELECT t.path FROM tags t WHERE t.tag = ? OR starts_with(t.tag, ?))",
    props="EXISTS (SELECT 1 FROM properties p WHERE p.path = n.path AND ",
    key="lower(p.key)",
)


@dataclass
class Query:
    """The pieces of one find(): conditions ANDed, sort keys, paging."""

    filters: list[Filter] = field(default_factory=list)
    folder: str | None = None
    links_to: str | None = None
    linked_from: str | None = None
    has_open_tasks: bool | None = None
    modified_by: str | None = None  # git author name or email of the note's last commit
    committed: list[tuple[str, Any]] = field(default_factory=list)  # (op, date) on the last commit date
    paths: Sequence[str] | None = None  # restrict to these (from a text search)
    sort: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def build_query(
    filters: Sequence[str | Filter],
    where: Mapping[str, Any] | None,
    tag: str | Sequence[str] | None,
    sort: str | Sequence[str] | None,
    limit: int | None,
    offset: int,
    **extra: Any,
) -> Query:
    q = Query(
        sort=parse_sort(sort if not isinstance(sort, Sequence) or isinstance(sort, str) else list(sort))
    )
    for item in filters:
        q.filters.append(item if isinstance(item, Filter) else parse_filter(str(item)))
    for key, value in (where or {}).items():
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            op = value[0]
            q.filters.append(_checked(Filter(key, op, value[1])))
        else:
            q.filters.append(Filter(key, "=", value))
    for t in [tag] if isinstance(tag, str) else list(tag or []):
        if t.startswith("-") and not t.startswith("-#"):
            t = "-#" + t[1:]  # tag="-archived" excludes, like the "-#archived" filter
        q.filters.append(parse_filter(t if t.startswith(("#", "-#")) else "#" + t))
    dates = {
        "modified_after": ("modified", ">"),
        "modified_before": ("modified", "<"),
        "created_after": ("created", ">"),
        "created_before": ("created", "<"),
    }
    for name, value in extra.items():
        if value is None:
            continue
        if name in dates:
            key, op = dates[name]
            q.filters.append(Filter(key, op, _as_time(value, name)))
        elif name in ("folder", "links_to", "linked_from", "has_open_tasks", "paths", "modified_by"):
            setattr(q, name, value)
        elif name in ("committed_after", "committed_before"):
            q.committed.append((">" if name == "committed_after" else "<", _as_time(value, name)))
        else:  # pragma: no cover - callers pass known names only
            raise QueryError(f"unknown find() argument {name!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise QueryError(f"limit must be a non-negative integer, not {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise QueryError(f"offset must be a non-negative integer, not {offset!r}")
    q.limit, q.offset = limit, offset
    return q


def _checked(f: Filter) -> Filter:
    from .expr import OPERATORS

    if f.op not in OPERATORS:
        raise QueryError(f"unknown operator {f.op!r} for {f.key!r} (use {', '.join(OPERATORS)})")
    if f.op in ("exists", "not exists"):
        return Filter(f.key, f.op)
    many = isinstance(f.value, list | tuple | set | frozenset)
    if f.op == "between" and not (many and len(f.value) == 2):
        raise QueryError(f"{f.key!r}: 'between' takes two values (low, high), not {f.value!r}")
    if f.op in ("in", "not in") and not (many and f.value):
        raise QueryError(f"{f.key!r}: {f.op!r} takes a list of values, not {f.value!r}")
    if f.op in ("in", "not in", "between"):
        return Filter(f.key, f.op, tuple(f.value))
    return f


def _as_time(value: Any, name: str) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        from .expr import parse_value

        parsed = parse_value(value, f"{name}={value}", "argument")
        if isinstance(parsed, dt.datetime | dt.date):
            return parsed
    raise QueryError(f"{name} must be a date or datetime (YYYY-MM-DD), not {value!r}")


def to_sql(q: Query, columns: str = FIND_COLUMNS) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for f in q.filters:
        sql, ps = condition(f)
        where.append(sql)
        params += ps
    if q.folder is not None:
        folder = q.folder.strip("/")
        if folder:
            where.append("(n.folder = ? OR starts_with(n.folder, ?))")
            params += [folder, folder + "/"]
    if q.links_to is not None:
        where.append("EXISTS (SELECT 1 FROM links l WHERE l.path = n.path AND l.resolved = ?)")
        params.append(q.links_to)
    if q.linked_from is not None:
        where.append("EXISTS (SELECT 1 FROM links l WHERE l.path = ? AND l.resolved = n.path)")
        params.append(q.linked_from)
    if q.has_open_tasks is not None:
        # Open: neither done (x) nor cancelled (-); Vault.tasks(done=False) uses the same rule.
        cond = "EXISTS (SELECT 1 FROM tasks k WHERE k.path = n.path AND k.status NOT IN ('x', 'X', '-'))"
        where.append(cond if q.has_open_tasks else f"NOT {cond}")
    if q.modified_by is not None:
        where.append(
            "n.path IN (SELECT c.path FROM commits c "
            "WHERE lower(c.author) = lower(?) OR lower(c.email) = lower(?))"
        )
        params += [q.modified_by, q.modified_by]
    for op, when in q.committed:
        cond, ps = _time_compare("c.date", op, when)
        where.append(f"n.path IN (SELECT c.path FROM commits c WHERE {cond})")
        params += ps
    if q.paths is not None:
        where.append("list_contains(?, n.path)")
        params.append(list(q.paths))
    sql = f"SELECT {columns} FROM notes n"
    if where:
        sql += " WHERE " + " AND ".join(where)
    order: list[str] = []
    for key, desc in q.sort:
        direction = "DESC" if desc else "ASC"
        builtin = builtin_of(key)
        if builtin:
            order.append(f"{builtin[0]} {direction} NULLS LAST")
        else:
            for column in ("v_num", "v_time", "v_bool", "v_text"):
                order.append(
                    f"(SELECT min(p.{column}) FROM properties p WHERE p.path = n.path AND lower(p.key) = ?)"
                    f" {direction} NULLS LAST"
                )
                params.append(prop_key(key))
    order.append("n.path")
    sql += " ORDER BY " + ", ".join(order)
    if q.limit is not None:
        sql += " LIMIT ?"
        params.append(q.limit)
    if q.offset:
        sql += " OFFSET ?"
        params.append(q.offset)
    return sql, params


def builtin_of(key: str, d: Dialect = LOCAL) -> tuple[str, str] | None:
    if key.startswith("file."):
        found = d.builtins.get(key[5:])
        if not found:
            raise QueryError(
                f"unknown file field {key!r} (known: {', '.join('file.' + k for k in d.builtins)})"
            )
        return found
    return d.builtins.get(key)


def prop_key(key: str) -> str:
    """The property a sort or filter key names (``fm.``/``prop.`` prefixes dropped), lower-cased."""
    if key.startswith(("fm.", "prop.")):
        key = key.split(".", 1)[1]
    return key.lower()


def condition(f: Filter, d: Dialect = LOCAL) -> tuple[str, list[Any]]:
    """One filter as a SQL condition on note ``n`` and its parameters."""
    if f.op == "or":
        parts = [condition(alt, d) for alt in f.value]
        return "(" + " OR ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
    if f.op in ("tag", "not tag"):
        return (d.tag_sql if f.op == "tag" else f"NOT {d.tag_sql}"), [f.value, f.value + "/"]
    if f.key in ("tag", "tags") and f.op in ("=", "contains", "!=", "not contains"):
        if not isinstance(f.value, str):
            raise QueryError(f"filter {f}: a tag is text")
        tag = f.value.lstrip("#").lower()
        return condition(Filter("tags", "tag" if f.op in ("=", "contains") else "not tag", tag), d)
    found = builtin_of(f.key, d)
    if found:
        return _builtin_condition(f, *found)
    return _property_condition(f, d)


def _builtin_condition(f: Filter, column: str, kind: str) -> tuple[str, list[Any]]:
    if f.op == "exists":
        return "TRUE", []
    if f.op == "not exists":
        return "FALSE", []
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
        sql = f"strpos(lower({column}), lower(?)) > 0"
        return (sql if f.op == "contains" else f"NOT {sql}"), [str(f.value)]
    value = f.value
    if kind == "time":
        if not isinstance(value, dt.date):
            raise QueryError(f"filter {f}: {f.key} is a date; compare it with YYYY-MM-DD")
        return _time_compare(column, f.op, value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise QueryError(f"filter {f}: {f.key} is a number")
        return f"{column} {f.op} ?", [value]
    if f.op in ("=", "!="):
        return f"lower({column}) {f.op} lower(?)", [str(value)]
    return f"{column} {f.op} ?", [str(value)]


def _time_compare(column: str, op: str, value: dt.date) -> tuple[str, list[Any]]:
    """Dates compare by whole day: ``due = 2026-12-01`` matches any time on that day. A value at
    the edge of what Python holds still answers: ``<= 9999-12-31`` is every dated row, and a zoned
    time whose UTC time is before year 1 (after 9999) is earlier (later) than every stored time."""
    if isinstance(value, dt.datetime):
        when = naive_utc(value)
        if when is not None:
            return f"{column} {op} ?", [when]
    low: dt.datetime | str
    high: dt.datetime | str
    if isinstance(value, dt.datetime):
        low = high = _BEFORE_ALL if value.year == dt.MINYEAR else _AFTER_ALL
    else:
        day = dt.datetime(value.year, value.month, value.day)
        low, high = day, (day + dt.timedelta(days=1) if value < dt.date.max else _AFTER_ALL)
    # The value is the span [low, high): "=" is within it, "<" before it, "<=" before its end...
    if op in ("=", "!="):
        a, pa_ = _from(column, low)
        b, pb = _until(column, high)
        return (f"({a} AND {b})" if op == "=" else f"NOT ({a} AND {b})"), pa_ + pb
    if op == "<":
        return _until(column, low)
    if op == "<=":
        return _until(column, high)
    if op == ">":
        return _from(column, high)
    return _from(column, low)  # >=


_BEFORE_ALL = "before all"  # a bound earlier than any time the index can hold
_AFTER_ALL = "after all"  # a bound later than any


def _from(column: str, bound: dt.datetime | str) -> tuple[str, list[Any]]:
    """``column`` at or after ``bound``."""
    if bound == _BEFORE_ALL:
        return f"{column} IS NOT NULL", []
    if bound == _AFTER_ALL:
        return "FALSE", []
    return f"{column} >= ?", [bound]


def _until(column: str, bound: dt.datetime | str) -> tuple[str, list[Any]]:
    """``column`` before ``bound``."""
    if bound == _AFTER_ALL:
        return f"{column} IS NOT NULL", []
    if bound == _BEFORE_ALL:
        return "FALSE", []
    return f"{column} < ?", [bound]


def _property_condition(f: Filter, d: Dialect) -> tuple[str, list[Any]]:
    key = prop_key(f.key)
    exists = d.props
    if f.op in ("exists", "not exists"):
        sql = exists + f"({d.key} = ? OR starts_with({d.key}, ?)) AND p.type <> 'null')"
        return (sql if f.op == "exists" else f"NOT {sql}"), [key, key + "."]
    if f.op in ("!=", "not in", "not contains"):
        positive = {"!=": "=", "not in": "in", "not contains": "contains"}[f.op]
        sql, params = _property_condition(Filter(f.key, positive, f.value), d)
        return f"NOT {sql}", params
    if f.op == "in":
        parts = [_value_match("=", v, d) for v in f.value]
        cond = "(" + " OR ".join(p[0] for p in parts) + ")"
        return exists + f"{d.key} = ? AND {cond})", [key] + [x for p in parts for x in p[1]]
    if f.op == "between":
        low, high = f.value
        a, pa_ = _value_match(">=", low, d)
        b, pb = _value_match("<=", high, d)
        return exists + f"{d.key} = ? AND {a} AND {b})", [key, *pa_, *pb]
    if f.op == "contains":
        if isinstance(f.value, str):
            low = d.lower_text
            cond = f"({low} = lower(?) OR (p.idx IS NULL AND strpos({low}, lower(?)) > 0))"
            return exists + f"{d.key} = ? AND {cond})", [key, f.value, f.value]
        cond, params = _value_match("=", f.value, d)
        return exists + f"{d.key} = ? AND {cond})", [key, *params]
    cond, params = _value_match(f.op, f.value, d)
    return exists + f"{d.key} = ? AND {cond})", [key, *params]


def _value_match(op: str, value: Any, d: Dialect) -> tuple[str, list[Any]]:
    """A typed comparison on one properties row ``p``; the literal's type picks the column."""
    if value is None:
        return ("p.type = 'null'" if op == "=" else "FALSE"), []
    if isinstance(value, bool):
        if op not in ("=", "!="):
            raise QueryError(f"cannot order booleans with {op!r}")
        return f"p.v_bool {op} ?", [value]
    if isinstance(value, int | float):
        if op == "=":
            return "(p.v_num = ? OR p.v_text = ?)", [value, str(value)]
        return f"p.v_num {op} ?", [value]
    if isinstance(value, dt.date):
        return _time_compare("p.v_time", op, value)
    if not isinstance(value, str):
        raise QueryError(f"unsupported value {value!r}")
    if op == "=":
        return f"{d.lower_text} = lower(?)", [value]
    return f"p.type = 'text' AND p.v_text {op} ?", [value]
