"""Team find(): the local filter language over the shared copy, checked against local find() on
the same notes, as member roles (row-level security applies; never the superuser)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

import mdstore
from mdstore.pg import connect
from mdstore.team.query import find

FILES = {
    "p/a.md": """---
status: active
priority: 3
rating: 4.5
due: 2026-12-01
done: false
tags: [project, area/work]
people: [ada, bob]
project: {name: Apollo, phase: 2}
---
# A
[[b]] [[c]]
""",
    "p/b.md": """---
status: waiting
priority: 1
due: 2026-11-15T10:30:00
done: true
tags: project
people: [carol]
title: Bee
---
# B
[[a]]
""",
    "q/c.md": """---
status: Active
priority: 2
due: 2027-01-10
project: {name: Zeus, phase: 1}
note: "long text with active inside"
---
# C
#area/home
""",
    "q/deep/e.md": """---
priority: "2"
due: 2026-02-30
status: null
---
# E
""",
    "d.md": "# D\nno frontmatter, links to [[a]]\n",
}

PARITY = [
    ["status = active"],
    ["status != active"],
    ["status in (active, waiting)"],
    ["status not in (active)"],
    ["status exists"],
    ["status not exists"],
    ["status = null"],
    ["priority >= 2"],
    ["priority < 3"],
    ["priority = 2"],
    ["priority between 1 and 2"],
    ["rating > 4"],
    ["due < 2026-12-01"],
    ["due = 2026-12-01"],
    ["due > 2026-11-15"],
    ["due >= 2026-11-15T10:30:00"],
    ["due between 2026-11-01 and 2026-12-31"],
    ["done = true"],
    ["done = false"],
    ["people contains bob"],
    ["people = ada"],
    ["people not contains bob"],
    ["note contains active"],
    ["project.name = zeus"],
    ["project exists"],
    ["project.phase >= 2"],
    ["fm.status = waiting"],
    ["#project"],
    ["#area"],
    ["#area/home"],
    ["-#area"],
    ["tags contains project"],
    ["title = bee"],
    ["title contains e"],
    ["path contains deep"],
    ["name = a"],
    ["folder = q"],
    ["size > 20"],
    ["modified > 2000-01-01"],
    ["status = active", "priority >= 3"],
]


@pytest.fixture
def team(pg_cluster, pg_url, make_vault, team_rows):  # type: ignore[no-untyped-def]
    vault = make_vault(FILES)
    vault.sync()
    rows = [
        team_rows.note_row("research", path, content.encode(), i + 1)
        for i, (path, content) in enumerate(FILES.items())
    ]
    rows.append(team_rows.note_row("research", "gone.md", b"---\nstatus: active\n---\n# Gone\n", 9, True))
    rows.append(team_rows.note_row("sales", "Secret deal.md", b"---\nstatus: active\n---\n# Secret\n", 1))
    with connect(pg_url) as conn:
        team_rows.setup(conn, {"ann_q": ["research"], "sam_q": ["sales"]})
        team_rows.load(conn, rows)
    dbname = pg_url.split("/")[3].split("?")[0]
    members = {role: psycopg.connect(pg_cluster.url(dbname, role)) for role in ("ann_q", "sam_q")}
    yield vault, members
    for conn in members.values():
        conn.close()


@pytest.mark.parametrize("filters", PARITY, ids=lambda f: " & ".join(f))
def test_filters_match_local_find(team, filters) -> None:  # type: ignore[no-untyped-def]
    vault, members = team
    local = sorted(vault.find(*filters).paths())
    shared = find(members["ann_q"], "research", *filters).paths()
    assert shared == local


def test_keyword_arguments_match_local_find(team) -> None:  # type: ignore[no-untyped-def]
    vault, members = team
    ann = members["ann_q"]
    for kwargs in (
        {"where": {"priority": (">=", 2)}},
        {"where": {"status": "waiting"}},
        {"tag": "project"},
        {"tag": "-project"},
        {"folder": "q"},
        {"modified_after": dt.date(2000, 1, 1)},
        {"modified_before": "2000-01-01"},
    ):
        assert find(ann, "research", **kwargs).paths() == sorted(vault.find(**kwargs).paths()), kwargs


def test_sort_and_paging(team) -> None:  # type: ignore[no-untyped-def]
    vault, members = team
    ann = members["ann_q"]
    assert find(ann, "research", sort="-priority").paths() == [
        "p/a.md",
        "q/c.md",
        "p/b.md",
        "d.md",
        "q/deep/e.md",
    ]
    assert find(ann, "research", sort=["due"]).paths()[:3] == ["p/b.md", "p/a.md", "q/c.md"]
    page = find(ann, "research", sort="path", limit=2, offset=1)
    assert page.paths() == ["p/a.md", "p/b.md"]


def test_result_columns_and_conversions(team) -> None:  # type: ignore[no-untyped-def]
    _, members = team
    res = find(members["ann_q"], "research", "path = p/a.md")
    row = res.first()
    assert row is not None
    assert row["title"] == "A" and row["folder"] == "p" and row["revision"] == 1
    assert row["updated_by"] == "postgres"  # loaded by the administrator in this test
    assert row["frontmatter"]["people"] == ["ada", "bob"]
    assert row["tags"] == ["area/work", "project"] or sorted(row["tags"]) == ["area/work", "project"]
    assert isinstance(row["modified"], dt.datetime) and row["modified"].tzinfo is None
    assert list(res.df()["path"]) == ["p/a.md"]
    assert res.arrow().column("path").to_pylist() == ["p/a.md"]


def test_tombstones_are_never_returned(team) -> None:  # type: ignore[no-untyped-def]
    _, members = team
    assert "gone.md" not in find(members["ann_q"], "research").paths()
    assert find(members["ann_q"], "research", "path = gone.md").paths() == []


def test_a_member_cannot_find_another_space(team) -> None:  # type: ignore[no-untyped-def]
    _, members = team
    assert find(members["ann_q"], "sales").paths() == []
    assert find(members["ann_q"], "sales", "status = active").paths() == []
    assert find(members["sam_q"], "sales").paths() == ["Secret deal.md"]
    assert find(members["sam_q"], "research").paths() == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (["status ="], "no value"),
        (["status ~~ x"], "operator"),
        (["#"], "malformed tag"),
        (["modified > soon"], "modified is a date"),
        (["file.colour = red"], "unknown file field"),
        (["done > true"], "cannot order booleans"),
        (["due = 2026-13-45"], "malformed date"),
    ],
)
def test_malformed_filters_raise_one_query_error(team, filters, message) -> None:  # type: ignore[no-untyped-def]
    _, members = team
    with pytest.raises(mdstore.QueryError, match=message) as info:
        find(members["ann_q"], "research", *filters)
    assert "\n" not in str(info.value)


def test_bad_paging_and_sort_raise_query_error(team) -> None:  # type: ignore[no-untyped-def]
    _, members = team
    with pytest.raises(mdstore.QueryError, match="limit"):
        find(members["ann_q"], "research", limit=-1)
    with pytest.raises(mdstore.QueryError, match="links"):
        find(members["ann_q"], "research", links_to="p/a.md")
    with pytest.raises(mdstore.QueryError, match="sort"):
        find(members["ann_q"], "research", sort="-")
