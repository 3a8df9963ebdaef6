"""The shared PostgreSQL plumbing: connections that fail with one clear line and never show a
password, and versioned migrations that are idempotent and refuse a newer schema."""

from __future__ import annotations

import psycopg
import pytest

from mdstore.errors import BackendUnavailable, ConfigError
from mdstore.pg import (
    Migration,
    apply_migrations,
    connect,
    describe,
    holds_password,
    redact,
    schema_versions,
)
from mdstore.pg.migrations import check_version

STEPS = [
    Migration(1, "things", "CREATE TABLE things (id int PRIMARY KEY); CREATE INDEX ON things (id)"),
    Migration(2, "names", "ALTER TABLE things ADD COLUMN name text"),
]


def test_migrations_apply_once_and_record_versions(pg_url: str) -> None:
    with connect(pg_url) as conn:
        assert schema_versions(conn) == {}
        assert [m.version for m in apply_migrations(conn, "demo", STEPS)] == [1, 2]
        assert apply_migrations(conn, "demo", STEPS) == []  # re-running is a no-op
        assert schema_versions(conn) == {"demo": 2}
        conn.execute("INSERT INTO things VALUES (1, 'a')")
        conn.commit()
        # A later release adds a step: only it runs.
        more = [*STEPS, Migration(3, "more", "ALTER TABLE things ADD COLUMN extra int")]
        assert [m.version for m in apply_migrations(conn, "demo", more)] == [3]


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    with connect(pg_url) as conn:
        apply_migrations(conn, "demo", STEPS)
        with pytest.raises(BackendUnavailable, match="version 2, newer than this mdstore knows \\(1\\)"):
            check_version(conn, "demo", STEPS[:1])


def test_a_failing_migration_leaves_the_version_where_it_was(pg_url: str) -> None:
    bad = [*STEPS, Migration(3, "broken", "ALTER TABLE nowhere ADD COLUMN x int")]
    with connect(pg_url) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            apply_migrations(conn, "demo", bad)
        conn.rollback()
        assert schema_versions(conn) == {"demo": 2}


def test_wrong_password_names_the_server_never_the_password(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    pg_cluster.sql(
        "DO $$ BEGIN CREATE ROLE ann LOGIN PASSWORD 'right-one'; EXCEPTION WHEN duplicate_object THEN END $$"
    )
    url = pg_cluster.tcp_url("postgres", "ann").replace("ann@", "ann:sekret-pw@")
    with pytest.raises(BackendUnavailable) as info:
        connect(url)
    text = str(info.value)
    assert "sekret-pw" not in text and "password authentication failed" in text
    assert f"ann@127.0.0.1:{pg_cluster.port}/postgres" in text
    assert "\n" not in text


def test_unknown_host_is_one_line() -> None:
    with pytest.raises(BackendUnavailable, match="no-such-host.invalid") as info:
        connect("postgresql://bob:pw@no-such-host.invalid/notes", timeout=2)
    assert "pw" not in str(info.value).replace("no-such-host", "")


def test_redact_and_describe() -> None:
    assert redact("postgresql://ann:s3cret@h/db") == "postgresql://ann:***@h/db"
    assert redact("host=h password='a b' user=x") == "host=h password=*** user=x"
    assert redact("host=h sslpassword=k2 user=x") == "host=h sslpassword=*** user=x"
    # libpq decodes a URI's query keys: an encoded "password" key is a password too.
    assert redact("see postgresql://ann@h/db?pass%77ord=s3cret&port=5 now") == (
        "see postgresql://ann@h/db?pass%77ord=***&port=5 now"
    )
    assert redact("postgres://h/db?%70assword=s3cret") == "postgres://h/db?%70assword=***"
    assert holds_password("postgresql://ann@h/db?pass%77ord=s3cret")
    assert holds_password("host=h sslpassword=k")
    assert not holds_password("postgresql://ann@h/db?passfile=/tmp/x")
    assert not holds_password("${MDSTORE_TEAM_URL}")
    assert describe("postgresql://ann:s3cret@db.example:6543/notes") == "ann@db.example:6543/notes"
    with pytest.raises(ConfigError):
        describe("host=h port")
