"""Several processes writing the same notes at once, with and without a watcher daemon: no write is
lost, and the index ends equal to a rebuild from the files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mdstore
from mdstore.watch import daemon_status
from tests.conftest import dump_index

NOTES = 25

WRITER = r"""
import sys, mdstore
root, who = sys.argv[1], sys.argv[2]
vault = mdstore.open(root, index={"busy_timeout": 120})  # a loaded machine queues writers longer
for i in range(int(sys.argv[3])):
    vault.update(f"n{i:02}.md", set={f"by_{who}": i})
    vault.append(f"n{i:02}.md", f"line from {who} mark{who}{i}")
vault.close()
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    for i in range(NOTES):
        (root / f"n{i:02}.md").write_text(f"---\nstatus: new\n---\n# Note {i}\n", encoding="utf-8")
    (root / "mdstore.toml").write_text('[search]\nengine = "whoosh"\n', encoding="utf-8")
    vault = mdstore.open(root)
    vault.sync()
    vault.close()
    return root


def run_writers(root: Path, who: tuple[str, ...]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), name, str(NOTES)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in who
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err


def check_every_write_landed(root: Path, who: tuple[str, ...]) -> None:
    vault = mdstore.open(root)
    try:
        for i in range(NOTES):
            note = vault.get(f"n{i:02}.md")
            for name in who:
                assert note.frontmatter.get(f"by_{name}") == i, (i, name, note.frontmatter)
                assert f"mark{name}{i}" in note.body, (i, name, note.body)
        assert vault.search("markb7").paths() == ["n07.md"]
        incremental = dump_index(vault)
        vault.sync(rebuild=True)
        assert dump_index(vault) == incremental
    finally:
        vault.close()


def test_concurrent_writers_lose_nothing(root: Path) -> None:
    run_writers(root, ("a", "b", "c"))
    check_every_write_landed(root, ("a", "b", "c"))


def test_concurrent_writers_through_a_daemon_lose_nothing(root: Path) -> None:
    daemon = subprocess.Popen(
        [sys.executable, "-m", "mdstore", "--vault", str(root), "watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        config = mdstore.open(root).config
        deadline = time.monotonic() + 60
        while not daemon_status(config).get("ready"):
            assert daemon.poll() is None, daemon.stderr.read() if daemon.stderr else ""
            assert time.monotonic() < deadline, "the daemon did not get ready"
            time.sleep(0.05)
        run_writers(root, ("a", "b"))
    finally:
        daemon.terminate()
        daemon.communicate(timeout=60)
    check_every_write_landed(root, ("a", "b"))


def test_a_second_same_size_write_in_the_same_clock_tick_is_indexed(tmp_path: Path) -> None:
    """The file system's mtime has a coarse clock: two writes of the same size inside one tick
    leave the stat unchanged. A note written that close to the last sync is read again."""
    root = tmp_path / "vault"
    root.mkdir()
    path = root / "note.md"
    path.write_text("# Note\nalpha\n", encoding="utf-8")
    vault = mdstore.open(root, search={"engine": "none", "related": False})
    try:
        vault.sync()
        before = os.stat(path)
        path.write_text("# Note\nomega\n", encoding="utf-8")  # same size
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same tick
        vault.sync()
        assert "omega" in vault.sql("SELECT body FROM notes").first()["body"]
        vault.sync(paths=["note.md"])  # the targeted path agrees
        path.write_text("# Note\ngamma\n", encoding="utf-8")
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        vault.sync(paths=["note.md"])
        assert "gamma" in vault.sql("SELECT body FROM notes").first()["body"]
    finally:
        vault.close()
