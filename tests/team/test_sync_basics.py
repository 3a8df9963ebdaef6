"""Push and pull between clones of one space, against a real PostgreSQL."""

from __future__ import annotations

from tests.team.conftest import Clone, tree, write


def test_a_note_travels_from_one_clone_to_another(clone: Clone) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Ideas/First.md", "---\ntitle: First\ntags: [x]\n---\n# First\n\nhello\n")
    write(a, "pic.png", b"\x89PNG\r\n\x1a\nbinary")
    report = a.team.sync()
    assert sorted(report.pushed) == ["Ideas/First.md", "pic.png"]
    got = b.team.sync()
    assert sorted(got.pulled) == ["Ideas/First.md", "pic.png"]
    assert tree(a) == tree(b)
    assert b.get("Ideas/First.md").title == "First"  # indexed on arrival
    # A second sync on either side has nothing to do.
    assert a.team.sync().changed_count == 0
    assert b.team.sync().changed_count == 0


def test_attachments_over_the_limit_stay_local_and_are_reported(clone: Clone) -> None:
    a, b = clone("a", max_attachment_bytes=1000), clone("b")
    write(a, "small.png", b"x" * 1000)
    write(a, "big.pdf", b"x" * 1001)
    report = a.team.sync()
    assert report.pushed == ("small.png",)
    assert [s.split(":")[0] for s in report.skipped] == ["big.pdf"]
    assert a.team.status()["not_shared"][0].startswith("big.pdf: attachment over the team limit")
    b.team.sync()
    assert sorted(tree(b)) == ["small.png"]
