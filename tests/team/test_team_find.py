"""Team find: the local filter language over the whole space on the server gives the same notes as
the local index, and what the team copy cannot answer is one clear error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mdstore.cli import cli
from mdstore.errors import QueryError

from .conftest import SPACE, write

NOTES = {
    "Projects/Garden.md": "---\nstatus: active\npriority: 3\ndue: 2026-05-01\ntags: [project, home/garden]\n"
    "owner:\n  name: Ann\n---\n# Garden\n",
    "Projects/Roof.md": "---\nstatus: waiting\npriority: 1\ndue: 2026-03-15\ntags: [project]\n"
    "done: false\n---\n",
    "Projects/Old.md": "---\nstatus: done\npriority: 2\ndone: true\ntags: [project, archived]\n---\n",
    "Ideas/Compost.md": "---\nstatus: active\nreviewers: [ann, bob]\nrating: 4.5\n---\nText #idea\n",
    "Ideas/Plain.md": "# No frontmatter\n",
    "People/Ann.md": "---\nborn: 1990-02-03T10:00:00\naliases: [Annie]\n---\n",
}
FILTERS = [
    ["status = active"],
    ["status != active"],
    ["priority >= 2"],
    ["priority between 1 and 2"],
    ["due < 2026-04-01"],
    ["due = 2026-05-01"],
    ["status in (active, waiting)"],
    ["reviewers contains bob"],
    ["reviewers exists"],
    ["reviewers not exists"],
    ["owner.name = ann"],
    ["owner exists"],
    ["done = true"],
    ["rating > 4"],
    ["born < 2000-01-01"],
    ["#project"],
    ["#home"],
    ["-#archived", "#project"],
    ["title contains gard"],
    ["path = Ideas/Plain.md"],
]


def test_team_find_gives_the_local_answers(clone) -> None:  # type: ignore[no-untyped-def]
    a, b = clone("a"), clone("b")
    for rel, text in NOTES.items():
        write(a, rel, text)
    a.sync()
    a.team.sync()
    for filters in FILTERS:
        local = a.find(*filters).column("path")
        assert b.team.find(*filters).column("path") == local, filters
        # A page of the answer (found and ranked first, then read) is the same page.
        page = {"sort": ["-priority", "-path"], "limit": 2, "offset": 1}
        assert b.team.find(*filters, **page).column("path") == a.find(*filters, **page).column("path"), filters
    assert b.team.find(folder="Projects", sort="-priority").column("path") == [
        "Projects/Garden.md",
        "Projects/Old.md",
        "Projects/Roof.md",
    ]
    assert b.team.find(sort="due", limit=2).column("path") == ["Projects/Roof.md", "Projects/Garden.md"]
    assert b.team.find(tag="idea").column("path") == ["Ideas/Compost.md"]
    row = b.team.find("status = waiting").to_dicts()[0]
    assert row["frontmatter"]["priority"] == 1 and row["tags"] == ["project"] and row["revision"] >= 1
    # An edit pushed later is what the server answers.
    write(a, "Projects/Roof.md", NOTES["Projects/Roof.md"].replace("waiting", "active"))
    a.team.sync()
    assert "Projects/Roof.md" in b.team.find("status = active").column("path")
    assert "Projects/Roof.md" not in b.team.find("status = waiting").column("path")
    # A deleted note is gone from the answers.
    (a.root / "Ideas/Compost.md").unlink()
    a.team.sync()
    assert b.team.find("reviewers exists").column("path") == []


def test_what_the_team_copy_cannot_answer(clone) -> None:  # type: ignore[no-untyped-def]
    b = clone("b")
    for bad in ({"has_open_tasks": True}, {"links_to": "Garden"}):
        with pytest.raises(QueryError, match="team copy holds no"):
            b.team.find(**bad)
    with pytest.raises(QueryError, match="no operator"):
        b.team.find("status active")
    with pytest.raises(QueryError, match="unknown file field"):
        b.team.find("file.words > 3")


def test_cli_team_find(clone, team_url) -> None:  # type: ignore[no-untyped-def]
    a = clone("a")
    write(a, "One.md", "---\nstatus: active\n---\n")
    a.team.sync()
    env = {"MDSTORE_TEAM_URL": team_url, "MDSTORE_TEAM_SPACE": SPACE}
    result = CliRunner().invoke(
        cli, ["--vault", str(a.root), "team", "find", "status = active", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert '"path": "One.md"' in result.output
