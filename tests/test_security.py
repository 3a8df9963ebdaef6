"""Untrusted input at the boundary: user SQL that must stay read-only and inside the index, through
the API (with a read-only and a read-write connection), the CLI and the watcher daemon."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
    "SET allowed_directories = ['/']",
    "RESET enable_external_access",
    "SET memory_limit = '1MB'",
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
    "SELECT * FROM enable_logging()",
]
# What reaches DuckDB unchecked when a socket client calls _query: the sandbox alone must refuse it.
BAD_SQL = WRITE_SQL + FILE_SQL
UNCHECKED_SQL = (
    WRITE_SQL[:3]
    + ["EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'", "SET enable_external_access = true"]
    + ["SET allowed_directories = ['/']", "SET temp_directory = '{out}'"]
    + FILE_SQL[:-3]
)


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


def test_sql_is_refused_the_same_right_after_a_write(vault, tmp_path):
    """The process that has just written may still hold the read-write connection."""
    for i, query in enumerate(WRITE_SQL[:3] + FILE_SQL[:3]):
        vault.create(f"w{i}.md", {"i": i})
        assert_refused(vault.sql, fill(query, tmp_path), tmp_path)
    assert len(vault.find().paths()) == 9
    assert vault.sql("SELECT count(*) AS n FROM meta WHERE key = 'k'").first() == {"n": 0}


def test_sql_still_reads(vault):
    assert vault.sql("WITH x AS (SELECT path FROM notes) SELECT count(*) AS n FROM x").first() == {"n": 3}
    plan = vault.sql("EXPLAIN SELECT * FROM notes WHERE path = ?", ["n1.md"])
    assert plan.rows
    assert vault.sql("SELECT path FROM notes WHERE path = $p", {"p": "n1.md"}).column("path") == ["n1.md"]
    assert vault.sql("SELECT * FROM range(3)").rows == [(0,), (1,), (2,)]


def test_sql_refusals_through_the_cli(vault, tmp_path):
    for query in (
        "WITH x AS (DELETE FROM notes RETURNING path) SELECT count(*) FROM x",
        "EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'",
        "SELECT * FROM read_text('{secret}')",
    ):
        out = subprocess.run(
            [sys.executable, "-m", "mdstore", "--vault", str(vault.root), "sql", fill(query, tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**FAST_ENV, "PATH": "/usr/bin:/bin"},
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
        out = subprocess.run(
            [sys.executable, "-m", "mdstore", "--vault", str(vault.root), "sql", UNCHECKED_SQL[0]],
            capture_output=True,
            text=True,
            timeout=60,
            env={**FAST_ENV, "PATH": "/usr/bin:/bin"},
        )
        assert out.returncode == 6 and "Traceback" not in out.stderr, out.stderr
        wait_for(lambda: client.find().paths() == ["n0.md", "n1.md", "n2.md"], what="the notes")
        assert_intact(client)
        client.close()
    finally:
        assert daemon.stop() == 0
        for stream in (daemon.proc.stdout, daemon.proc.stderr):
            if stream is not None:
                stream.close()


# -- one path rule for reads ---------------------------------------------------------------------


@pytest.fixture
def linked(vault: mdstore.Vault, tmp_path: Path) -> mdstore.Vault:
    """Links out of the vault, and into its private folders."""
    root = vault.root
    outside = tmp_path / "outside"
    (outside / "note.md").write_text(f"# {SECRET}\n")
    (outside / "sub").mkdir()
    (outside / "sub" / "deep.md").write_text(f"# {SECRET}\n")
    (root / "pw.md").symlink_to(outside / "secret.csv")
    (root / "out.md").symlink_to(outside / "note.md")
    (root / "folder").symlink_to(outside / "sub")
    (root / "db.md").symlink_to(root / ".mdstore" / "index.duckdb")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".git" / "config.md").write_text(f"# {SECRET}\n")
    (root / "sub").mkdir()
    (root / "sub" / ".git").mkdir()
    (root / "sub" / ".git" / "x.md").write_text(f"# {SECRET}\n")
    (root / "inside.md").symlink_to(root / "n1.md")  # a link that stays inside is fine
    return vault


BAD_READS = [
    "pw.md",
    "pw",
    "out.md",
    "out",
    "folder/deep.md",
    "folder/deep",
    "db.md",
    ".mdstore/index.duckdb",
    ".mdstore/mdstore.lock",
    ".git/config.md",
    "sub/.git/x.md",
    "./.git/config.md",
    "../outside/note.md",
    "n1.md/../../outside/note.md",
]


def bad_reads(tmp_path: Path) -> list[str]:
    return [*BAD_READS, str(tmp_path / "outside" / "note.md"), str(tmp_path / "vault" / "pw.md")]


@pytest.mark.parametrize(
    "method", ["get", "backlinks", "outlinks", "neighbors", "history", "show_revision", "tasks"]
)
def test_reads_stay_inside_the_vault(linked, tmp_path, method):
    call = {
        "show_revision": lambda p: linked.show_revision(p, "HEAD"),
        "tasks": lambda p: linked.tasks(path=p),
    }.get(method, getattr(linked, method))
    for path in bad_reads(tmp_path):
        with pytest.raises(mdstore.InvalidPath) as info:
            call(path)
        assert SECRET not in str(info.value), path
    assert linked.get("inside.md").title == "Note 1"
    assert linked.get(str(linked.root / "n2.md")).path == "n2.md"
    alias = tmp_path / "alias"  # the vault reached through a symlinked parent folder
    alias.symlink_to(linked.root)
    assert linked.get(str(alias / "n2.md")).path == "n2.md"


def test_show_refuses_links_out_of_the_vault(linked, tmp_path):
    for path in ["pw.md", "folder/deep.md", ".mdstore/index.duckdb", str(tmp_path / "outside" / "note.md")]:
        out = subprocess.run(
            [sys.executable, "-m", "mdstore", "--vault", str(linked.root), "show", path, "--body"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**FAST_ENV, "PATH": "/usr/bin:/bin"},
        )
        assert out.returncode != 0, out.stdout
        assert "Traceback" not in out.stderr and SECRET not in out.stdout + out.stderr
        assert "outside the vault" in out.stderr or "not part of the notes" in out.stderr, out.stderr


def test_indexing_skips_the_same_links(linked):
    linked.sync()
    assert linked.find().paths() == ["inside.md", "n0.md", "n1.md", "n2.md"]


# -- temp files of killed writers ------------------------------------------------------------------


def test_a_full_sync_removes_the_temp_files_of_dead_writers_only(vault):
    root = vault.root
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (root / "sub").mkdir()
    stale = root / "sub" / f".mdstore-tmp.{dead.stdout.strip()}-0123456789abcdef.n1.md.tmp"
    live = root / f".mdstore-tmp.{os.getpid()}-0123456789abcdef.n2.md.tmp"  # a write in progress
    old_style = root / ".mdstore-tmp.0123456789abcdef.n0.md.tmp"  # named before names held a pid
    recent_old_style = root / ".mdstore-tmp.fedcba9876543210.n0.md.tmp"
    for path in (stale, live, old_style, recent_old_style):
        path.write_text("half a note")
    two_hours_ago = time.time() - 7200
    os.utime(old_style, (two_hours_ago, two_hours_ago))

    # While an interrupted batch waits for recovery, its staged temp files are still needed.
    pending = root / ".mdstore" / "journal" / "00000000000000000001-abcd"
    pending.mkdir(parents=True)
    vault.sync()
    assert stale.exists() and old_style.exists()

    pending.rmdir()
    vault.sync()
    assert not stale.exists() and not old_style.exists()
    assert live.exists() and recent_old_style.exists()
    assert vault.find().paths() == ["n0.md", "n1.md", "n2.md"]


# -- clear errors --------------------------------------------------------------------------------

NOBODY_CALLS = """
import json, os, sys
# Load every module first: the interpreter's own files may not be readable by `nobody`.
import mdstore, mdstore.vault, mdstore.index.sync, mdstore.index.query, mdstore.notes.parse, mdstore.notes.links
import mdstore.writes.batch, mdstore.notes.paths, mdstore.notes.journal, mdstore.notes.fmedit
import mdstore.notes.yamledit, mdstore.notes.rewrite, mdstore.notes.editrules, mdstore.notes.structedit
import duckdb, pyarrow, pathspec, yaml, markdown_it, datetime, decimal, encodings.idna, ruamel.yaml
os.setgid(65534); os.setuid(65534)
vault = mdstore.open(sys.argv[1], search={"engine": "none", "related": False})
vault.sync()
calls = {
    "get": lambda: vault.get("private.md"),
    "update": lambda: vault.update("private.md", set={"status": "x"}),
    "move": lambda: vault.move("locked", "elsewhere"),
}
out = {}
for name, call in calls.items():
    try:
        call()
        out[name] = ["ok", ""]
    except mdstore.MdstoreError as exc:
        out[name] = [type(exc).__name__, str(exc)]
    except Exception as exc:
        out[name] = ["raw " + type(exc).__name__, str(exc)]
print(json.dumps(out))
"""


def test_unreadable_notes_and_folders_give_one_clear_error(tmp_path):
    """Root reads everything, so the calls run in a child process as `nobody`."""
    import json
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mdstore-sec-"))
    try:
        os.chmod(base, 0o777)
        root = base / "vault"
        (root / ".mdstore").mkdir(parents=True)
        (root / "good.md").write_text("# Good\n")
        (root / "private.md").write_text("---\nstatus: secret\n---\n# Private\n")
        (root / "locked").mkdir()
        (root / "locked" / "inner.md").write_text("# Inner\n")
        for folder, _, files in os.walk(base):
            os.chmod(folder, 0o777)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o666)
        os.chmod(root / "private.md", 0o000)
        os.chmod(root / "locked", 0o000)
        script = (
            NOBODY_CALLS
            if os.geteuid() == 0
            else NOBODY_CALLS.replace("os.setgid(65534); os.setuid(65534)", "")
        )
        out = subprocess.run(
            [sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
        for name in ("get", "update"):
            kind, message = result[name]
            assert kind == "NoteParseError", result
            assert "private.md" in message and "ermission denied" in message, message
        kind, message = result["move"]
        assert kind == "MdstoreError" and "locked" in message and "ermission denied" in message, result
        assert "no files" not in message
        os.chmod(root / "locked", 0o777)
        assert (root / "locked" / "inner.md").read_text() == "# Inner\n"  # nothing was moved
    finally:
        for folder, dirs, _ in os.walk(base):
            for d in dirs:
                os.chmod(os.path.join(folder, d), 0o777)
        import shutil

        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("path", ["x/", "folder/x/", "x//"])
def test_create_refuses_a_folder_path(vault, path):
    with pytest.raises(mdstore.InvalidPath, match="folder"):
        vault.create(path, {"a": 1})
    assert not (vault.root / "x.md").exists() and not (vault.root / "folder").exists()


OTHER_USER_CLIENT = """
import json, os, sys
import mdstore, mdstore.vault, mdstore.index.query, mdstore.index.usersql, mdstore.watch.client, mdstore.watch.ownership
import duckdb, pyarrow, pwd
os.setgid(65534); os.setuid(65534)
try:
    mdstore.open(sys.argv[1], index={"busy_timeout": 30}).sql("SELECT count(*) FROM notes")
    print(json.dumps(["ok", ""]))
except mdstore.MdstoreError as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the client as another user")
def test_a_daemon_of_another_user_is_named_at_once():
    import json
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mdstore-sec-"))
    os.chmod(base, 0o755)
    root = base / "vault"
    (root / ".mdstore").mkdir(parents=True)
    (root / "n.md").write_text("# N\n")
    daemon = Daemon(root).wait_ready()
    try:
        for folder, _, files in os.walk(root):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        os.chmod(root / ".mdstore" / "owner.sock", 0o600)
        out = subprocess.run(
            [sys.executable, "-c", OTHER_USER_CLIENT, str(root)], capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        kind, message = json.loads(out.stdout.strip().splitlines()[-1])
        assert kind == "BackendUnavailable", message
        assert "runs as user root" in message and "owner.sock" in message
    finally:
        assert daemon.stop() == 0
        for stream in (daemon.proc.stdout, daemon.proc.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(base, ignore_errors=True)


def test_a_process_that_writes_and_exits_without_close_prints_nothing(tmp_path):
    root = tmp_path / "git-vault"
    with mdstore.init_vault(root, git=True) as vault:
        vault.sync()
        vault.related("Welcome.md")  # the model exists: the next small sync is held back from it
    script = (
        "import sys, mdstore\n"
        "v = mdstore.open(sys.argv[1])\n"
        "v.create('fresh.md', {'x': 1}, body='hello')\n"
        "v.update('Welcome.md', set={'seen': True})\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0
    assert out.stderr == "", out.stderr
