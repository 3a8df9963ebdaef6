"""What the PostgreSQL tier shares: opening a connection from a configured URL (bounded timeouts,
errors that name the server but never the password) and versioned schema migrations.

Only the team tier imports this package, and it imports ``psycopg`` lazily, so the local tier
installs and runs without it (``pip install 'mdstore[team]'`` adds it).
"""

from __future__ import annotations

from .connect import connect, describe, holds_password, not_allowed, redact, refuse_password
from .migrations import Migration, apply_migrations, schema_versions

__all__ = [
    "Migration",
    "apply_migrations",
    "connect",
    "describe",
    "holds_password",
    "not_allowed",
    "redact",
    "refuse_password",
    "schema_versions",
]
