"""Team search: ranked full-text search over a space, through the SECURITY DEFINER function, as
member roles (never the superuser, who bypasses row-level security)."""

from __future__ import annotations

import psycopg
import pytest

import mdstore
from mdstore.pg import connect
from mdstore.team.search import search

NOTES = {
    "Gardening.md": "---\nstatus: active\ntags: [home]\n---\n# Gardening\n\nTomatoes need sun and water.\n",
    "Kitchen.md": "# Kitchen\n\n## Recipes\n\nA sauce of gardening tomatoes, slowly cooked.\n",
    "Work/Plan.md": "---\ntags: [work]\n---\n# Plan\n\nNothing about plants, only deadlines.\n",
}


@pytest.fixture
def team(pg_cluster, pg_url, team_rows):  # type: ignore[no-untyped-def]
    rows = [team_rows.note_row("research", p, c.encode(), i + 1) for i, (p, c) in enumerate(NOTES.items())]
    rows.append(team_rows.note_row("research", "Old tomatoes.md", b"# Old tomatoes\n\ntomatoes\n", 8, True))
    rows.append(team_rows.note_row("sales", "Secret deal.md", b"# Secret deal\n\nTomatoes for ACME.\n", 1))
    with connect(pg_url) as conn:
        team_rows.setup(conn, {"ann_q": ["research"], "sam_q": ["sales"]})
        team_rows.load(conn, rows)
    dbname = pg_url.split("/")[3].split("?")[0]
    members = {role: psycopg.connect(pg_cluster.url(dbname, role)) for role in ("ann_q", "sam_q")}
    yield members
    for conn in members.values():
        conn.close()


def test_ranked_hits_with_highlighted_snippets_and_exact_total(team) -> None:  # type: ignore[no-untyped-def]
    found = search(team["ann_q"], "research", "tomatoes")
    assert isinstance(found, mdstore.SearchResults)
    assert found.total == 2
    assert found.paths() == ["Gardening.md", "Kitchen.md"]  # both in the body; tombstone excluded
    assert found.hits[0].score > 0
    snippet = found.hits[0].snippets[0]
    assert "**Tomatoes**" in snippet.highlighted
    start, end = snippet.spans[0]
    assert snippet.text[start:end] == "Tomatoes"


def test_a_title_match_ranks_above_a_body_match(team) -> None:  # type: ignore[no-untyped-def]
    assert search(team["ann_q"], "research", "gardening").paths() == ["Gardening.md", "Kitchen.md"]


def test_web_search_syntax_and_paging(team) -> None:  # type: ignore[no-untyped-def]
    ann = team["ann_q"]
    assert search(ann, "research", "tomatoes -sauce").paths() == ["Gardening.md"]
    assert search(ann, "research", '"slowly cooked"').paths() == ["Kitchen.md"]
    assert search(ann, "research", "deadlines or sun").total == 2
    page = search(ann, "research", "tomatoes", limit=1, offset=1)
    assert (page.total, page.paths(), page.next_offset) == (2, ["Kitchen.md"], None)
    past = search(ann, "research", "tomatoes", limit=5, offset=10)
    assert (past.total, past.paths()) == (2, [])
    assert search(ann, "research", '"unclosed phrase').total == 0  # web syntax never fails


def test_a_member_cannot_search_another_space(team) -> None:  # type: ignore[no-untyped-def]
    ann, sam = team["ann_q"], team["sam_q"]
    # Naming the space is not enough: membership is computed inside from the logged-in role.
    leaked = search(ann, "sales", "tomatoes")
    assert (leaked.total, leaked.paths()) == (0, [])
    assert search(ann, "research", "acme").total == 0
    assert search(sam, "sales", "acme").paths() == ["Secret deal.md"]
    # Calling the function directly with any space gives nothing either.
    assert ann.execute("SELECT count(*) FROM mdstore_search('sales', 'tomatoes', 10, 0)").fetchone() == (0,)


@pytest.mark.parametrize("text", ["", "   ", "tom\x00atoes"])
def test_bad_query_text_is_one_query_error(team, text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(mdstore.QueryError) as info:
        search(team["ann_q"], "research", text)
    assert "\n" not in str(info.value)


def test_bad_paging_is_a_query_error(team) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(mdstore.QueryError, match="limit"):
        search(team["ann_q"], "research", "tomatoes", limit=-1)
