"""The fast paths of a full sync: every file's stat kept between the syncs of one process, folder
ignore patterns matched per folder. Each must give exactly what the plain walk and compare give."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mdstore
from tests.conftest import dump_index

OFF = {"search": {"engine": "none", "related": False}}


def other_process(root: Path, script: str) -> None:
    """Run ``script`` with ``vault`` opened on ``root`` in another process (its own index cache)."""
    code = (
        "import mdstore, os\n"
        f"vault = mdstore.open({str(root)!r}, search={{'engine': 'none', 'related': False}})\n"
        f"{script}\nvault.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=120)


def test_a_sync_after_another_process_wrote_the_index_sees_what_it_wrote(make_vault) -> None:  # type: ignore[no-untyped-def]
    vault = make_vault({"Old.md": "# Old\n", "Kept.md": "# Kept [[New]]\n", "pic.png": b"\x89PNG"}, **OFF)
    vault.sync()
    assert vault.sync().changed_count == 0  # this process now keeps what the index holds
    other_process(
        vault.root,
        "open('New.md', 'w').write('# New\\n'); os.remove('Old.md'); os.remove('pic.png')\n"
        "open('b.png', 'wb').write(b'png')\n"
        "report = vault.sync()\n"
        "assert report.added == ('New.md',) and report.deleted == ('Old.md',), report",
    )
    report = vault.sync()
    assert (report.added, report.changed, report.moved, report.deleted) == ((), (), (), ())
    assert vault.sql("SELECT count(*) AS n FROM notes WHERE path = 'New.md'").first() == {"n": 1}
    assert sorted(vault.sql("SELECT path FROM attachments").column("path")) == ["b.png"]
    incremental = dump_index(vault)
    vault.sync(rebuild=True)
    assert dump_index(vault) == incremental


def test_a_same_size_rewrite_in_the_tick_of_a_sync_that_wrote_is_read_again(make_vault) -> None:  # type: ignore[no-untyped-def]
    """After a writing sync, the notes written within the last 2 s are read again by the next
    sync even when their stat is unchanged (two writes in one tick of the clock)."""
    vault = make_vault({"a.md": "# A\none\n", "b.md": "# B\n"}, **OFF)
    for name in ("a.md", "b.md"):  # old notes: not read again for being recent
        os.utime(vault.root / name, (1_700_000_000, 1_700_000_000))
    vault.sync()
    vault.sync()  # a no-op: from here on this process keeps the stats
    path = vault.root / "a.md"
    path.write_text("# A\ntwo\nmore\n")
    written = path.stat()
    assert vault.sync().changed == ("a.md",)
    path.write_text("# A\nsix\nmore\n")  # same size, and the same mtime (the same tick)
    os.utime(path, ns=(written.st_atime_ns, written.st_mtime_ns))
    assert vault.sync().changed == ("a.md",)
    assert "six" in vault.get("a.md").body
    # Twice more: the same stat again, still within the 2 s of the last writing sync.
    path.write_text("# A\nten\nmore\n")
    os.utime(path, ns=(written.st_atime_ns, written.st_mtime_ns))
    assert vault.sync().changed == ("a.md",)
    assert "ten" in vault.get("a.md").body


def test_targeted_syncs_keep_the_kept_stats_true(make_vault) -> None:  # type: ignore[no-untyped-def]
    vault = make_vault({"a.md": "# A\n", "b.md": "# B\n", "c.png": b"png"}, **OFF)
    vault.sync()
    vault.sync()
    (vault.root / "a.md").write_text("# A changed\n")
    os.remove(vault.root / "b.md")
    (vault.root / "c.png").write_bytes(b"png, longer")
    vault.sync(paths=["a.md", "b.md", "c.png"])
    # The full sync that follows finds nothing left to do, and the index equals a rebuild.
    report = vault.sync()
    assert (report.added, report.changed, report.moved, report.deleted) == ((), (), (), ())
    incremental = dump_index(vault)
    vault.sync(rebuild=True)
    assert dump_index(vault) == incremental


@pytest.mark.skipif(shutil.which("git") is None, reason="git is a dependency of the history layer")
def test_folder_patterns_ignore_what_git_ignores(make_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Ignore files holding only folder patterns are matched once per folder; what is indexed is
    still exactly what git does not ignore."""
    files = {
        "templates/T.md": "x",
        "templates/keep/K.md": "x",
        "templates.md": "x",
        "Drafts/x.md": "x",
        "sub/Drafts/y.md": "x",
        "Drafts.md": "x",
        "top/z.md": "x",
        "sub/top/w.md": "x",
        "a/b/c.md": "x",
        "x/a/b/d.md": "x",
        "notes/n.md": "x",
        "notes/pic.png": b"png",
        ".gitignore": "# folders only\n\ntemplates/\n!templates/keep/\nDrafts/  \n/top/\na/b/\n",
        ".mdstoreignore": ".mdstore/\n",
    }
    vault = make_vault(files, **OFF)
    vault.sync()
    indexed = set(vault.sql("SELECT path FROM notes UNION SELECT path FROM attachments").column("path"))
    subprocess.run(["git", "init", "-q", str(vault.root)], check=True)
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=vault.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    shared = {p for p in listed if not p.startswith(".")}
    assert indexed == shared
    assert {"templates.md", "sub/top/w.md", "x/a/b/d.md"} <= indexed
    assert not {"templates/keep/K.md", "sub/Drafts/y.md", "a/b/c.md"} & indexed
    # A file pattern among them: every file is matched again, with the same answer as git.
    (vault.root / ".mdstoreignore").write_text(".mdstore/\n*.png\n")
    vault.sync()
    after = set(vault.sql("SELECT path FROM notes UNION SELECT path FROM attachments").column("path"))
    assert after == shared - {"notes/pic.png"}


def test_reopened_vault_after_a_rebuild_elsewhere_is_not_fooled(make_vault) -> None:  # type: ignore[no-untyped-def]
    """A rebuild in another process starts a new stamp: the stats kept here are not used."""
    vault = make_vault({"a.md": "# A\n", "b.md": "# B\n"}, **OFF)
    vault.sync()
    vault.sync()
    other_process(vault.root, "os.remove('b.md'); vault.sync(rebuild=True)")
    (vault.root / "b.md").write_text("# B again\n")
    report = vault.sync()
    assert report.added == ("b.md",)
    assert vault.sql("SELECT count(*) AS n FROM notes").first() == {"n": 2}
    mdstore.open(vault.root, **OFF).close()
