"""A search side that fails is reported, not hidden: the sync names it in its errors, and searches
served from an index that could not be updated say they are stale (the CLI warns)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import mdstore
from mdstore.cli import cli


def _vault(tmp_path: Path) -> Path:
    root = tmp_path / "v"
    root.mkdir()
    (root / "a.md").write_text("# A\n\nalpha words\n")
    return root


def test_a_failing_search_index_is_in_the_sync_report(tmp_path: Path) -> None:
    root = _vault(tmp_path)
    with mdstore.open(root) as vault:
        assert vault.search("alpha").paths() == ["a.md"]
        engine_dir = root / ".mdstore" / "search" / "whoosh"
        shutil.rmtree(engine_dir)
        engine_dir.write_text("not a folder")  # the engine can no longer write its files
        (root / "b.md").write_text("# B\n\nbeta words\n")
        report = vault.sync()
        assert [(e.path, e.kind) for e in report.errors] == [("(search index)", "listener")]
        assert "search index was not updated" in report.errors[0].message
        assert vault.find().column("path") == ["a.md", "b.md"]  # the structured index is current


OTHER_WRITER = """
import sys
import mdstore
from mdstore.index.lock import OwnerLock

root = sys.argv[1]
with mdstore.open(root, search={"engine": "none"}) as vault:  # indexes b.md, not its search side
    vault.sync()
lock = OwnerLock(vault.config.state_dir)
lock.acquire(10)
print("holding", flush=True)
sys.stdin.read()  # until the test is done
"""


def test_search_results_from_a_stale_index_say_so(tmp_path: Path) -> None:
    root = _vault(tmp_path)
    with mdstore.open(root) as vault:
        assert vault.search("alpha").stale is None
        (root / "b.md").write_text("# B\n\nbeta words alpha\n")
        other = subprocess.Popen(
            [sys.executable, "-c", OTHER_WRITER, str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "holding"
            results = vault.search("alpha")
            assert results.paths() == ["a.md"]  # served from the index as it was
            assert results.stale == "another process is updating it"
            out = CliRunner().invoke(cli, ["--vault", str(root), "search", "alpha"])
            assert out.exit_code == 0 and "results may be stale" in out.output
        finally:
            assert other.stdin is not None
            other.stdin.close()
            other.wait(30)
            if other.stdout is not None:
                other.stdout.close()
        assert vault.search("alpha").stale is None  # the owner let go: caught up
        assert vault.search("alpha").paths() == ["a.md", "b.md"]
