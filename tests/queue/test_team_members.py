"""Members of a team (login roles granted ``mdstore_member``, never superusers) use the team's
PostgreSQL job queue: ``team init`` by an administrator sets it up, members enqueue, work, retry."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg

from mdstore.pg import apply_migrations, connect
from mdstore.queue import PostgresQueue
from mdstore.queue.postgres_schema import COMPONENT, MIGRATIONS
from tests.conftest import cli_run

SPACE = "research"
FAST = "max_attempts = 2\nbackoff_seconds = 0.01\nbackoff_max_seconds = 0.05\npoll_seconds = 0.005\n"


def _vault(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "mdstore.toml").write_text(
        f'[tier]\nname = "team"\n[team]\nurl = "${{MDSTORE_TEAM_URL}}"\nspace = "{SPACE}"\n'
        f'[search]\nengine = "none"\n[queue]\nfsync = false\n{FAST}'
    )
    return root


def _admin_setup(tmp_path: Path, url: str, *members: str) -> None:
    admin = tmp_path / "admin"
    admin.mkdir(exist_ok=True)
    env = {"MDSTORE_TEAM_URL": url}
    cli_run("team", "init", "--space", SPACE, vault=admin, env=env, code=0)
    for role in members:
        cli_run("team", "members", "add", role, "--space", SPACE, vault=admin, env=env, code=0)


def _member_url(pg_cluster, admin_url: str, role: str) -> str:  # type: ignore[no-untyped-def]
    dbname = admin_url.split("/")[3].split("?")[0]
    url = str(pg_cluster.url(dbname, role))
    with psycopg.connect(url) as conn:  # a real member: no superuser, no rights to create tables
        assert conn.execute(
            "SELECT rolsuper, has_schema_privilege('public', 'CREATE') FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone() == (False, False)
    return url


def test_members_enqueue_work_retry_and_inspect_the_queue(pg_cluster, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _admin_setup(tmp_path, pg_url, "ann_q", "bob_q")
    ann_env = {"MDSTORE_TEAM_URL": _member_url(pg_cluster, pg_url, "ann_q")}
    bob_env = {"MDSTORE_TEAM_URL": _member_url(pg_cluster, pg_url, "bob_q")}
    ann, bob = _vault(tmp_path, "ann"), _vault(tmp_path, "bob")
    (bob / "a.md").write_text("# A\n")

    def run(vault: Path, env: dict[str, str], *args: str) -> str:
        return str(cli_run(*args, vault=vault, env=env, code=0).stdout)

    # Ann enqueues: one job a worker can run, one no handler runs (it fails, then is dead).
    paths = '{"paths": ["a.md"]}'
    index = json.loads(run(ann, ann_env, "queue", "enqueue", "index", paths, "--key", "a", "--json"))
    orphan = json.loads(run(ann, ann_env, "queue", "enqueue", "orphan", "--any-kind", "--json"))
    assert json.loads(run(bob, bob_env, "queue", "stats", "--json"))["new"] == 2
    # Bob works them: claims, acks, failures with retries, the dead letter.
    run(bob, bob_env, "worker", "--burst")
    stats = json.loads(run(ann, ann_env, "queue", "stats", "--json"))
    assert (stats["done"], stats["dead"], stats["new"]) == (1, 1, 0)
    with PostgresQueue(ann_env["MDSTORE_TEAM_URL"]) as queue:  # its last error is the traceback
        dead = queue.get(orphan["id"])
        assert dead is not None and dead.state == "dead" and dead.attempts == 2
        assert "no handler" in (dead.last_error or "")
    assert json.loads(run(ann, ann_env, "queue", "show", index["id"], "--json"))["state"] == "done"
    # Retry from the dead letter, and purge.
    run(ann, ann_env, "queue", "retry", orphan["id"])
    assert json.loads(run(bob, bob_env, "queue", "stats", "--json"))["new"] == 1
    run(bob, bob_env, "queue", "purge", "--state", "new")
    stats = json.loads(run(bob, bob_env, "queue", "stats", "--json"))
    assert (stats["new"], stats["dead"], stats["done"]) == (0, 0, 1)


def test_a_member_uses_the_queue_api_leases_and_pubsub(pg_cluster, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _admin_setup(tmp_path, pg_url, "cay_q", "dee_q")
    cay_url = _member_url(pg_cluster, pg_url, "cay_q")
    dee_url = _member_url(pg_cluster, pg_url, "dee_q")
    with PostgresQueue(cay_url, backoff=0.01, backoff_max=0.02) as cay, PostgresQueue(dee_url) as dee:
        jobs = cay.enqueue_many([("send", {"n": n}, str(n), None) for n in range(3)])
        claimed = dee.claim_many(2, lease=30)
        dee.extend(claimed[0], 60)
        assert dee.ack_many(claimed) == []
        last = dee.claim()
        assert last is not None and last.id == jobs[2].id
        dee.release(last)
        assert cay.wait(1.0) and cay.length() == 1
        got: list[object] = []
        seen = threading.Event()
        sub = dee.subscribe("news", lambda m: (got.append(m), seen.set()), durable="dee")
        cay.publish("news", {"hello": "team"})
        assert seen.wait(5) and got == [{"hello": "team"}]
        sub.close()
        assert cay.prune() >= 0


def test_a_member_gets_one_line_until_the_queue_is_updated(pg_cluster, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _admin_setup(tmp_path, pg_url, "eve_q")
    with connect(pg_url) as conn:  # the queue as an earlier mdstore left it: its first version only
        conn.execute("DROP TABLE mdstore_jobs, mdstore_messages, mdstore_cursors")
        conn.execute("DELETE FROM mdstore_schema WHERE component = %s", (COMPONENT,))
        conn.commit()
        apply_migrations(conn, COMPONENT, MIGRATIONS[:1])
    env = {"MDSTORE_TEAM_URL": _member_url(pg_cluster, pg_url, "eve_q")}
    eve = _vault(tmp_path, "eve")
    refused = cli_run("queue", "stats", vault=eve, env=env, code=11)
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "mdstore team init" in lines[0] and "eve_q@" in lines[0], refused.stderr
    _admin_setup(tmp_path, pg_url)  # the administrator runs team init again
    assert json.loads(cli_run("queue", "stats", "--json", vault=eve, env=env, code=0).stdout)["new"] == 0
