"""Members of a space: each is a PostgreSQL login role, granted the ``mdstore_member`` group role
(which the row-level security policies apply to) and listed in ``team_members``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, ConfigError

if TYPE_CHECKING:
    import psycopg

_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")


def add_member(
    conn: psycopg.Connection[Any], space: str, role: str, *, display_name: str = "", email: str = ""
) -> dict[str, Any]:
    """Create ``role`` if missing, grant it the member group, and record it in ``space``."""
    import psycopg
    from psycopg import sql

    from .schema import MEMBER_ROLE

    if not _ROLE.match(role):
        raise ConfigError(f"role {role!r}: use letters, digits, '_', '.' or '-' (at most 63)")
    ident = sql.Identifier(role)
    try:
        with conn.transaction():
            if conn.execute("SELECT 1 FROM team_spaces WHERE name = %s", (space,)).fetchone() is None:
                conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (space,))
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(MEMBER_ROLE), ident))
            conn.execute(
                "INSERT INTO team_members (space, role, display_name, email) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (space, role) DO UPDATE SET "
                "display_name = coalesce(nullif(EXCLUDED.display_name, ''), team_members.display_name), "
                "email = coalesce(nullif(EXCLUDED.email, ''), team_members.email)",
                (space, role, display_name, email),
            )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BackendUnavailable(
            f"adding members needs an administrator of the team database: {str(exc).splitlines()[0]}"
        ) from None
    return {"space": space, "role": role, "created": exists is None, "display_name": display_name}
