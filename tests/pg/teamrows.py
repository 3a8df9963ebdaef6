"""Test and benchmark helper: a team database with member roles, loaded with parsed notes.

Rows are built the way a push stores them: from ``mdstore.notes.parse.parse_note``, frontmatter as
the JSON the local index writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from mdstore.index.rows import to_json
from mdstore.notes.parse import parse_note
from mdstore.pg import apply_migrations
from mdstore.team.schema import COMPONENT, MIGRATIONS

COLUMNS = (
    "space", "path", "content", "content_hash", "body", "frontmatter", "title", "headings", "tags",
    "links", "revision", "deleted",
)  # fmt: skip


def note_row(space: str, path: str, data: bytes, revision: int, deleted: bool = False) -> tuple[Any, ...]:
    note = parse_note(path, data)
    return (
        space,
        path,
        data,
        hashlib.sha256(data).hexdigest(),
        note.body,
        to_json(note.frontmatter),
        note.title,
        "\n".join(h.text for h in note.headings),
        list(note.tags),
        [link.target for link in note.links],
        revision,
        deleted,
    )


def setup(conn: Any, members: Mapping[str, Iterable[str]]) -> None:
    """Schema, spaces and member roles (``{role: [space, ...]}``); roles are cluster-wide, so
    creating one that exists is a no-op."""
    apply_migrations(conn, COMPONENT, MIGRATIONS)
    spaces = sorted({s for ss in members.values() for s in ss})
    for space in spaces:
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s) ON CONFLICT DO NOTHING", [space])
    for role, its_spaces in members.items():
        conn.execute(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
        conn.execute(f"GRANT mdstore_member TO {role}")
        for space in its_spaces:
            conn.execute("INSERT INTO team_members (space, role) VALUES (%s, %s)", [space, role])
    conn.commit()


def load(conn: Any, rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows (``note_row`` tuples) into ``team_notes`` and set each space's revision counter."""
    with conn.cursor() as cur, cur.copy(f"COPY team_notes ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute(
        "UPDATE team_spaces s SET revision = m.top "
        "FROM (SELECT space, max(revision) AS top FROM team_notes GROUP BY space) m WHERE m.space = s.name"
    )
    conn.commit()
