"""Team search: ranked, highlighted full-text search over a whole space, through a function that
uses the GIN index and never shows a member another space's notes."""

from __future__ import annotations

import psycopg
import pytest

from mdstore.errors import QueryError

from .conftest import SPACE, write


def test_search_finds_what_any_clone_shared(clone) -> None:  # type: ignore[no-untyped-def]
    a, b = clone("a"), clone("b")
    write(a, "Compost.md", "# Compost heaps\n\nTurn the compost weekly; keep it moist.\n")
    write(a, "Garden.md", "# Garden\n\nThe beds get compost in spring.\n")
    write(a, "Other.md", "# Other\n\nNothing about it here.\n")
    a.team.sync()
    found = b.team.search("compost")
    assert found.total == 2
    assert [h.path for h in found.hits] == ["Compost.md", "Garden.md"]  # the title weighs most
    snippet = found.hits[0].snippets[0]
    assert "compost" in snippet.text.lower()
    assert all(snippet.text[s:e].lower().startswith("compost") for s, e in snippet.spans)
    assert b.team.search('"beds get compost"').paths() == ["Garden.md"]
    assert b.team.search("compost -spring").paths() == ["Compost.md"]
    page = b.team.search("compost", limit=1, offset=1)
    assert page.paths() == ["Garden.md"] and page.total == 2 and page.next_offset is None
    # A deleted note is not found.
    (a.root / "Garden.md").unlink()
    a.team.sync()
    assert b.team.search("compost").paths() == ["Compost.md"]
    with pytest.raises(QueryError):
        b.team.search("   ")


@pytest.fixture
def two_spaces(pg_cluster, team_url):  # type: ignore[no-untyped-def]
    """research (member ann_q) and sales (member sam_q), 3,000 notes each, analysed."""
    dbname = team_url.split("/")[3].split("?")[0]
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("INSERT INTO team_spaces (name) VALUES ('sales')")
        for role, space in (("ann_q", SPACE), ("sam_q", "sales")):
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
            conn.execute(f"GRANT mdstore_member TO {role}")
            conn.execute("INSERT INTO team_members (space, role) VALUES (%s, %s)", (space, role))
        for space, word in ((SPACE, "compost"), ("sales", "discount")):
            conn.execute(
                "INSERT INTO team_notes (space, path, content_hash, title, body, revision) "
                "SELECT %s, 'n' || i || '.md', 'h', 'Note ' || i, "
                "CASE WHEN i %% 500 = 0 THEN 'secret ' || %s || ' plan' ELSE 'ordinary words ' || i END, i "
                "FROM generate_series(1, 3000) i",
                (space, word),
            )
        conn.execute("ANALYZE team_notes")
    return lambda role: psycopg.connect(pg_cluster.url(dbname, role))


def _index_scans(conn: psycopg.Connection) -> int:  # type: ignore[type-arg]
    row = conn.execute(
        "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'team_notes_search'"
    ).fetchone()
    return int(row[0]) if row else 0


def test_a_member_cannot_search_another_space(two_spaces) -> None:  # type: ignore[no-untyped-def]
    from mdstore.team.search import search

    with two_spaces("ann_q") as conn:
        assert search(conn, SPACE, "compost").total == 6
        # Naming the other space, directly or through the function, yields nothing.
        assert search(conn, "sales", "discount").total == 0
        rows = conn.execute("SELECT * FROM mdstore_search('sales', 'discount', 100, 0)").fetchall()
        assert rows == []
        assert conn.execute("SELECT count(*) FROM team_notes WHERE space = 'sales'").fetchone() == (0,)
    with two_spaces("sam_q") as conn:
        assert search(conn, "sales", "discount").total == 6
        assert search(conn, SPACE, "compost").total == 0


def test_member_search_uses_the_gin_index(two_spaces, team_url) -> None:  # type: ignore[no-untyped-def]
    from mdstore.team.search import search

    with two_spaces("ann_q") as conn:
        # A member's own query under row-level security cannot use the index ('@@' is not leakproof)...
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT path FROM team_notes WHERE space = %s "
                "AND search @@ websearch_to_tsquery('english', 'compost')",
                (SPACE,),
            )
        )
        assert "team_notes_search" not in plan
    with psycopg.connect(team_url, autocommit=True) as admin:
        before = _index_scans(admin)
    with two_spaces("ann_q") as conn:
        assert search(conn, SPACE, "compost").total == 6  # ...the search function does
    with psycopg.connect(team_url, autocommit=True) as admin:
        admin.execute("SELECT pg_stat_force_next_flush()")
        for _ in range(50):
            if _index_scans(admin) > before:
                break
            admin.execute("SELECT pg_sleep(0.05)")
        assert _index_scans(admin) > before
