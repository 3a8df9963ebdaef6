"""``mdstore queue ...`` and ``mdstore worker``: effects checked through the queue API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mdstore.cli import cli
from mdstore.config import load_config
from mdstore.queue import JobState, open_queue
from tests.conftest import cli_run


def run(vault: Path, *args: str, code: int = 0) -> str:
    return cli_run(*args, vault=vault, code=code).stdout


def make_vault(tmp_path: Path, toml: str = "") -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "mdstore.toml").write_text(toml)
    return root


def test_enqueue_ls_show_stats(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = run(
        vault,
        "queue",
        "enqueue",
        "send",
        '{"to": "ann"}',
        "--key",
        "ann",
        "--priority",
        "3",
        "--any-kind",
        "--json",
    )
    job = json.loads(out)
    assert job["kind"] == "send" and job["state"] == "new" and job["payload"] == {"to": "ann"}
    again = json.loads(
        run(vault, "queue", "enqueue", "send", '{"to": "bob"}', "--key", "ann", "--any-kind", "--json")
    )
    assert again["id"] == job["id"] and again["payload"] == {"to": "ann"}
    run(vault, "queue", "enqueue", "later", "--delay", "60", "--any-kind")
    rows = [json.loads(line) for line in run(vault, "queue", "ls", "--json").splitlines()]
    assert [r["kind"] for r in rows] == ["send", "later"] and rows[1]["state"] == "delayed"
    assert json.loads(run(vault, "queue", "show", job["id"], "--json"))["priority"] == 3
    stats = json.loads(run(vault, "queue", "stats", "--json"))
    assert stats["new"] == 1 and stats["delayed"] == 1
    with open_queue(load_config(vault)) as q:
        assert q.length() == 2


def test_show_unknown_and_bad_payload(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    result = CliRunner().invoke(cli, ["--vault", str(vault), "queue", "show", "nope"])
    assert result.exit_code == 14 and "no job 'nope'" in result.output
    result = CliRunner().invoke(cli, ["--vault", str(vault), "queue", "enqueue", "x", "{bad"])
    assert result.exit_code == 2


def test_retry_and_purge(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, "[queue]\nmax_attempts = 1\nfsync = false\n")
    with open_queue(load_config(vault)) as q:
        ids = [q.enqueue("bad", n).id for n in range(3)]
        while (job := q.claim()) is not None:
            q.fail(job, "broken")
    dead = [json.loads(line) for line in run(vault, "queue", "ls", "--state", "dead", "--json").splitlines()]
    assert len(dead) == 3 and dead[0]["last_error"] == "broken"
    run(vault, "queue", "retry", ids[0])
    run(vault, "queue", "purge", ids[1])
    run(vault, "queue", "purge", "--state", "new")
    with open_queue(load_config(vault)) as q:
        assert q.stats().dead == 1 and q.length() == 0
    run(vault, "queue", "retry")
    with open_queue(load_config(vault)) as q:
        assert q.stats().dead == 0 and q.length() == 1


def test_worker_runs_handlers_named_in_config(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "myjobs.py").write_text(
        "from pathlib import Path\n"
        "import mdstore.queue\n\n"
        "@mdstore.queue.handler('touch')\n"
        "def touch(job):\n"
        "    Path(job.payload['file']).write_text(job.id)\n\n"
        "def explode(job):\n"
        "    raise RuntimeError('kaboom')\n"
    )
    vault = make_vault(
        tmp_path, '[queue]\nfsync = false\nmax_attempts = 1\nhandlers = ["myjobs", "boom=myjobs:explode"]\n'
    )
    target = tmp_path / "touched"
    with open_queue(load_config(vault)) as q:
        touch = q.enqueue("touch", {"file": str(target)})
        boom = q.enqueue("boom")
    env = {**os.environ, "PYTHONPATH": str(plugins), "MDSTORE_VAULT": str(vault)}
    env.pop("MDSTORE_QUEUE_FSYNC", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from mdstore.cli import main; main()", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == touch.id
    assert "1 jobs done, 1 failed (1 dead, 0 to retry; 1 failed runs)" in proc.stderr
    with open_queue(load_config(vault)) as q:
        dead = q.get(boom.id)
        assert dead is not None and dead.state is JobState.DEAD and "kaboom" in (dead.last_error or "")


def test_enqueue_refuses_a_kind_no_handler_runs(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "known_jobs.py").write_text(
        "import mdstore.queue\n\n@mdstore.queue.handler('touch')\ndef touch(job):\n    pass\n"
    )
    vault = make_vault(tmp_path, '[queue]\nhandlers = ["known_jobs", "mail=known_jobs:touch"]\n')
    sys.path.insert(0, str(plugins))
    try:
        result = CliRunner().invoke(cli, ["--vault", str(vault), "queue", "enqueue", "bogus-kind"])
        assert result.exit_code == 14
        assert result.output.strip().splitlines()[-1] == (
            "Error: unknown job kind 'bogus-kind': no handler runs it (known: check, commit, index, mail, "
            "memory-dream, rebuild, search-reindex, touch); register its handler in [queue] handlers, or enqueue it "
            "anyway for a worker of your own"
        )
        for kind in ("index", "touch", "mail"):
            run(vault, "queue", "enqueue", kind)
        run(vault, "queue", "enqueue", "bogus-kind", "--any-kind")
    finally:
        sys.path.remove(str(plugins))
    with open_queue(load_config(vault)) as q:
        assert sorted(j.kind for j in q.jobs()) == ["bogus-kind", "index", "mail", "touch"]
    broken = (
        make_vault(tmp_path / "b", '[queue]\nhandlers = ["no_such_module_here"]\n')
        if (tmp_path / "b").mkdir() is None
        else None
    )
    result = CliRunner().invoke(cli, ["--vault", str(broken), "queue", "enqueue", "other"])
    assert result.exit_code != 0 and "cannot import 'no_such_module_here'" in result.output


def test_worker_refuses_a_claim_batch_below_one(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, "[queue]\nfsync = false\n")
    result = cli_run("worker", "--burst", "--claim-batch", "0", vault=vault, code=14)
    assert result.stderr.strip().splitlines()[-1] == "Error: claim_batch 0 must be an integer of at least 1"
    (vault / "mdstore.toml").write_text("[queue]\nfsync = false\nclaim_batch = -2\n")
    result = cli_run("worker", "--burst", vault=vault, code=14)
    assert "claim_batch -2 must be an integer of at least 1" in result.stderr


def test_worker_runs_a_batch_and_acks_it(tmp_path: Path) -> None:
    vault = make_vault(tmp_path, "[queue]\nfsync = false\nclaim_batch = 4\n")
    with open_queue(load_config(vault)) as q:
        ids = [q.enqueue("check").id for _ in range(6)]
    result = cli_run("worker", "--burst", "--json", vault=vault, code=0)
    assert json.loads(result.stdout)["done"] == 6
    with open_queue(load_config(vault)) as q:
        assert {j.id for j in q.jobs(JobState.DONE)} == set(ids) and q.stats().claimed == 0
