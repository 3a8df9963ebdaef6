"""``find()`` over a team space: the local filter language (the same parser and ``Query``,
``index/query.py``) compiled to PostgreSQL over ``team_notes`` and its typed ``team_properties``.

Every user value travels as a parameter. Arguments for what the shared copy does not hold (tasks,
resolved links, git commits, file creation dates) are a ``QueryError`` naming them; in a filter
string, ``created`` and ``words`` name frontmatter keys, as any other unknown field does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import QueryError
from ..index.expr import Filter
from ..index.query import Dialect, Query, build_query, builtin_of, condition, prop_key
from ..result import Result
from .schema import LOWER_TEXT_SINCE

if TYPE_CHECKING:
    import psycopg

_BUILTINS: dict[str, tuple[str, str]] = {
    "path": ("n.path", "text"),
    "folder": ("regexp_replace(n.path, '(^|/)[^/]*$', '')", "text"),
    "name": ("regexp_replace(n.path, '^.*/|\\.[^./]*$', '', 'g')", "text"),
    "title": ("n.title", "text"),
    "size": ("octet_length(n.content)", "number"),
    "modified": ("(n.updated_at AT TIME ZONE 'UTC')", "time"),
    "hash": ("n.content_hash", "text"),
    "updated_by": ("n.updated_by::text", "text"),
    "revision": ("n.revision", "number"),
}
COLUMNS = (
    "path",
    "title",
    "folder",
    "modified",
    "updated_by",
    "revision",
    "size",
    "tags",
    "frontmatter",
)
TEAM = Dialect(
    builtins=_BUILTINS,
    tag_sql="EXISTS (SELECT 1 FROM unnest(n.tags) t WHERE lower(t) = ? OR starts_with(lower(t), ?))",
    props="EXISTS (SELECT 1 FROM team_properties p WHERE p.space = n.space AND p.path = n.path AND ",
    key="p.key",  # stored lower-cased
    lower_text="p.v_lower",
)
_SELECT = (
    "SELECT n.path, n.title, {folder} AS folder, (n.updated_at AT TIME ZONE 'UTC') AS modified, "
    "n.updated_by::text, n.revision, octet_length(n.content) AS size, n.tags, n.frontmatter "
    "FROM team_notes n"
).format(folder=_BUILTINS["folder"][0])
_UNSUPPORTED = {
    "links_to": "links",
    "linked_from": "links",
    "has_open_tasks": "tasks",
    "created_after": "creation dates",
    "created_before": "creation dates",
    "committed_after": "git commits",
    "committed_before": "git commits",
}


def find(
    conn: psycopg.Connection[Any],
    space: str,
    *filters: str | Filter,
    where: Mapping[str, Any] | None = None,
    tag: str | Sequence[str] | None = None,
    folder: str | None = None,
    modified_after: Any = None,
    modified_before: Any = None,
    modified_by: str | None = None,
    sort: str | Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    schema: int = LOWER_TEXT_SINCE,
    **unsupported: Any,
) -> Result:
    """The notes of ``space`` matching every filter, as ``Vault.find`` reads them (``schema``: the
    database's team schema version, which an administrator may not have upgraded yet)."""
    for name, value in unsupported.items():
        if name not in _UNSUPPORTED:
            raise TypeError(f"find() got an unexpected keyword argument {name!r}")
        if value is not None:
            raise QueryError(f"{name}: the team copy holds no {_UNSUPPORTED[name]} (use the local find)")
    q = build_query(
        filters,
        where,
        tag,
        sort,
        limit,
        offset,
        folder=folder,
        modified_after=modified_after,
        modified_before=modified_before,
    )
    sql, params = to_sql(q, space, modified_by, schema)
    rows = conn.execute(sql.encode(), params).fetchall()
    conn.commit()
    return Result(COLUMNS, [tuple(r) for r in rows])


def to_sql(
    q: Query, space: str, modified_by: str | None = None, schema: int = LOWER_TEXT_SINCE
) -> tuple[str, list[Any]]:
    """``q`` as PostgreSQL with ``%s`` parameters (the shared conditions are written with ``?``)."""
    dialect = TEAM if schema >= LOWER_TEXT_SINCE else replace(TEAM, lower_text="lower(p.v_text)")
    where = ["n.space = ?", "NOT n.deleted", "n.kind = 'note'"]
    params: list[Any] = [space]
    for f in q.filters:
        sql, ps = condition(f, dialect)
        where.append(sql)
        params += ps
    if q.folder is not None and q.folder.strip("/"):
        where.append("starts_with(n.path, ?)")
        params.append(q.folder.strip("/") + "/")
    if modified_by is not None:
        where.append("lower(n.updated_by::text) = lower(?)")
        params.append(modified_by)
    order: list[str] = []
    for key, desc in q.sort:
        direction = "DESC" if desc else "ASC"
        builtin = builtin_of(key, dialect)
        if builtin:
            order.append(f"{builtin[0]} {direction} NULLS LAST")
            continue
        for column in ("v_num", "v_time", "v_bool", "v_text"):
            least = "bool_and" if column == "v_bool" else "min"  # PostgreSQL has no min(boolean)
            order.append(
                f"(SELECT {least}(p.{column}) FROM team_properties p WHERE p.space = n.space "
                f"AND p.path = n.path AND p.key = ?) {direction} NULLS LAST"
            )
            params.append(prop_key(key))
    order.append("n.path")
    ranked = f" WHERE {' AND '.join(where)} ORDER BY {', '.join(order)}"
    if q.limit is not None:
        ranked += " LIMIT ?"
        params.append(q.limit)
    if q.offset:
        ranked += " OFFSET ?"
        params.append(q.offset)
    if q.limit is None:
        sql = _SELECT + ranked
    else:
        # A page: the paths are found and ranked first (from the indexes, when the conditions and
        # sort keys are on what they hold), and only the page's rows are read from the table.
        sql = (
            f"{_SELECT} JOIN unnest(ARRAY(SELECT n.path FROM team_notes n{ranked})) "
            "WITH ORDINALITY AS page(path, pos) "
            "ON n.space = ? AND n.path = page.path ORDER BY page.pos"
        )
        params.append(space)
    # No literal "?" or "%" is written in these conditions: every value is a parameter.
    return sql.replace("?", "%s"), params
