"""``mdstore doctor`` / ``Vault.health()``: each backend checked; unreachable Postgres is a failed
check with a bounded wait, and the local vault keeps working."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

import mdstore
from mdstore.cli import cli
from mdstore.queue import SpoolQueue
from mdstore.queue.outbox import Outbox
from mdstore.queue.postgres_schema import MIGRATIONS as QUEUE_MIGRATIONS


def make_vault(tmp_path: Path, toml: str = "") -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "mdstore.toml").write_text(toml)
    (root / "a.md").write_text("# A\n")
    return root


def doctor(root: Path, code: int) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["--vault", str(root), "doctor", "--json"])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    report: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return report


def test_a_healthy_local_vault(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    report = doctor(root, 0)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] and set(checks) == {"tier", "queue", "outbox", "watcher"}
    assert checks["queue"]["backend"] == "spool" and checks["queue"]["status"] == "ok"
    with mdstore.open(root) as vault:
        assert vault.health().ok


def test_a_healthy_team_vault_reports_the_database(tmp_path: Path, pg_url: str) -> None:
    root = make_vault(tmp_path, f'[tier]\nname = "team"\n[team]\nurl = "{pg_url}"\n')
    report = doctor(root, 0)
    db = {c["name"]: c for c in report["checks"]}["team database"]
    assert db["status"] == "ok" and db["server_version"].startswith("15") and db["latency_ms"] >= 0
    assert db["schema"] == {} and "created on first use" in db["detail"]
    again = {c["name"]: c for c in doctor(root, 0)["checks"]}["team database"]
    assert again["schema"] == {"queue": len(QUEUE_MIGRATIONS)}  # the queue check created it


def test_unreachable_postgres_fails_fast_and_the_vault_keeps_working(tmp_path: Path) -> None:
    url = "postgresql://ann:hunter2@127.0.0.1:1/team"
    root = make_vault(tmp_path, f'[tier]\nname = "team"\n[team]\nurl = "{url}"\n')
    Outbox(root / ".mdstore").record("push", {"path": "a.md"})
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--vault", str(root), "doctor"])
    assert time.monotonic() - started < 30
    assert result.exit_code == 1 and "hunter2" not in result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert (
        checks["team database"]["status"] == "fail"
        and "127.0.0.1:1/team" in checks["team database"]["detail"]
    )
    assert checks["queue"]["status"] == "fail"
    assert checks["outbox"]["status"] == "warn" and checks["outbox"]["pending"] == 1
    with mdstore.open(root) as vault:  # local files and the index do not need the database
        vault.sync()
        assert [n["path"] for n in vault.find()] == ["a.md"]
        assert not vault.health().ok


def test_dead_jobs_and_failed_publishes_are_warnings(tmp_path: Path) -> None:
    root = make_vault(tmp_path, "[queue]\nfsync = false\n")
    queue = SpoolQueue(root / ".mdstore" / "queue", fsync=False, max_attempts=1)
    queue.enqueue("bad")
    job = queue.claim()
    assert job is not None
    queue.fail(job, "boom")
    queue.close()
    report = doctor(root, 0)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["queue"]["status"] == "warn" and checks["queue"]["dead"] == 1


def test_a_bad_tier_config_is_a_failed_check(tmp_path: Path) -> None:
    root = make_vault(tmp_path, '[tier]\nname = "team"\n')
    report = doctor(root, 1)
    assert report["checks"][0]["name"] == "config" and "team.url" in report["checks"][0]["detail"]
