"""``mdstore team upgrade`` (local -> team in one command) and ``mdstore team clone``, against a real
PostgreSQL: the happy path, bad input, an existing space, and interruptions (kill -9 of the real
command at each step, the server stopped) after which the same command finishes with nothing
duplicated or lost."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from click.testing import CliRunner

import mdstore
from mdstore.backup import verify
from mdstore.cli import cli
from mdstore.queue import JobState
from mdstore.tiers import plan
from tests.team.conftest import SPACE, tree, write

NEW = "handbook"


def _run(vault: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--vault", str(vault), *args], env=env, catch_exceptions=False)


def _local_vault(root: Path, notes: int = 20, jobs: int = 3) -> list[str]:
    """A local vault with notes, an attachment, commented settings and waiting jobs; the job ids."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mdstore.toml").write_text(
        '# my settings\n[search]\nengine = "none"  # no search here\n\n'
        '[queue]\nbackend = "spool"\nfsync = false\n'
    )
    for i in range(notes):
        write_note(
            root,
            f"Notes/n{i:04}.md",
            f"---\nstatus: s{i % 3}\ntags: [t{i % 5}]\n---\n# Note {i}\n\nBody {i}.\n",
        )
    (root / "Files").mkdir()
    (root / "Files" / "pic.png").write_bytes(bytes(range(256)) * 4)
    vault = mdstore.open(root)
    try:
        q = mdstore.open_queue(vault.config)
        ids = [q.enqueue("hook", {"n": i}, key=f"k{i}").id for i in range(jobs)]
        ids.append(q.enqueue("later", {"n": -1}, key="later", delay=3600).id)
        q.close()
    finally:
        vault.close()
    return ids


def write_note(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _files(root: Path) -> dict[str, str]:
    """The vault's shared files and their hashes (as the upgrade must leave them on the server)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".") and rel != "mdstore.toml":
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _assert_upgraded(root: Path, url: str, space: str, files: dict[str, str], job_ids: list[str]) -> None:
    """Every file once on the server with its bytes, every job once in the team queue, the spool
    empty, the vault on the team tier, no unfinished record."""
    with psycopg.connect(url) as conn:
        live = dict(
            conn.execute(
                "SELECT path, encode(sha256(content), 'hex') FROM team_notes "
                "WHERE space = %s AND NOT deleted",
                (space,),
            ).fetchall()
        )
        revisions = conn.execute(
            "SELECT path, count(*) FROM team_revisions WHERE space = %s GROUP BY path HAVING count(*) > 1",
            (space,),
        ).fetchall()
        jobs = conn.execute(
            "SELECT id, count(*), min(state) FROM mdstore_jobs WHERE queue = 'default' GROUP BY id"
        ).fetchall()
    assert live == files
    assert revisions == []  # nothing pushed twice
    assert sorted((i, 1, "waiting") for i in job_ids) == sorted(jobs)
    assert not list((root / ".mdstore" / "queue" / "default" / "new").iterdir())
    assert not list((root / ".mdstore" / "queue" / "default" / "delayed").iterdir())
    assert not (root / ".mdstore" / "team" / "upgrade.json").exists()
    with mdstore.open(root, team={"url": url}) as vault:  # the file may hold a ${ENV} reference
        chosen = plan(vault.config)
        assert (chosen.tier, chosen.queue, vault.config.team.space) == ("team", "postgres", space)
        with mdstore.open_queue(vault.config) as queue:
            assert queue.get(job_ids[0]) is not None


def test_upgrade_backs_up_pushes_moves_jobs_verifies_then_switches(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "v"
    ids = _local_vault(root)
    files = _files(root)
    env = {"MDSTORE_TEAM_URL": pg_url}
    done = _run(root, "team", "upgrade", "--space", NEW, "--json", env=env)
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["notes"], report["attachments"], report["pushed"]) == (20, 1, 21)
    assert report["jobs"] == {"default": 4} and report["resumed"] is False
    _assert_upgraded(root, pg_url, NEW, files, ids)
    text = (root / "mdstore.toml").read_text()
    # The user's settings and comments stay; the URL is stored as the reference, never expanded.
    assert text.startswith('# my settings\n[search]\nengine = "none"  # no search here\n')
    assert 'url = "${MDSTORE_TEAM_URL}"' in text and pg_url not in text
    assert verify(report["backup"]) == len(files) + 1 + 4  # files, config, jobs
    # On the team tier now: a sync has nothing to do, and a second upgrade is refused.
    with mdstore.open(root, team={"url": pg_url}) as vault:
        again = vault.team.sync()
        assert (again.pushed, again.pulled) == ((), ())
    refused = _run(root, "team", "upgrade", "--space", NEW, env=env)
    assert refused.exit_code == 21 and "team tier already" in refused.stderr


def test_dry_run_changes_nothing(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "v"
    _local_vault(root)
    before = (root / "mdstore.toml").read_text()
    done = _run(root, "team", "upgrade", "--space", NEW, "--url", pg_url, "--dry-run")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["dry_run"] is True and report["jobs"] == {"default": 4} and report["notes"] == 20
    assert "tier.name = 'team'" in report["config"] and "queue.backend = 'auto'" in report["config"]
    assert (root / "mdstore.toml").read_text() == before
    assert not (root / ".mdstore" / "backups").exists() or not any((root / ".mdstore" / "backups").iterdir())
    assert len(list((root / ".mdstore" / "queue" / "default" / "new").iterdir())) == 3
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('team_spaces')").fetchone() == (None,)


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path, pg_url: str, pg_cluster) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "v"
    _local_vault(root, notes=2, jobs=0)
    before = (root / "mdstore.toml").read_text()
    secret = pg_url.replace("postgres@", "postgres:hunter2@")
    bad = _run(root, "team", "upgrade", "--space", NEW, "--url", secret)
    assert bad.exit_code == 10 and "hunter2" not in bad.output and "password" in bad.stderr
    bad = _run(root, "team", "upgrade", "--space", "no spaces/here", "--url", pg_url)
    assert bad.exit_code == 10 and "no spaces/here" in bad.stderr
    down = f"postgresql://ann@/x?host={tmp_path}/nowhere&port=1"
    bad = _run(root, "team", "upgrade", "--space", NEW, "--url", down)
    assert bad.exit_code == 11 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.output
    bad = _run(root, "team", "upgrade", "--space", NEW)  # no URL, no MDSTORE_TEAM_URL
    assert bad.exit_code == 10 and "MDSTORE_TEAM_URL" in bad.stderr
    assert (root / "mdstore.toml").read_text() == before
    assert not (root / ".mdstore" / "team" / "upgrade.json").exists()


def test_an_existing_space_is_refused_unless_resume(tmp_path: Path, team_url: str, clone) -> None:  # type: ignore[no-untyped-def]
    other = clone("other")
    write(other, "Theirs.md", "# Theirs\n")
    other.team.sync()
    root = tmp_path / "v"
    ids = _local_vault(root, notes=3, jobs=1)
    refused = _run(root, "team", "upgrade", "--space", SPACE, "--url", team_url)
    assert refused.exit_code == 21 and "--resume" in refused.stderr and refused.stderr.count("\n") == 1
    assert 'name = "team"' not in (root / "mdstore.toml").read_text()
    done = _run(root, "team", "upgrade", "--space", SPACE, "--url", team_url, "--resume", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["resumed"] is True and report["pulled"] == 1 and report["pushed"] == 4
    assert (root / "Theirs.md").read_text() == "# Theirs\n"
    _assert_upgraded(root, team_url, SPACE, _files(root), ids)


def test_running_jobs_in_the_spool_stop_the_upgrade_before_the_switch(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "v"
    _local_vault(root, notes=2, jobs=2)
    with mdstore.open(root) as vault:
        q = mdstore.open_queue(vault.config)
        running = q.claim(lease=600)
        assert running is not None
        bad = _run(root, "team", "upgrade", "--space", NEW, "--url", pg_url)
        assert bad.exit_code == 21 and "running" in bad.stderr and "mdstore worker" in bad.stderr
        assert 'name = "team"' not in (root / "mdstore.toml").read_text()
        q.ack(running)
        q.close()
    done = _run(root, "team", "upgrade", "--space", NEW, "--url", pg_url)  # the same command finishes
    assert done.exit_code == 0, done.output


def test_a_job_run_by_the_team_after_a_cut_short_move_is_not_moved_again(tmp_path: Path, pg_url: str) -> None:
    """Killed between adding a job to the team queue and removing it from the spool, an upgrade
    leaves the job in both; a team worker elsewhere runs it; the upgrade run again must not add it
    to the team queue a second time (it would run twice)."""
    from mdstore.queue import PostgresQueue, SpoolQueue
    from mdstore.queue.moves import move_jobs

    def run_ready(team: PostgresQueue, ran: list[str]) -> None:
        """A team worker: runs every ready job and acks it (the delayed one is not ready)."""
        while (job := team.claim()) is not None:
            ran.append(job.id)
            team.ack(job)

    root = tmp_path / "v"
    ids = _local_vault(root, notes=2, jobs=3)
    # The state such a kill leaves, for every job: the move done from a copy of the spool adds
    # each job to the team queue exactly as the upgrade does, and the vault's spool still holds it.
    copy = tmp_path / "copy"
    shutil.copytree(root / ".mdstore" / "queue", copy, symlinks=True)
    ran: list[str] = []
    with SpoolQueue(copy, fsync=False) as half, PostgresQueue(pg_url) as team:
        assert move_jobs(half, team).moved == len(ids)
        run_ready(team, ran)
    assert sorted(ran) == sorted(ids[:3])  # the team worker ran them (the delayed one waits)
    result = _run(root, "team", "upgrade", "--space", NEW, "--url", pg_url)
    assert result.exit_code == 0, result.output
    with PostgresQueue(pg_url) as team:
        run_ready(team, ran)
        assert sorted(ran) == sorted(ids[:3])  # each ran once
        assert {j.id for j in team.jobs(JobState.DONE)} == set(ids[:3])
        assert [j.id for j in team.jobs(JobState.DELAYED)] == [ids[3]]  # one, not two
        assert team.stats().done == 3 and team.stats().waiting == 1
    assert not list((root / ".mdstore" / "queue" / "default" / "new").iterdir())
    assert not list((root / ".mdstore" / "queue" / "default" / "delayed").iterdir())


def _command(root: Path, url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mdstore",
        "--vault",
        str(root),
        "team",
        "upgrade",
        "--space",
        NEW,
        "--url",
        url,
    ]


def _step(root: Path) -> str:
    try:
        return str(json.loads((root / ".mdstore" / "team" / "upgrade.json").read_text())["step"])
    except (OSError, ValueError, KeyError):
        return ""


def _run_until(
    root: Path, url: str, step: str, timeout: float = 120.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the real command; return it once its record shows ``step`` (or it ended)."""
    proc = subprocess.Popen(_command(root, url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    seen = ""
    while proc.poll() is None and time.monotonic() < deadline:
        seen = _step(root)
        if seen == step:
            break
        time.sleep(0.001)
    return proc, seen


def test_kill_9_at_each_step_then_the_same_command_finishes(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "v"
    ids = _local_vault(root, notes=300, jobs=40)
    files = _files(root)
    interrupted = []
    for step in ("backup", "schema", "push", "jobs", "verify", "switch"):
        proc, seen = _run_until(root, pg_url, step)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            interrupted.append(seen)
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        assert _files(root) == files  # no note was touched
    assert {"backup", "push"} <= set(interrupted)  # the long steps were surely hit
    done = subprocess.run(_command(root, pg_url), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _assert_upgraded(root, pg_url, NEW, files, ids)
    backups = list((root / ".mdstore" / "backups").iterdir())
    assert len(backups) == 1  # the backup of the first run was kept, not taken again


def test_postgres_stopped_mid_upgrade_then_the_same_command_finishes(
    tmp_path: Path, pg_url: str, pg_cluster
) -> None:  # type: ignore[no-untyped-def]
    dbname = pg_url.split("/")[3].split("?")[0]
    pg_cluster.sql(f'ALTER DATABASE "{dbname}" SET synchronous_commit = on')  # a real server's default
    root = tmp_path / "v"
    ids = _local_vault(root, notes=300, jobs=10)
    files = _files(root)
    try:
        proc, seen = _run_until(root, pg_url, "push")
        assert seen == "push"
        pg_cluster.stop(immediate=True)
        out, err = proc.communicate(timeout=120)
    finally:
        try:
            psycopg.connect(pg_cluster.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            pg_cluster.start()
    if proc.returncode != 0:  # the server went away under it: one clear line, no traceback
        lines = err.decode().strip().splitlines()
        assert proc.returncode == 11 and len(lines) == 1 and "Traceback" not in err.decode(), err
    assert _files(root) == files
    done = subprocess.run(_command(root, pg_url), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _assert_upgraded(root, pg_url, NEW, files, ids)


def test_clone_creates_a_vault_from_the_space(tmp_path: Path, pg_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MDSTORE_TEAM_URL", pg_url)
    root = tmp_path / "v"
    _local_vault(root, notes=5, jobs=0)
    env = {"MDSTORE_TEAM_URL": pg_url}
    assert _run(root, "team", "upgrade", "--space", NEW, env=env).exit_code == 0
    dest = tmp_path / "copy"
    done = CliRunner().invoke(
        cli, ["team", "clone", "${MDSTORE_TEAM_URL}", "--space", NEW, str(dest), "--json"], env=env
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["revision"] == 6
    assert _files(dest) == _files(root)
    assert 'url = "${MDSTORE_TEAM_URL}"' in (dest / "mdstore.toml").read_text()
    with mdstore.open(dest) as copy:
        assert plan(copy.config).tier == "team"
        write(copy, "Notes/from-copy.md", "# From the copy\n")
        copy.team.sync()
    with mdstore.open(root) as vault:
        assert vault.team.sync().pulled == ("Notes/from-copy.md",)
    with mdstore.open(root) as vault, mdstore.open(dest) as copy:
        assert tree(vault) == tree(copy)


def test_clone_refuses_a_folder_with_files_a_missing_space_and_a_password(
    tmp_path: Path, pg_url: str
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.md").write_text("# mine\n")

    def clone(url: str, dest: Path, space: str = NEW):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["team", "clone", url, "--space", space, str(dest)])

    bad = clone(pg_url, full)
    assert bad.exit_code == 21 and "holds files" in bad.stderr
    assert sorted(p.name for p in full.iterdir()) == ["mine.md"]
    bad = clone(pg_url, tmp_path / "new")  # the database has no schema, so no space
    assert bad.exit_code == 11 and bad.stderr.count("\n") == 1 and not (tmp_path / "new").exists()
    bad = clone(pg_url.replace("postgres@", "postgres:hunter2@"), tmp_path / "new")
    assert bad.exit_code == 10 and "hunter2" not in bad.output


def test_a_clone_killed_mid_pull_finishes_when_run_again(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "v"
    _local_vault(root, notes=300, jobs=0)
    assert (
        _run(root, "team", "upgrade", "--space", NEW, "--url", pg_url, "--backup", str(tmp_path)).exit_code
        == 0
    )
    assert len(list(tmp_path.glob("v-*.mdstore.tar.gz"))) == 1  # --backup names the folder
    dest = tmp_path / "copy"
    command = [sys.executable, "-m", "mdstore", "team", "clone", pg_url, str(dest), "--space", NEW]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = dest / ".mdstore" / "team" / "clone.json"
    while proc.poll() is None and not marker.exists():
        time.sleep(0.001)
    time.sleep(0.3)  # into the pull
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _files(dest) == _files(root) and not marker.exists()
    again = subprocess.run(command, capture_output=True, text=True)  # a finished clone is not redone
    assert again.returncode == 21 and "holds files" in again.stderr
