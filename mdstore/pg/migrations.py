"""Versioned schema migrations for the team database.

Each component (team sync, the job queue) has its own ordered list of migrations; the table
``mdstore_schema`` records the version each component reached. Applying is idempotent (what is
applied is skipped), runs under an advisory lock so two clients initialising at once do not race,
and each migration commits with its version row. A database whose version is newer than this
mdstore knows is refused with a clear error instead of being used with the wrong expectations.
A database already at the latest version is only read: a member's role, which may not create
tables, opens it like the administrator's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable

if TYPE_CHECKING:
    import psycopg

# The group role every member of a team is granted: the team's tables and the job queue's grant
# their rights to it (and the team schema's row-level security policies apply to it).
MEMBER_ROLE = "mdstore_member"
_LOCK_KEY = 0x6D647374  # "mdst": pg_advisory_xact_lock key serialising schema changes
_TABLE = """
CREATE TABLE IF NOT EXISTS mdstore_schema (
    component text PRIMARY KEY,
    version integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int  # 1, 2, 3, ... within its component
    name: str
    sql: str


def schema_versions(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Each component's applied version ({} for a database mdstore never initialised)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('mdstore_schema') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return {}
        cur.execute("SELECT component, version FROM mdstore_schema")
        return {c: int(v) for c, v in cur.fetchall()}


def check_version(conn: psycopg.Connection[Any], component: str, migrations: Sequence[Migration]) -> int:
    """The applied version of ``component``; an error when the database is newer than this code."""
    known = _latest(migrations)
    version = schema_versions(conn).get(component, 0)
    if version > known:
        raise BackendUnavailable(
            f"the team database's {component} schema is version {version}, newer than this mdstore "
            f"knows ({known}): upgrade mdstore"
        )
    return version


def apply_migrations(
    conn: psycopg.Connection[Any], component: str, migrations: Sequence[Migration]
) -> list[Migration]:
    """Apply the migrations of ``component`` not yet applied; the list of those applied now."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"{component} migrations must be numbered 1..n in order")
    applied: list[Migration] = []
    conn.commit()  # leave any open transaction: each migration commits on its own
    current = check_version(conn, component, migrations)
    conn.commit()
    if current == _latest(migrations):
        return applied  # read only: no lock, no DDL (a member role may not create tables)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_TABLE)
    for migration in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            current = check_version(conn, component, migrations)
            if migration.version <= current:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO mdstore_schema (component, version) VALUES (%s, %s) "
                "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, applied_at = now()",
                (component, migration.version),
            )
            applied.append(migration)
    return applied


def _latest(migrations: Sequence[Migration]) -> int:
    return max((m.version for m in migrations), default=0)
