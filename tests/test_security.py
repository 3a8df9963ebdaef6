"""Untrusted input at the boundary: user SQL that must stay read-only and inside the index, through
the API (with a read-only and a read-write connection), the CLI and the watcher daemon."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mdstore
from mdstore.watch import Watcher

from .watch.conftest import FAST, FAST_ENV, Daemon, wait_for

SECRET = "TOPSECRET-MARKER"

# {secret}: a readable file outside the vault; {out}: a file a query must not create.
WRITE_SQL = [
    "WITH x AS (DELETE FROM notes RETURNING path) SELECT count(*) FROM x",
    "WITH x AS (UPDATE notes SET title = 'gone' RETURNING path) SELECT * FROM x",
    "WITH x AS (INSERT INTO meta VALUES ('k', 'v') RETURNING key) SELECT * FROM x",
    "DELETE FROM notes",
    "UPDATE notes SET title = 'gone'",
    "DROP TABLE notes",
    "CREATE TABLE t (x INTEGER)",
    "CREATE TEMP TABLE t AS SELECT * FROM notes",
    "EXPLAIN DELETE FROM notes",
    "EXPLAIN ANALYZE DELETE FROM notes",
    "EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'",
    "COPY notes TO '{out}'",
    "COPY (SELECT 42) TO '{out}'",
    "EXPORT DATABASE '{out}'",
    "PRAGMA threads = 1",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "ATTACH '{out}' AS other",
    "ATTACH ':memory:' AS other",
    "DETACH other",
    "USE memory",
    "INSTALL fts",
    "LOAD json",
    "CHECKPOINT",
    "CALL checkpoint()",
    "BEGIN",
    "SELECT 1; DELETE FROM notes",
    "SELECT 1; SELECT 2",
]
FILE_SQL = [
    "SELECT * FROM read_text('{secret}')",
    "SELECT * FROM read_blob('{secret}')",
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM read_csv_auto('{secret}')",
    "SELECT * FROM read_json('{secret}')",
    "SELECT * FROM read_json_auto('{secret}')",
    "SELECT * FROM read_json_objects('{secret}')",
    "SELECT * FROM read_ndjson('{secret}')",
    "SELECT * FROM read_parquet('{secret}')",
    "SELECT * FROM parquet_metadata('{secret}')",
    "SELECT * FROM sniff_csv('{secret}')",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM '{secret}'",
    "SELECT (SELECT max(content) FROM read_text('{secret}')) AS x",
    "SELECT n.path FROM notes n, LATERAL (SELECT * FROM read_text('{secret}'))",
    "SELECT * FROM query('DELETE FROM notes')",
    "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
]
# What reaches DuckDB unchecked when a socket client calls _query: the sandbox alone must refuse it.
BAD_SQL = WRITE_SQL + FILE_SQL
UNCHECKED_SQL = WRITE_SQL[:3] + ["EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'"] + FILE_SQL[:-2]


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[mdstore.Vault]:
    root = tmp_path / "vault"
    (root / ".mdstore").mkdir(parents=True)
    for i in range(3):
        (root / f"n{i}.md").write_text(f"---\nn: {i}\n---\n# Note {i}\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(f"a,b\n{SECRET},1\n")
    v = mdstore.open(root, **FAST)
    v.sync()
    yield v
    v.close()


def fill(query: str, tmp_path: Path) -> str:
    outside = tmp_path / "outside"
    return query.format(secret=outside / "secret.csv", out=outside / "written", dir=outside)


def assert_refused(run, query: str, tmp_path: Path) -> None:
    with pytest.raises(mdstore.QueryError) as info:
        run(query)
    assert SECRET not in str(info.value)
    assert not (tmp_path / "outside" / "written").exists()


def assert_intact(vault: mdstore.Vault) -> None:
    assert vault.find().paths() == ["n0.md", "n1.md", "n2.md"]
    assert vault.sql("SELECT count(*) AS n FROM meta WHERE key = 'k'").first() == {"n": 0}
    assert vault.sql("SELECT current_setting('enable_external_access') AS on").first() == {"on": False}


@pytest.mark.parametrize("query", BAD_SQL)
def test_sql_refuses_writes_settings_and_files(vault, tmp_path, query):
    assert_refused(vault.sql, fill(query, tmp_path), tmp_path)
    assert_intact(vault)


def test_sql_is_read_only_on_a_read_write_connection_too(vault, tmp_path):
    """A process that owns the index (an in-process watcher holds the read-write connection) gets
    the same refusals, from the statement check and from DuckDB itself (``_query`` skips the check:
    it is what the daemon's socket serves)."""
    watcher = Watcher(vault).start()
    try:
        for query in BAD_SQL:
            assert_refused(vault.sql, fill(query, tmp_path), tmp_path)
        for query in UNCHECKED_SQL:
            assert_refused(vault._query, fill(query, tmp_path), tmp_path)
        assert_intact(vault)
    finally:
        watcher.stop()


def test_sql_still_reads(vault):
    assert vault.sql("WITH x AS (SELECT path FROM notes) SELECT count(*) AS n FROM x").first() == {"n": 3}
    plan = vault.sql("EXPLAIN SELECT * FROM notes WHERE path = ?", ["n1.md"])
    assert plan.rows
    assert vault.sql("SELECT path FROM notes WHERE path = $p", {"p": "n1.md"}).column("path") == ["n1.md"]
    assert vault.sql("SELECT * FROM range(3)").rows == [(0,), (1,), (2,)]


def test_sql_refusals_through_the_cli(vault, tmp_path):
    for query in ("WITH x AS (DELETE FROM notes RETURNING path) SELECT count(*) FROM x",
                  "EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'", "SELECT * FROM read_text('{secret}')"):
        out = subprocess.run(
            [sys.executable, "-m", "mdstore", "--vault", str(vault.root), "sql", fill(query, tmp_path)],
            capture_output=True, text=True, timeout=60, env={**FAST_ENV, "PATH": "/usr/bin:/bin"},
        )
        assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
        assert SECRET not in out.stdout + out.stderr
        assert not (tmp_path / "outside" / "written").exists()
    assert_intact(vault)


def test_sql_refusals_through_the_daemon(vault, tmp_path):
    vault.close()
    daemon = Daemon(vault.root).wait_ready()
    try:
        client = mdstore.open(vault.root, **FAST)
        assert client._client() is not None
        for query in BAD_SQL:
            assert_refused(client.sql, fill(query, tmp_path), tmp_path)
        # The socket serves _query without the statement check: DuckDB refuses on its own.
        for query in UNCHECKED_SQL:
            assert_refused(client._query, fill(query, tmp_path), tmp_path)
        wait_for(lambda: client.find().paths() == ["n0.md", "n1.md", "n2.md"], what="the notes")
        assert_intact(client)
        client.close()
    finally:
        assert daemon.stop() == 0
        for stream in (daemon.proc.stdout, daemon.proc.stderr):
            if stream is not None:
                stream.close()
