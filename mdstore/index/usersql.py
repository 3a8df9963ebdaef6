"""User SQL (``Vault.sql``, ``mdstore sql``): one read-only statement over the index.

Two walls. The first is DuckDB's own: every index connection is sandboxed (no file access outside
the index, and no switching it back on) and every read runs read-only (``store.py``), so a query cannot write
or reach outside whichever connection the process holds. The second, here, refuses up front what
the first would refuse anyway, with a message that says why: anything but one ``SELECT`` (or an
``EXPLAIN`` of one), a data-modifying statement hidden in a ``WITH`` clause, and the functions that
read files or run SQL from a string.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..errors import QueryError

# Table functions that read files or globs, run SQL given as text, or change the instance. The
# sandbox refuses the file readers too; this list turns them into a clear message before anything runs.
FILE_FUNCTIONS = frozenset(
    {
        "glob",
        "sniff_csv",
        "query",
        "query_table",
        "json_execute_serialized_sql",
        "checkpoint",
        "force_checkpoint",
        "read_duckdb",
    }
)
FILE_FUNCTION_PREFIXES = (
    "read_",
    "parquet_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    # Table functions that change the instance (logging, profiling, external resources, grammar).
    "enable_",
    "disable_",
    "truncate_",
    "register_",
    "deregister_",
    "create_",
    "destroy_",
    "add_",
    "remove_",
)
_MODIFYING_NODES = ("INSERT", "UPDATE", "DELETE", "MERGE")
_EXPLAIN = re.compile(r"\s*EXPLAIN(\s+ANALY[SZ]E)?\s+", re.IGNORECASE)


def checked_statement(query: str) -> Any:
    """The one read-only statement of ``query`` (a ``duckdb.Statement``), or ``QueryError``."""
    if not isinstance(query, str):
        raise QueryError(f"SQL must be text, not {type(query).__name__}")
    statement, refusal = _checked(query)
    if refusal is not None:
        raise QueryError(refusal)
    return statement


def run(
    store: Any, statement: Any, params: Sequence[Any] | Mapping[str, Any] | None
) -> tuple[list[str], list[Any]]:
    """Columns and rows of the checked ``statement`` on a read cursor of ``store``."""
    with store.read() as cur:
        cur.execute(statement, params if params is not None else [])
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall()


@functools.lru_cache(maxsize=256)
def _checked(query: str) -> tuple[Any, str | None]:
    """(statement, None) or (None, why it is refused). Cached: programs repeat their queries, and
    parsing twice plus serialising the tree cost about as much as a small query."""
    try:
        return _check(query), None
    except QueryError as exc:
        return None, str(exc)


def _check(query: str) -> Any:
    import duckdb

    statements = _statements(query)
    if not statements:
        raise QueryError("empty SQL query")
    if len(statements) > 1:
        raise QueryError(f"run one SQL statement at a time (got {len(statements)})")
    statement = statements[0]
    text = statement.query
    if statement.type == duckdb.StatementType.EXPLAIN:
        # EXPLAIN [ANALYZE] runs (or plans) its inner statement: that one must be a query too.
        match = _EXPLAIN.match(text)
        inner = _statements(text[match.end() :]) if match else []
        if len(inner) != 1:
            raise QueryError("EXPLAIN is allowed only directly before one SELECT")
        _refuse_unless_select(inner[0])
        text = inner[0].query
    else:
        _refuse_unless_select(statement)
    _refuse_unsafe_parts(text)
    return statement


def _refuse_unsafe_parts(select: str) -> None:
    """Refuse a SELECT whose parse tree (DuckDB's own parser, serialised as JSON) holds a
    data-modifying node or a function that reads files."""
    cursor = _parser()
    try:
        tree = json.loads(cursor.execute("SELECT json_serialize_sql(?)", [select]).fetchone()[0])
    finally:
        cursor.close()
    if tree.get("error"):
        return  # not serialisable (rare syntax): the sandbox still holds
    for node in _walk(tree):
        kind = str(node.get("type", ""))
        if kind.endswith("_QUERY_NODE") and kind.split("_", 1)[0] in _MODIFYING_NODES:
            raise QueryError(
                f"only read-only queries are allowed; refused a {kind.split('_', 1)[0]} inside the query "
                "(the index is rebuilt from the files: change the notes instead)"
            )
        name = node.get("function_name")
        if isinstance(name, str) and _refused_function(name):
            raise QueryError(f"{name}() is not allowed in mdstore SQL: queries only read the index tables")
        table = node.get("table_name") if kind == "BASE_TABLE" else None
        if isinstance(table, str) and re.search(r"[/\\:]|\.\w+$", table):
            raise QueryError(f"reading the file {table!r} is not allowed: queries see the index tables only")


_parser_lock = threading.Lock()
_parser_con: Any = None


def _parser() -> Any:
    """A cursor of a private in-memory DuckDB (sandboxed too) that only parses: the check needs no
    index and runs before a query is forwarded to the watcher daemon."""
    global _parser_con
    with _parser_lock:
        if _parser_con is None:
            import duckdb

            from .store import SANDBOX

            _parser_con = duckdb.connect(":memory:", config=dict(SANDBOX))
        return _parser_con.cursor()


def _refuse_unless_select(statement: Any) -> None:
    import duckdb

    if statement.type != duckdb.StatementType.SELECT:
        raise QueryError(
            f"only read-only queries are allowed; refused a {statement.type.name} statement "
            "(the index is rebuilt from the files: change the notes instead)"
        )


def _statements(query: str) -> list[Any]:
    import duckdb

    try:
        return list(duckdb.extract_statements(query))
    except duckdb.Error as exc:
        raise QueryError(f"invalid SQL: {str(exc).strip().splitlines()[0]}") from exc


def _refused_function(name: str) -> bool:
    name = name.lower()
    return name in FILE_FUNCTIONS or name.startswith(FILE_FUNCTION_PREFIXES)


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
