"""The DuckDB schema of the structured index. Users may query these tables and views with
``vault.sql()``; ``docs/index-schema.md`` documents them. Bump ``SCHEMA_VERSION`` on any change:
an index with another version, or built under other ``parse_rules`` (the settings that change what
a file gives), is rebuilt from the files at next open (``is_current``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config

# 5: links resolve in Obsidian's order (own folder, exact case); 6: %%comments%% hidden; 7: meta
# parse_rules
SCHEMA_VERSION = 7
# The meta keys that say which rules built the index.
RULES_KEYS = ("schema_version", "parse_rules")

TABLES: dict[str, str] = {
    "meta": """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)""",
    "notes": """
        CREATE TABLE notes (
            path TEXT PRIMARY KEY, folder TEXT, name TEXT, key TEXT, title TEXT,
            size BIGINT, mtime DOUBLE, modified TIMESTAMP, created TIMESTAMP,
            hash TEXT, words INTEGER, frontmatter JSON, frontmatter_format TEXT,
            body TEXT, error TEXT, digests JSON)""",
    "properties": """
        CREATE TABLE properties (
            path TEXT, key TEXT, idx INTEGER, type TEXT,
            v_text TEXT, v_num DOUBLE, v_bool BOOLEAN, v_time TIMESTAMP,
            source TEXT, line INTEGER)""",
    "tags": """
        CREATE TABLE tags (path TEXT, tag TEXT)""",
    "aliases": """
        CREATE TABLE aliases (path TEXT, alias TEXT, key TEXT)""",
    "links": """
        CREATE TABLE links (
            path TEXT, ord INTEGER, line INTEGER, kind TEXT, target TEXT, anchor TEXT,
            alias TEXT, resolved TEXT, key TEXT)""",
    "headings": """
        CREATE TABLE headings (path TEXT, level INTEGER, text TEXT, line INTEGER)""",
    "tasks": """
        CREATE TABLE tasks (
            path TEXT, line INTEGER, status TEXT, done BOOLEAN, text TEXT, section TEXT, fields JSON)""",
    "blocks": """
        CREATE TABLE blocks (path TEXT, block_id TEXT)""",
    "attachments": """
        CREATE TABLE attachments (
            path TEXT PRIMARY KEY, folder TEXT, name TEXT, key TEXT, ext TEXT, size BIGINT, mtime DOUBLE)""",
    "parse_errors": """
        CREATE TABLE parse_errors (path TEXT, kind TEXT, message TEXT)""",
    # Last git commit of each note; written by the history layer's sync listener (git vaults only).
    "commits": """
        CREATE TABLE commits (path TEXT, rev TEXT, author TEXT, email TEXT, date TIMESTAMP)""",
}

VIEWS: dict[str, str] = {
    "fields": """
        CREATE VIEW fields AS SELECT path, key, idx, type, v_text, v_num, v_bool, v_time, line
        FROM properties WHERE source = 'inline'""",
    "backlinks": """
        CREATE VIEW backlinks AS SELECT resolved AS target, path AS source, line, kind, anchor, alias
        FROM links WHERE resolved IS NOT NULL AND kind <> 'url'""",
    "broken_links": """
        CREATE VIEW broken_links AS SELECT path AS source, line, kind, target, anchor, alias
        FROM links WHERE resolved IS NULL AND kind <> 'url'""",
    "orphans": """
        CREATE VIEW orphans AS SELECT n.path, n.title FROM notes n
        WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.resolved = n.path AND l.path <> n.path)""",
}

# Tables holding one or more rows per note, all keyed by the note's path.
PER_NOTE_TABLES = ("properties", "tags", "aliases", "links", "headings", "tasks", "blocks", "parse_errors")


def parse_rules(config: Config) -> str:
    """The settings that change what the files give in the index, as its meta records them: how a
    link is read, when a note is too large to parse, which files are notes. (Ignore rules need no
    rebuild: a scan drops what they now ignore and finds what they no longer do.)"""
    vault = config.vault
    rules = {
        "link_style": vault.link_style,
        "max_note_bytes": vault.max_note_bytes,
        "extensions": sorted(e.lower() for e in vault.extensions),
    }
    return json.dumps(rules, sort_keys=True)


def is_current(meta: dict[str, str] | None, config: Config) -> bool:
    """Whether an index whose ``stored_meta`` (of ``RULES_KEYS`` at least) is ``meta`` was built by
    this version under ``config``'s rules; if not, the next sync rebuilds it."""
    if meta is None or version_of(meta) != SCHEMA_VERSION:
        return False
    return meta.get("parse_rules") == parse_rules(config)


def create_all(con: object, config: Config) -> None:
    """Create every table and view on an empty database and stamp the schema version and the
    rules it is built under."""
    for ddl in TABLES.values():
        con.execute(ddl)  # type: ignore[attr-defined]
    for ddl in VIEWS.values():
        con.execute(ddl)  # type: ignore[attr-defined]
    con.execute(  # type: ignore[attr-defined]
        "INSERT INTO meta VALUES ('schema_version', ?), ('parse_rules', ?), ('generation', '0')",
        [str(SCHEMA_VERSION), parse_rules(config)],
    )


def drop_all(con: object) -> None:
    for name in VIEWS:
        con.execute(f"DROP VIEW IF EXISTS {name}")  # type: ignore[attr-defined]
    for name in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")  # type: ignore[attr-defined]


def stored_version(con: object) -> int | None:
    """The schema version of an existing database, or None when it has none (empty or foreign)."""
    return version_of(stored_meta(con, ("schema_version",)))


def stored_meta(con: object, keys: tuple[str, ...]) -> dict[str, str] | None:
    """The values of ``keys`` in the meta table (those present), or None when there is no meta
    table (an empty or foreign database)."""
    import duckdb

    try:
        # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and blocks the connection.
        rows = con.execute(  # type: ignore[attr-defined]
            "SELECT key, value FROM meta WHERE list_contains(?, key)", [list(keys)]
        ).fetchall()
    except duckdb.CatalogException:  # no meta table: not our schema. Anything else (a lock, I/O) is raised
        return None
    try:
        return {str(k): v for k, v in rows}
    except (TypeError, ValueError):
        return None  # a meta table of something else


def version_of(meta: dict[str, str] | None) -> int | None:
    """The schema version a ``stored_meta`` answer names, if any."""
    try:
        return int(meta["schema_version"]) if meta else None
    except (KeyError, TypeError, ValueError):
        return None  # a meta table of something else
