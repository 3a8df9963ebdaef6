"""Backends chosen by tier: ``[tier]``, ``[team]`` and ``[queue]`` decide, in one place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdstore.cli import cli
from mdstore.config import load_config
from mdstore.errors import ConfigError
from mdstore.queue import JobState, PostgresQueue, SpoolQueue, open_queue
from mdstore.tiers import plan
from tests.conftest import cli_run


def make_vault(tmp_path: Path, toml: str) -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "mdstore.toml").write_text(toml)
    return root


def test_the_local_tier_uses_the_spool(tmp_path: Path) -> None:
    config = load_config(make_vault(tmp_path, ""))
    assert plan(config).queue == "spool" and plan(config).sync == "none" and not plan(config).needs_database
    with open_queue(config) as q:
        assert isinstance(q, SpoolQueue)


def test_the_team_tier_uses_the_team_database(tmp_path: Path, pg_url: str) -> None:
    root = make_vault(tmp_path, '[tier]\nname = "team"\n[team]\nurl = "${TEAM_URL}"\nspace = "docs"\n')
    config = load_config(root, environ={"TEAM_URL": pg_url})
    assert plan(config).queue == "postgres" and plan(config).sync == "postgres"
    with open_queue(config) as q:
        assert isinstance(q, PostgresQueue)
        q.enqueue("x", key="1")
    # An explicit backend wins over the tier's.
    local = load_config(root, environ={"TEAM_URL": pg_url}, overrides={"queue": {"backend": "spool"}})
    with open_queue(local) as q:
        assert isinstance(q, SpoolQueue) and q.length() == 0


def test_a_postgres_queue_needs_a_url(tmp_path: Path) -> None:
    for toml in ('[tier]\nname = "team"\n', '[queue]\nbackend = "postgres"\n'):
        root = tmp_path / str(len(toml))
        root.mkdir()
        (root / "mdstore.toml").write_text(toml)
        with pytest.raises(ConfigError, match="team.url"):
            open_queue(load_config(root))
    root = tmp_path / "bad"
    root.mkdir()
    (root / "mdstore.toml").write_text('[queue]\nbackend = "redis"\n')
    with pytest.raises(ConfigError, match="queue.backend"):
        load_config(root)


def test_cli_enqueue_and_worker_run_on_the_team_queue(tmp_path: Path, pg_url: str) -> None:
    root = make_vault(tmp_path, f'[tier]\nname = "team"\n[team]\nurl = "{pg_url}"\n')
    (root / "a.md").write_text("# A\n")

    def run(*args: str) -> str:
        return cli_run(*args, vault=root, code=0).stdout

    job = json.loads(run("queue", "enqueue", "index", '{"paths": ["a.md"]}', "--key", "a", "--json"))
    assert json.loads(run("queue", "stats", "--json"))["new"] == 1
    run("worker", "--burst")
    with PostgresQueue(pg_url) as q:
        done = q.get(job["id"])
        assert done is not None and done.state is JobState.DONE


def test_an_unreachable_team_database_is_one_clear_error(tmp_path: Path) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/none"
    root = make_vault(tmp_path, f'[tier]\nname = "team"\n[team]\nurl = "{url}"\n')
    result = CliRunner().invoke(cli, ["--vault", str(root), "queue", "stats"])
    assert result.exit_code == 11, result.output
    assert "127.0.0.1:1/none" in result.output and "secret" not in result.output
    assert "Traceback" not in result.output


def test_move_waiting_jobs_from_the_spool_to_postgres_under_the_same_ids(tmp_path: Path, pg_url: str) -> None:
    from mdstore.queue.moves import move_jobs

    spool = SpoolQueue(tmp_path / "spool", fsync=False)
    ids = [
        spool.enqueue("index", {"paths": [f"{n}.md"]}, key=f"{n}.md", priority=n % 3).id for n in range(20)
    ]
    later = spool.enqueue("commit", {"message": "later"}, key="later", delay=3600)
    spool.enqueue("bad", max_attempts=1, priority=100)
    bad = spool.claim()
    assert bad is not None and bad.kind == "bad"
    spool.fail(bad, "broken", retry=False)
    spool.enqueue("busy", priority=100)
    busy = spool.claim()
    assert busy is not None
    with PostgresQueue(pg_url) as team:
        team.enqueue("index", {"paths": ["3.md"]}, key="3.md")  # as if an earlier move was cut short
        report = move_jobs(spool, team)
        assert (report.moved, report.running, report.dead) == (21, 1, 1)
        assert spool.length() == 0
        assert team.length() == 21 and team.stats().delayed == 1
        moved = team.get(later.id)
        assert moved is not None and moved.state is JobState.DELAYED and moved.payload == {"message": "later"}
        assert moved.not_before is not None and moved.not_before > later.created_at + 3500
        assert {j.id for j in team.jobs(JobState.NEW)} == set(ids)
        # Claim order (priority, then enqueue order) survives the move.
        first = team.claim()
        assert first is not None and first.priority == 2
        # A second run moves nothing and doubles nothing.
        assert move_jobs(spool, team).moved == 0 and team.length() == 20
    spool.close()
