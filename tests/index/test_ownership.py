"""Two processes and one index: readers wait a bounded time, then get IndexBusy; never DuckDB's
raw lock error. The owner lock names its holder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import mdstore

HOLD_WRITE = """
import sys, time
import mdstore
from mdstore.index.store import store_for
from mdstore.index.lock import OwnerLock
vault = mdstore.open(sys.argv[1])
lock = OwnerLock(vault.config.state_dir, role="test-holder")
lock.acquire(5)
with store_for(vault.config.state_dir, 5).write() as con:
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
lock.release()
"""

SYNC_LOOP = """
import sys, time
import mdstore
vault = mdstore.open(sys.argv[1], index={"busy_timeout": 60})
root = vault.root
print("ready", flush=True)
for i in range(int(sys.argv[2])):
    (root / f"burst/n{i}.md").write_text(f"---\\nn: {i}\\n---\\n# n{i}\\n[[n{max(i - 1, 0)}]]\\n")
    vault.sync()
vault.close()
"""


def start(script: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() in ("holding", "ready"), proc.stderr.read() if proc.stderr else line
    return proc


@pytest.fixture
def vault(make_vault):
    v = make_vault({"a.md": "# A\n", "burst/keep.md": ""})
    v.sync()
    v.close()
    return v


def test_reader_gets_index_busy_after_its_timeout(vault):
    holder = start(HOLD_WRITE, str(vault.root), "4")
    try:
        reader = mdstore.open(vault.root, index={"busy_timeout": 0.5})
        t0 = time.monotonic()
        with pytest.raises(mdstore.IndexBusy) as info:
            reader.find()
        assert time.monotonic() - t0 < 3.5
        assert "Could not set lock" not in str(info.value)
        assert "in use by another process" in str(info.value)
    finally:
        holder.communicate(timeout=30)
    assert reader.find().paths() == ["a.md", "burst/keep.md"]
    reader.close()


def test_reader_waits_for_a_short_write(vault):
    holder = start(HOLD_WRITE, str(vault.root), "1")
    try:
        reader = mdstore.open(vault.root, index={"busy_timeout": 20})
        assert "a.md" in reader.find().paths()
    finally:
        holder.communicate(timeout=30)
    reader.close()


def test_second_writer_is_told_who_holds_the_lock(vault):
    holder = start(HOLD_WRITE, str(vault.root), "4")
    try:
        other = mdstore.open(vault.root, index={"busy_timeout": 0.5})
        with pytest.raises(mdstore.IndexBusy, match=r"pid \d+ \(test-holder\)"):
            other.sync()
    finally:
        holder.communicate(timeout=30)
    other.close()


def test_readers_keep_working_while_another_process_syncs(vault):
    writer = start(SYNC_LOOP, str(vault.root), "40")
    reader = mdstore.open(vault.root, index={"busy_timeout": 60})
    seen: list[int] = []
    try:
        while writer.poll() is None:
            seen.append(len(reader.find(folder="burst")))
            time.sleep(0.01)
    finally:
        _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert seen == sorted(seen), "a reader must never see the index go backwards"
    assert len(reader.find(folder="burst")) == 41
    reader.close()


def test_cli_reports_busy_in_one_line(vault, tmp_path: Path):
    holder = start(HOLD_WRITE, str(vault.root), "4")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "mdstore", "--vault", str(vault.root), "find"],
            capture_output=True,
            text=True,
            timeout=60,
            env={"MDSTORE_INDEX_BUSY_TIMEOUT": "0.3", "PATH": ""},
        )
    finally:
        holder.communicate(timeout=30)
    assert out.returncode == mdstore.IndexBusy.exit_code
    assert out.stderr.startswith("Error: ") and out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr


FORK_AND_HOLD = """
import os, sys, time
import mdstore
from mdstore.index.lock import OwnerLock
vault = mdstore.open(sys.argv[1])
lock = OwnerLock(vault.config.state_dir, role="forking-owner")
lock.acquire(5)
child = os.fork()
if child == 0:          # like a Whoosh/multiprocessing worker: outlives its killed parent
    print(os.getpid(), flush=True)  # printed once the child runs (its after-fork step has run)
    time.sleep(30)
    os._exit(0)
time.sleep(30)
"""


def test_a_forked_child_does_not_keep_the_owner_lock(vault):
    import os
    import signal

    from mdstore.index.lock import OwnerLock

    proc = subprocess.Popen(
        [sys.executable, "-c", FORK_AND_HOLD, str(vault.root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    try:
        lock = OwnerLock(vault.config.state_dir)
        assert lock.is_locked()
        proc.kill()
        proc.wait(timeout=30)
        os.kill(child, 0)  # the child is still alive...
        assert not lock.is_locked(), "...but the dead owner's lock must be free"
    finally:
        proc.stdout.close()
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_writer_killed_while_waiting_does_not_hold_readers_back(tmp_path):
    """A writer announces itself (so readers let it in first); killed while it waited, its
    announcement must not keep readers out until it goes stale."""
    root = tmp_path / "v"
    root.mkdir()
    (root / "a.md").write_text("# A\n")
    with mdstore.open(root) as vault:
        vault.sync()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (root / ".mdstore" / "writer.waiting").write_text(dead.stdout.strip())
    with mdstore.open(root, index={"busy_timeout": 1}) as vault:
        assert vault.find().column("path") == ["a.md"]
