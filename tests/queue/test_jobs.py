"""The vault's own jobs, run by a worker against a real vault."""

from __future__ import annotations

from pathlib import Path

import mdstore
from mdstore import vault_handlers
from mdstore.queue import JobState, SpoolQueue, Worker, enqueue_index, open_queue

from .conftest import FAST


def work(queue: SpoolQueue, root: Path) -> None:
    Worker(queue, vault_handlers(root)).run(burst=True, install_signals=False)


def notes_in_index(root: Path) -> set[str]:
    with mdstore.open(root) as vault:
        return {row["path"] for row in vault.sql("SELECT path FROM notes")}


def test_index_rebuild_and_check_jobs(make_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vault = make_vault({"a.md": "# A\n\nSee [[b]].\n", "b.md": "# B\n"})
    root = vault.root
    vault.close()
    queue = SpoolQueue(root / ".mdstore" / "queue", fsync=False, **FAST)
    first = enqueue_index(queue, ["b.md", "a.md"])
    assert enqueue_index(queue, ["a.md", "b.md", "a.md"]).id == first.id and queue.length() == 1
    work(queue, root)
    assert notes_in_index(root) == {"a.md", "b.md"}

    (root / "c.md").write_text("# C\n")
    rebuild = queue.enqueue("rebuild")
    check = queue.enqueue("check")
    work(queue, root)
    assert notes_in_index(root) == {"a.md", "b.md", "c.md"}
    for job in (first, rebuild, check):
        done = queue.get(job.id)
        assert done is not None and done.state is JobState.DONE, done
    queue.close()


def test_bad_index_payload_is_recorded_on_the_job(make_vault) -> None:  # type: ignore[no-untyped-def]
    vault = make_vault({"a.md": "# A\n"})
    with open_queue(vault.config, fsync=False) as queue:
        job = queue.enqueue("index", {"paths": "a.md"}, max_attempts=1)
        work(queue, vault.root)
        dead = queue.get(job.id)
    assert dead is not None and dead.state is JobState.DEAD and "needs 'paths'" in (dead.last_error or "")
    vault.close()


def test_search_reindex_job_rebuilds_the_search_side(make_vault) -> None:  # type: ignore[no-untyped-def]
    vault = make_vault({"a.md": "# Apples\n\nCrisp orchard fruit.\n", "b.md": "# Pears\n"})
    vault.sync()
    root = vault.root
    vault.close()
    import shutil

    shutil.rmtree(root / ".mdstore" / "search")  # the search side is disposable
    queue = SpoolQueue(root / ".mdstore" / "queue", fsync=False, **FAST)
    job = queue.enqueue("search-reindex")
    work(queue, root)
    done = queue.get(job.id)
    assert done is not None and done.state is JobState.DONE, done
    with mdstore.open(root) as fresh:
        assert fresh.search("orchard").paths() == ["a.md"]
    queue.close()


def test_commit_job_commits_the_vault(make_vault) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    vault = make_vault({"a.md": "# A\n"})
    root = vault.root
    vault.close()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for key, value in (("user.name", "Queue Test"), ("user.email", "queue@example.org")):
        subprocess.run(["git", "-C", str(root), "config", key, value], check=True)
    queue = SpoolQueue(root / ".mdstore" / "queue", fsync=False, **FAST)
    job = queue.enqueue("commit", {"message": "from the queue"})
    work(queue, root)
    done = queue.get(job.id)
    assert done is not None and done.state is JobState.DONE, done
    log = subprocess.run(["git", "-C", str(root), "log", "--format=%s", "--name-only"], capture_output=True, text=True)
    assert "from the queue" in log.stdout and "a.md" in log.stdout
    assert ".mdstore" not in log.stdout
    queue.close()
