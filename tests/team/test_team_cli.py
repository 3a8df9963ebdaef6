"""The ``mdstore team`` commands, members and permissions, and the one-line errors of a team
database that cannot be used (against a real PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

import mdstore
from mdstore.cli import cli
from tests.team.conftest import SPACE, write


def _run(vault: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--vault", str(vault), *args], env=env, catch_exceptions=False)


def test_init_writes_the_reference_losslessly_and_sync_prints_what_moved(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "v"
    root.mkdir()
    (root / "mdstore.toml").write_text("# my settings\n[index]\nbusy_timeout = 20  # seconds\n")
    env = {"MDSTORE_TEAM_URL": pg_url}
    done = _run(root, "team", "init", "--space", SPACE, "--json", env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["space"] == SPACE
    text = (root / "mdstore.toml").read_text()
    assert text.startswith("# my settings\n[index]\nbusy_timeout = 20  # seconds\n")
    assert 'url = "${MDSTORE_TEAM_URL}"' in text and f'space = "{SPACE}"' in text
    assert _run(root, "team", "init", "--space", SPACE, env=env).exit_code == 0  # re-running is a no-op
    (root / "Hello.md").write_text("# Hello\n")
    synced = _run(root, "team", "sync", env=env)
    assert synced.exit_code == 0 and json.loads(synced.stdout)["pushed"] == ["Hello.md"]
    status = json.loads(_run(root, "team", "status", "--json", env=env).stdout)
    assert status["waiting"] == 0 and status["reachable"] is True and status["server_revision"] == 1
    log = [
        json.loads(line)
        for line in _run(root, "team", "log", "Hello.md", "--json", env=env).stdout.splitlines()
    ]
    assert [(r["revision"], r["action"], r["path"]) for r in log] == [(1, "create", "Hello.md")]
    assert _run(root, "team", "conflicts", "--json", env=env).stdout == ""


@pytest.mark.parametrize("where", ["user info", "query", "encoded key", "encoded key 2", "key password"])
def test_a_password_in_the_url_is_refused_and_never_written(tmp_path: Path, pg_url: str, where: str) -> None:
    root = tmp_path / "v"
    root.mkdir()
    (root / "mdstore.toml").write_text("")
    url = {
        "user info": pg_url.replace("postgres@", "postgres:hunter2@"),
        "query": pg_url + "&password=hunter2",
        "encoded key": pg_url + "&pass%77ord=hunter2",  # libpq decodes the key: a password all the same
        "encoded key 2": pg_url + "&%70assword=hunter2",
        "key password": pg_url + "&sslpassword=hunter2",  # the client key's
    }[where]
    done = _run(root, "team", "init", "--space", SPACE, "--url", url)
    assert done.exit_code == 10 and "hunter2" not in done.output, done.output
    assert "hunter2" not in (root / "mdstore.toml").read_text()
    cloned = CliRunner().invoke(cli, ["team", "clone", url, str(tmp_path / "c"), "--space", SPACE])
    assert cloned.exit_code == 10 and "hunter2" not in cloned.output, cloned.output
    assert not (tmp_path / "c").exists()


def test_init_writes_nothing_until_the_connection_works(pg_cluster, tmp_path: Path, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "v"
    root.mkdir()
    (root / "mdstore.toml").write_text("# mine\n")
    dbname = pg_url.split("/")[3].split("?")[0]
    url = pg_cluster.url(dbname + "_missing") + "&passfile=/nonexistent/pgpass"
    done = _run(root, "team", "init", "--space", SPACE, "--url", url)
    assert done.exit_code == 11 and "_missing" in done.output, done.output
    assert (root / "mdstore.toml").read_text() == "# mine\n"
    done = _run(root, "team", "init", "--space", SPACE, env={"MDSTORE_TEAM_URL": url})
    assert done.exit_code == 11 and (root / "mdstore.toml").read_text() == "# mine\n"
    assert _run(root, "team", "init", "--space", SPACE, "--url", pg_url).exit_code == 0
    assert f'url = "{pg_url}"' in (root / "mdstore.toml").read_text()


def test_members_and_row_level_security(pg_cluster, team_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = tmp_path / "admin"
    admin.mkdir()
    env = {"MDSTORE_TEAM_URL": team_url}
    assert _run(admin, "team", "init", "--space", SPACE, env=env).exit_code == 0
    added = _run(admin, "team", "members", "add", "bob_m", "--space", SPACE, "--name", "Bob B", env=env)
    assert added.exit_code == 0, added.output
    assert _run(admin, "team", "members", "add", "sam_m", "--space", "sales", env=env).exit_code == 0
    dbname = team_url.split("/")[3].split("?")[0]
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("INSERT INTO team_spaces (name) VALUES ('other') ON CONFLICT DO NOTHING")
    # sam writes a note to sales through mdstore; bob, a member of research only, cannot see it.
    sam = mdstore.open(
        _folder(tmp_path, "sam"), team={"url": pg_cluster.url(dbname, "sam_m"), "space": "sales"}
    )
    write(sam, "Secret deal.md", "the price is 42\n")
    sam.team.sync()
    with psycopg.connect(pg_cluster.url(dbname, "bob_m")) as conn:
        assert conn.execute("SELECT count(*) FROM team_notes").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM team_notes WHERE path LIKE 'Secret%'").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM team_revisions").fetchone() == (0,)
        assert conn.execute("SELECT name FROM team_spaces").fetchall() == [(SPACE,)]
    bob = mdstore.open(
        _folder(tmp_path, "bob"), team={"url": pg_cluster.url(dbname, "bob_m"), "space": SPACE}
    )
    write(bob, "Mine.md", "bob's\n")
    bob.team.sync()
    with psycopg.connect(pg_cluster.url(dbname, "bob_m")) as conn:
        conn.execute("UPDATE team_notes SET updated_by = 'sam_m'")
        assert conn.execute("SELECT updated_by FROM team_notes").fetchall() == [("bob_m",)]
    assert bob.team.log().to_dicts()[0]["author"] == "Bob B"  # the member record's display name
    sam.close()
    bob.close()


def test_unusable_servers_give_one_line_naming_the_host(pg_cluster, team_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pg_cluster.sql(
        "DO $$ BEGIN CREATE ROLE pw_ann LOGIN PASSWORD 'right-pw'; "
        "EXCEPTION WHEN duplicate_object THEN END $$"
    )
    dbname = team_url.split("/")[3].split("?")[0]
    cases = {
        "wrong password": (
            pg_cluster.tcp_url(dbname, "pw_ann"),
            SPACE,
            {"PGPASSWORD": "wrong-pw"},
            f"127.0.0.1:{pg_cluster.port}",
            "password authentication failed",
        ),
        "unknown host": (
            "postgresql://ann@no-such-host.invalid/notes",
            SPACE,
            {},
            "no-such-host.invalid",
            "cannot connect",
        ),
        "no schema": (pg_cluster.url(pg_cluster.create_database()), SPACE, {}, "socket", "no mdstore schema"),
        "foreign space": (team_url, "nowhere", {}, "socket", "not a member"),
    }
    for name, (url, space, env, host, reason) in cases.items():
        root = _folder(tmp_path, name.replace(" ", "-"))
        (root / "mdstore.toml").write_text(f'[team]\nurl = "${{MDSTORE_TEAM_URL}}"\nspace = "{space}"\n')
        done = _run(root, "team", "sync", env={"MDSTORE_TEAM_URL": url, **env})
        lines = done.stderr.strip().splitlines()
        assert done.exit_code == 11, (name, done.output)
        assert len(lines) == 1 and lines[0].startswith("Error: "), (name, done.stderr)
        assert host in lines[0] and reason in lines[0], (name, lines[0])
        assert "right-pw" not in done.output and "wrong-pw" not in done.output
        status = json.loads(
            _run(root, "team", "status", "--json", env={"MDSTORE_TEAM_URL": url, **env}).stdout
        )
        assert status["reachable"] is False and reason in status["last_error"]


def _folder(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    return root


def test_a_member_joins_with_init_and_cannot_create_spaces(pg_cluster, team_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = _folder(tmp_path, "admin")
    env = {"MDSTORE_TEAM_URL": team_url}
    assert _run(admin, "team", "members", "add", "joe_m", "--space", SPACE, env=env).exit_code == 0
    dbname = team_url.split("/")[3].split("?")[0]
    member_env = {"MDSTORE_TEAM_URL": pg_cluster.url(dbname, "joe_m")}
    joined = _run(_folder(tmp_path, "joe"), "team", "init", "--space", SPACE, env=member_env)
    assert joined.exit_code == 0, joined.output
    refused = _run(_folder(tmp_path, "joe2"), "team", "init", "--space", "elsewhere", env=member_env)
    assert refused.exit_code == 11 and refused.stderr.count("\n") == 1
    assert "cannot set up space 'elsewhere'" in refused.stderr
    bad = _run(_folder(tmp_path, "joe3"), "team", "init", "--space", "no/slash", env=member_env)
    assert bad.exit_code == 10 and "space 'no/slash'" in bad.stderr


def test_a_login_role_outside_the_members_gets_one_line(pg_cluster, team_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pg_cluster.sql(
        "DO $$ BEGIN CREATE ROLE stranger_m LOGIN; EXCEPTION WHEN duplicate_object THEN END $$"
    )  # may log in, was never made a member: no rights on mdstore's tables
    dbname = team_url.split("/")[3].split("?")[0]
    env = {"MDSTORE_TEAM_URL": pg_cluster.url(dbname, "stranger_m")}
    root = _folder(tmp_path, "v")
    (root / "mdstore.toml").write_text(
        f'[tier]\nname = "team"\n[team]\nurl = "${{MDSTORE_TEAM_URL}}"\nspace = "{SPACE}"\n'
    )
    commands = [
        ["team", "sync"],
        ["team", "search", "garden"],
        ["team", "find", "status=active"],
        ["team", "log"],
        ["queue", "stats"],
        ["team", "clone", "${MDSTORE_TEAM_URL}", str(tmp_path / "c"), "--space", SPACE],
    ]
    for args in commands:
        done = CliRunner().invoke(cli, ["--vault", str(root), *args], env=env)
        lines = done.stderr.strip().splitlines()
        assert done.exit_code == 11, (args, done.output, done.exception)
        assert len(lines) == 1 and lines[0].startswith("Error: "), (args, done.stderr)
        assert "stranger_m@" in lines[0] and dbname in lines[0], (args, lines[0])
    status = json.loads(_run(root, "team", "status", "--json", env=env).stdout)
    assert status["reachable"] is False and "stranger_m@" in status["last_error"]


def test_an_unset_url_variable_stops_only_what_needs_the_database(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A teammate who cloned the vault's git repository has no MDSTORE_TEAM_URL yet: the local
    vault works; what needs the team database says which variable to set."""
    root = _folder(tmp_path, "v")
    (root / "mdstore.toml").write_text(
        f'[tier]\nname = "team"\n[team]\nurl = "${{MDSTORE_TEAM_URL}}"\nspace = "{SPACE}"\n'
        '[search]\nengine = "none"\n'
    )
    (root / "Hello.md").write_text("---\nstatus: active\n---\n# Hello\n")

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        unset: dict[str, str | None] = {"MDSTORE_TEAM_URL": None}  # whatever the test's environment holds
        return CliRunner().invoke(cli, ["--vault", str(root), *args], env=unset)

    for args in (["index"], ["show", "Hello"], ["find", "status = active"]):
        done = invoke(*args)
        assert done.exit_code == 0 and "Hello" in done.stdout, (args, done.output)
    unset = "setting team.url refers to ${MDSTORE_TEAM_URL}, which is not set"
    for args in (["team", "sync"], ["team", "status"], ["queue", "stats"], ["worker", "--burst"]):
        done = invoke(*args)
        assert done.exit_code == 10, (args, done.output, done.exception)
        assert done.stderr.strip().splitlines() == [f"Error: {unset}"], (args, done.stderr)
    monkeypatch.delenv("MDSTORE_TEAM_URL", raising=False)
    with mdstore.open(root) as vault:  # the Python API alike
        assert vault.get("Hello").frontmatter == {"status": "active"}
        with pytest.raises(mdstore.ConfigError, match=r"\$\{MDSTORE_TEAM_URL\}, which is not set"):
            vault.team.sync()
    # An explicit URL still sets the vault up, and is written in place of the reference.
    done = invoke("team", "init", "--space", SPACE, "--url", pg_url)
    assert done.exit_code == 0, done.output
    assert f'url = "{pg_url}"' in (root / "mdstore.toml").read_text()
    assert invoke("team", "sync").exit_code == 0
