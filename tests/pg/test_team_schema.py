"""The team schema's guarantees, checked with raw SQL as a member role (never the superuser, who
bypasses row-level security)."""

from __future__ import annotations

import psycopg
import pytest

from mdstore.pg import apply_migrations, connect
from mdstore.team.schema import COMPONENT, MIGRATIONS


@pytest.fixture
def team_db(pg_cluster, pg_url):  # type: ignore[no-untyped-def]
    with connect(pg_url) as conn:
        apply_migrations(conn, COMPONENT, MIGRATIONS)
        for role in ("ann_s", "sam_s"):
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
            conn.execute(f"GRANT mdstore_member TO {role}")
        conn.execute("INSERT INTO team_spaces (name) VALUES ('research'), ('sales')")
        conn.execute(
            "INSERT INTO team_members (space, role) VALUES ('research', 'ann_s'), ('sales', 'sam_s')"
        )
        conn.execute(
            "INSERT INTO team_notes (space, path, content_hash, revision) "
            "VALUES ('sales', 'Secret deal.md', 'h', 1), ('research', 'Open.md', 'h', 1)"
        )
        conn.commit()
    dbname = pg_url.split("/")[3].split("?")[0]
    return lambda role: psycopg.connect(pg_cluster.url(dbname, role))


def test_a_member_sees_only_its_spaces(team_db) -> None:  # type: ignore[no-untyped-def]
    with team_db("ann_s") as conn:
        assert conn.execute("SELECT path FROM team_notes").fetchall() == [("Open.md",)]
        assert conn.execute("SELECT count(*) FROM team_notes WHERE space = 'sales'").fetchone() == (0,)
        assert conn.execute("SELECT name FROM team_spaces").fetchall() == [("research",)]
        assert conn.execute("SELECT role FROM team_members").fetchall() == [("ann_s",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO team_notes (space, path, content_hash, revision) "
                "VALUES ('sales', 'x.md', 'h', 2)"
            )


def test_updated_by_cannot_be_forged(team_db) -> None:  # type: ignore[no-untyped-def]
    with team_db("ann_s") as conn:
        conn.execute(
            "INSERT INTO team_notes (space, path, content_hash, revision, updated_by) "
            "VALUES ('research', 'Mine.md', 'h', 2, 'sam_s')"
        )
        conn.execute("UPDATE team_notes SET updated_by = 'sam_s' WHERE path = 'Open.md'")
        rows = conn.execute("SELECT path, updated_by FROM team_notes ORDER BY path").fetchall()
        assert rows == [("Mine.md", "ann_s"), ("Open.md", "ann_s")]


def test_a_search_vector_is_always_the_server_s_own(team_db) -> None:  # type: ignore[no-untyped-def]
    """``search`` is set by the server from the row's text: a member cannot write one that does not
    match it, directly or through staging, nor stage for a space it does not belong to."""
    matches = "SELECT search = mdstore_search_vector(title, headings, body) FROM team_notes WHERE path = %s"
    with team_db("ann_s") as conn:
        conn.execute(
            "INSERT INTO team_notes (space, path, content_hash, revision, title, body, search) "
            "VALUES ('research', 'Mine.md', 'h', 2, 'Gardens', 'roses and tulips', to_tsvector('forged'))"
        )
        conn.execute("UPDATE team_notes SET search = to_tsvector('forged') WHERE path = 'Mine.md'")
        conn.execute(
            "UPDATE team_notes SET search = to_tsvector('forged'), body = 'only roses' WHERE path = 'Open.md'"
        )
        for path in ("Mine.md", "Open.md"):
            assert conn.execute(matches, (path,)).fetchone() == (True,), path
        # Staged vectors are computed by the server from the text it is given: one staged for
        # some text is used only by a row holding that very text.
        assert conn.execute(
            "SELECT mdstore_stage_search('research', %s, %s, %s)", (["T"], [""], ["staged words"])
        ).fetchone() == (1,)
        conn.execute(
            "UPDATE team_notes SET title = 'T', headings = '', body = 'staged words' WHERE path = 'Mine.md'"
        )
        conn.execute(
            "UPDATE team_notes SET title = 'T', headings = '', body = 'other words' WHERE path = 'Open.md'"
        )
        for path in ("Mine.md", "Open.md"):
            assert conn.execute(matches, (path,)).fetchone() == (True,), path
        assert conn.execute(
            "SELECT count(*) FROM team_notes WHERE search @@ to_tsquery('english', 'staged')"
        ).fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM team_search_stage")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not a member"):
            conn.execute("SELECT mdstore_stage_search('sales', %s, %s, %s)", (["T"], [""], ["x"]))
