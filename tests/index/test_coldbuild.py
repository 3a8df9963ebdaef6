"""The streamed cold build: a vault larger than one chunk indexes exactly as the one-batch and the
incremental paths do, and a build killed halfway is started over, never taken for complete."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import mdstore
from tests.conftest import dump_index, write_files

SMALL_CHUNK = {"build_chunk": 23, "parse_workers": 2, "parallel_threshold": 10}
ONE_BATCH = {"build_chunk": 1_000_000}


def vault_files(count: int) -> dict[str, str | bytes]:
    """Notes whose links need the whole vault: aliases defined by notes parsed after the notes
    that use them, names shared across folders, Markdown links, attachments, broken YAML."""
    files: dict[str, str | bytes] = {"img/pic.png": b"\x89PNG", "Shared.md": "# top-level shared\n"}
    for i in range(count):
        folder = ["", "a", "b/c", "d"][i % 4]
        later = (i * 7 + 5) % count
        files[f"{folder}/n{i:04d}.md".lstrip("/")] = (
            f"---\naliases: [al{i}]\nstatus: s{i % 3}\ntags: [t{i % 5}]\n---\n"
            f"# Note {i}\n\nSee [[al{later}]], [[n{later:04d}]], [[Shared]], [m](../n{later:04d}.md),"
            f" ![[pic.png]] and [[missing{i % 3}]]. #inline{i % 2}\n"
            f"- [ ] task {i} [due:: 2026-01-0{1 + i % 9}]\n"
        )
    files["a/Shared.md"] = "# nested shared\n"
    files["bad.md"] = "---\nkey: [unclosed\n---\nbody [[al1]]\n"
    return files


def build(root: Path, **index: object) -> dict:
    with mdstore.open(root, index=index) as vault:
        report = vault.sync()
        assert len(report.added) == sum(1 for p in root.rglob("*.md") if ".mdstore" not in p.parts)
        return dump_index(vault)


def copy(src: Path, dst: Path) -> Path:
    """The same files with the same mtimes (the index records them), without the index."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".mdstore"))
    return dst


def test_streamed_build_equals_one_batch_and_incremental(tmp_path: Path) -> None:
    files = vault_files(300)
    write_files(tmp_path / "src", files)
    streamed = build(copy(tmp_path / "src", tmp_path / "streamed"), **SMALL_CHUNK)
    assert streamed == build(copy(tmp_path / "src", tmp_path / "batch"), **ONE_BATCH)
    # Incremental: the same files arrive in three syncs.
    root = copy(tmp_path / "src", tmp_path / "incremental")
    held = tmp_path / "held"
    paths = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    for rel in paths[50:]:
        (held / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / rel, held / rel)
    with mdstore.open(root, index=ONE_BATCH) as vault:
        vault.sync()
        for part in (paths[50:200], paths[200:]):
            for rel in part:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(held / rel, root / rel)
            vault.sync()
        assert dump_index(vault) == streamed
    # The search side (built from the notes read again) finds a note of the last chunk.
    with mdstore.open(tmp_path / "streamed") as vault:
        assert vault.search("task 299").hits[0].path == "d/n0299.md"


CHILD = r"""
import sys, mdstore
vault = mdstore.open(sys.argv[1], index={"build_chunk": 20, "parse_workers": 1}, search={"engine": "none"})
vault.sync(progress=lambda done, total: print(done, flush=True))
print("finished", flush=True)
"""


def test_a_build_killed_halfway_is_started_over(tmp_path: Path) -> None:
    files = vault_files(600)
    root = tmp_path / "v"
    write_files(root, files)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until some chunks are committed, then kill the builder
        if line.strip() != "finished" and int(line) >= 200:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with mdstore.open(root, search={"engine": "none"}) as vault:
        report = vault.sync()
        assert len(report.added) == 603  # everything, again: the half-built index was not trusted
        assert not vault.sql("SELECT * FROM meta WHERE key = 'building'").rows
        after = dump_index(vault)
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".mdstore"))
    with mdstore.open(fresh, search={"engine": "none"}) as vault:
        vault.sync()
        assert dump_index(vault) == after
