"""The clone's look at its files: a sync reads again only what changed since its last look in this
process, and must still find every change an editor makes while no watcher runs."""

from __future__ import annotations

import os

from tests.team.conftest import Clone, read, write

OLD = 1_700_000_000  # an mtime long past: never "too recent to trust"


def test_an_in_place_save_of_an_old_note_is_pushed(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Journal/day.md", "# Day\nfirst\n")
    write(a, "other.md", "# Other\n")
    for rel in ("Journal/day.md", "other.md"):
        os.utime(a.root / rel, (OLD, OLD))
    assert sorted(a.team.sync().pushed) == ["Journal/day.md", "other.md"]
    assert a.team.sync().changed_count == 0
    folder = os.stat(a.root / "Journal").st_mtime_ns
    with open(a.root / "Journal/day.md", "r+b") as f:  # in place: same size, the folder untouched
        f.write(b"# Day\nfixed\n")
    assert os.stat(a.root / "Journal").st_mtime_ns == folder
    assert a.team.sync().pushed == ("Journal/day.md",)
    b.team.sync()
    assert read(b, "Journal/day.md") == "# Day\nfixed\n"
    assert a.team.sync().changed_count == 0


def test_a_same_size_rewrite_in_the_same_clock_tick_is_pushed(clone: Clone) -> None:
    """Two same-size writes within one tick of the file system's clock leave the stat unchanged:
    a file changed within 2 s of the last look is read again, by every sync until it is older."""
    a, b = clone("a"), clone("b")
    write(a, "n.md", "# N\none\n")
    a.team.sync()
    written = os.stat(a.root / "n.md")
    for word in ("two", "six"):
        assert a.team.sync().changed_count == 0
        write(a, "n.md", f"# N\n{word}\n")
        os.utime(a.root / "n.md", ns=(written.st_atime_ns, written.st_mtime_ns))
        assert a.team.sync().pushed == ("n.md",)
        b.team.sync()
        assert read(b, "n.md") == f"# N\n{word}\n"


def test_files_that_come_and_go_between_syncs(clone: Clone) -> None:
    a, b = clone("a", max_attachment_bytes=1000), clone("b")
    write(a, "keep.md", "# Keep\n")
    write(a, "gone.md", "# Gone\n")
    write(a, "big.pdf", b"x" * 1001)
    report = a.team.sync()
    assert sorted(report.pushed) == ["gone.md", "keep.md"]
    assert [s.split(":")[0] for s in report.skipped] == ["big.pdf"]
    assert [s.split(":")[0] for s in a.team.sync().skipped] == ["big.pdf"]  # still reported
    os.remove(a.root / "gone.md")
    write(a, "big.pdf", b"x" * 900)  # now under the limit: shared
    write(a, "new.md", "# New\n")
    report = a.team.sync()
    assert sorted(report.pushed) == ["big.pdf", "gone.md", "new.md"]  # the delete of gone.md too
    assert report.skipped == ()
    b.team.sync()
    assert sorted(p.name for p in b.root.iterdir() if not p.name.startswith(".")) == [
        "big.pdf",
        "keep.md",
        "new.md",
    ]
    os.rename(a.root / "new.md", a.root / "moved.md")
    a.team.sync()
    assert b.team.sync().moved == (("new.md", "moved.md"),)  # found as a move, pulled as one
    assert read(b, "moved.md") == "# New\n" and not (b.root / "new.md").exists()
