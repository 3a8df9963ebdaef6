"""A large push (COPY, with what the vault's index already parsed) stores what pushing the same notes
one by one stores; its large values are compressed with lz4 where the server has it; a team
database made by an earlier mdstore upgrades in place and keeps answering."""

from __future__ import annotations

from typing import Any

import mdstore
from mdstore.pg import apply_migrations, connect
from mdstore.team.local import FROM_INDEX_AT
from mdstore.team.remote import COPY_AT
from mdstore.team.schema import COMPONENT, MIGRATIONS

from .conftest import SPACE, write
from .test_team_find import FILTERS, NOTES

_BIG = "lorem ipsum dolor sit amet, " * 200  # ~5.6 KB: compressed (and stored out of line) by the server


def _notes(copies: int) -> dict[str, str]:
    """The team-find notes, each in ``copies`` folders, plus frontmatter the JSON must carry as is."""
    notes = {f"Copy{i:02}/{rel}": text for i in range(copies) for rel, text in NOTES.items()}
    notes["Odd/Unicode.md"] = (
        "---\ntitle: Ünïcode ✓\nwhen: 2026-12-05T10:30:00+02:00\nnested: {a: {b: [1, 2.5, null]}}\n"
        "empty: []\nquote: 'say \"hi\"'\n---\n# Heading ✓\nbody [[Copy00/Ideas/Plain]] #tag-x\n"
    )
    notes["Odd/Big.md"] = "---\nsize: big\n---\n# Big\n" + _BIG
    notes["Odd/Nan.md"] = "---\nx: .nan\ny: -.inf\nz: [1, .inf]\n---\nJSON has no NaN\n"
    return notes


def _rows(url: str, space: str) -> dict[str, tuple[Any, ...]]:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT path, content_hash, body, frontmatter, title, headings, tags, links, "
            "search::text FROM team_notes WHERE space = %s",
            (space,),
        ).fetchall()
        props = conn.execute(
            "SELECT path, key, idx, type, v_text, v_num, v_bool, v_time FROM team_properties "
            "WHERE space = %s ORDER BY 1, 2, 3 NULLS FIRST",
            (space,),
        ).fetchall()
    out: dict[str, tuple[Any, ...]] = {r[0]: r[1:] for r in rows}
    for path, *prop in props:
        out[path] = (*out[path], tuple(prop))
    return out


def _add_space(url: str, name: str) -> None:
    with connect(url) as conn:
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (name,))
        conn.commit()


def _pushed(vault: mdstore.Vault, notes: dict[str, str]) -> mdstore.Vault:
    """``vault`` holding ``notes``, indexed (the push takes what the index parsed), pushed in one sync."""
    for rel, text in notes.items():
        write(vault, rel, text)
    vault.sync()
    assert sorted(vault.team.sync().pushed) == sorted(notes)
    return vault


def _staged_in_chunks(monkeypatch, first: int | None = None, chunk: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Every push from here on has its search vectors staged beside it (STAGE_AT 1), written in
    chunks of the sizes given (the defaults where None)."""
    from mdstore.team import remote

    monkeypatch.setattr(remote, "STAGE_AT", 1)
    if first is not None:
        monkeypatch.setattr(remote, "FIRST_CHUNK", first)
    if chunk is not None:
        monkeypatch.setattr(remote, "CHUNK", chunk)


def _member_url(pg_cluster, team_url: str, role: str, space: str = SPACE, connections: int = -1) -> str:  # type: ignore[no-untyped-def]
    """A URL to the team database as ``role``, a member of ``space`` (created if need be) allowed
    ``connections`` at once (-1: no limit)."""
    with connect(team_url) as conn:
        conn.execute(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
        conn.execute(f"ALTER ROLE {role} CONNECTION LIMIT {connections}")
        conn.execute(f"GRANT mdstore_member TO {role}")
        conn.execute("INSERT INTO team_members (space, role) VALUES (%s, %s)", (space, role))
        conn.commit()
    return str(pg_cluster.url(team_url.split("/")[3].split("?")[0], role))


def test_a_large_push_stores_what_small_pushes_store(clone, team_url: str) -> None:  # type: ignore[no-untyped-def]
    notes = _notes(12)
    assert len(notes) >= max(COPY_AT, FROM_INDEX_AT)
    _add_space(team_url, "small")
    big = _pushed(clone("big"), notes)
    small = clone("small", space="small")
    for rel, text in notes.items():  # one note per sync: parsed by the push itself, no COPY
        write(small, rel, text)
        assert small.team.sync(paths=[rel]).pushed == (rel,)
    large_rows, small_rows = _rows(team_url, SPACE), _rows(team_url, "small")
    assert large_rows.keys() == set(notes)
    for rel in notes:
        assert large_rows[rel] == small_rows[rel], rel
    fm = large_rows["Odd/Unicode.md"][2]
    assert fm["title"] == "Ünïcode ✓" and fm["nested"] == {"a": {"b": [1, 2.5, None]}}
    assert fm["quote"] == 'say "hi"' and fm["empty"] == []
    # YAML's .nan and .inf have no JSON form: they are kept as text instead of failing the push.
    assert large_rows["Odd/Nan.md"][2] == {"x": "nan", "y": "-inf", "z": [1, "inf"]}
    # ... and team find answers over it as the local index does.
    for filters in FILTERS:
        assert big.team.find(*filters).column("path") == big.find(*filters).column("path"), filters


def test_large_values_are_compressed_with_lz4_where_the_server_has_it(clone, team_url: str) -> None:  # type: ignore[no-untyped-def]
    a = clone("a")
    for rel, text in _notes(12).items():
        write(a, rel, text)
    a.sync()
    a.team.sync()
    write(a, "Odd/Big.md", "---\nsize: bigger\n---\n# Big\n" + _BIG + "more\n")
    a.team.sync(paths=["Odd/Big.md"])  # a small push (no COPY) compresses the same way
    with connect(team_url) as conn:
        (lz4,) = conn.execute(
            "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).fetchone()
        notes = conn.execute(
            "SELECT pg_column_compression(content), pg_column_compression(body) FROM team_notes "
            "WHERE path = 'Odd/Big.md'"
        ).fetchone()
        revisions = conn.execute(
            "SELECT pg_column_compression(content) FROM team_revisions WHERE path = 'Odd/Big.md' "
            "ORDER BY revision"
        ).fetchall()
    expected = "lz4" if lz4 else "pglz"
    assert notes == (expected, expected)
    assert [r[0] for r in revisions] == [expected, expected]


def test_a_database_made_by_an_earlier_version_upgrades_in_place(tmp_path, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    with connect(pg_url) as conn:
        apply_migrations(conn, COMPONENT, MIGRATIONS[:3])
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (SPACE,))
        conn.commit()
    team = {"url": pg_url, "space": SPACE}
    (tmp_path / "a").mkdir()
    a = mdstore.open(tmp_path / "a", team=team, search={"engine": "none"})
    try:
        for rel, text in NOTES.items():
            write(a, rel, text)
        a.team.sync()
        a.sync()
        for filters in FILTERS:  # a newer mdstore answers from the older schema until it is upgraded
            assert a.team.find(*filters).column("path") == a.find(*filters).column("path"), filters
        with connect(pg_url) as conn:
            applied = apply_migrations(conn, COMPONENT, MIGRATIONS)
            assert [m.version for m in applied] == [m.version for m in MIGRATIONS[3:]]
            defs = dict(
                conn.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'team_properties'"
                ).fetchall()
            )
        assert "WHERE (v_num IS NOT NULL)" in defs["team_properties_num"]
        assert "WHERE (v_time IS NOT NULL)" in defs["team_properties_time"]
        a.sync()
        for filters in FILTERS:  # the rows written before the upgrade answer through the new indexes
            assert a.team.find(*filters).column("path") == a.find(*filters).column("path"), filters
        write(a, "Ideas/New.md", "---\npriority: 7\n---\nNew words about zucchini\n")
        a.team.sync()
        assert a.team.find("priority > 5").column("path") == ["Ideas/New.md"]
        # Search vectors made before the upgrade (a generated column then) and after it.
        assert "Projects/Garden.md" in a.team.search("garden").paths()
        assert a.team.search("zucchini").paths() == ["Ideas/New.md"]
    finally:
        a.close()


def _revisions(url: str, space: str) -> list[tuple[Any, ...]]:
    with connect(url) as conn:
        return conn.execute(
            "SELECT revision, path, content_hash, base_revision FROM team_revisions WHERE space = %s "
            "ORDER BY revision",
            (space,),
        ).fetchall()


def test_a_push_written_in_many_chunks_stores_what_one_chunk_stores(
    clone, team_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # A large push is written chunk by chunk (the next chunk's files are read, and its search
    # vectors computed in another session, meanwhile): tiny chunks put many boundaries inside a
    # push of ~100 notes. The one-chunk push computes its vectors itself.
    notes = _notes(12)
    _add_space(team_url, "chunked")
    whole = _pushed(clone("whole"), notes)
    _staged_in_chunks(monkeypatch, first=3, chunk=7)
    chunked = _pushed(clone("chunked", space="chunked"), notes)
    assert _rows(team_url, "chunked") == _rows(team_url, SPACE)
    with connect(team_url) as conn:
        staged = conn.execute("SELECT space, count(*) FROM team_search_stage GROUP BY space").fetchall()
    assert [space for space, count in staged if count > 0] == ["chunked"]  # (one row per distinct text)
    assert chunked.team.search("garden").paths() == whole.team.search("garden").paths() != []
    # One revision per note, numbered 1..n in order, whatever the chunks.
    revisions = _revisions(team_url, "chunked")
    assert [r[0] for r in revisions] == list(range(1, len(notes) + 1))
    assert {r[1:] for r in revisions} == {r[1:] for r in _revisions(team_url, SPACE)}
    status = chunked.team.status()
    assert status["revision"] == status["server_revision"] == len(notes) and status["waiting"] == 0
    assert not chunked.team.sync().pushed  # settled: nothing left to push
    for filters in FILTERS:
        assert chunked.team.find(*filters).column("path") == chunked.find(*filters).column("path"), filters
    # An edit in one space leaves the typed frontmatter of the same path in another space alone.
    write(chunked, "Copy00/Projects/Roof.md", "---\nstatus: replaced\n---\n")
    assert chunked.team.sync(paths=["Copy00/Projects/Roof.md"]).pushed == ("Copy00/Projects/Roof.md",)
    assert chunked.team.find("status = replaced").column("path") == ["Copy00/Projects/Roof.md"]
    assert "Copy00/Projects/Roof.md" not in chunked.team.find("status = waiting").column("path")
    assert "Copy00/Projects/Roof.md" in whole.team.find("status = waiting").column("path")


def test_a_large_push_takes_the_bytes_read_when_files_change_meanwhile(
    clone, team_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # The files of a large push are read while it is written: one deleted and one edited after
    # the look at the files. The deleted one is left out (never shared), the edited one is pushed
    # as it is now and recorded with those bytes, so the next sync has nothing to push.
    from mdstore.team.exchange import Exchange

    a = clone("a")
    notes = _notes(12)
    for rel, text in notes.items():
        write(a, rel, text)
    a.sync()
    gone, edited = "Copy03/Ideas/Plain.md", "Copy07/Ideas/Plain.md"
    assert gone in notes and edited in notes
    read = Exchange._read

    def racing_read(self, changes):  # type: ignore[no-untyped-def]
        if (a.root / gone).exists():
            (a.root / gone).unlink()
            write(a, edited, "---\nstatus: edited meanwhile\n---\nnew words\n")
        return read(self, changes)

    monkeypatch.setattr(Exchange, "_read", racing_read)
    report = a.team.sync()
    assert gone not in report.pushed and edited in report.pushed
    assert len(report.pushed) == len(notes) - 1
    rows = _rows(team_url, SPACE)
    assert gone not in rows
    assert rows[edited][2] == {"status": "edited meanwhile"}  # frontmatter of the bytes read
    monkeypatch.undo()
    again = a.team.sync()
    assert not again.pushed and not again.conflicts
    b = clone("b")
    b.team.sync()
    assert (b.root / edited).read_bytes() == (a.root / edited).read_bytes()
    assert not (b.root / gone).exists()


def test_a_member_s_large_push_stages_its_search_vectors_and_does_without_when_it_cannot(
    clone, pg_cluster, team_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # As member roles (the grants, not the administrator's rights): ann's push stages its vectors
    # on a second connection; bob may open one connection only, so his push computes them itself.
    _staged_in_chunks(monkeypatch)
    _add_space(team_url, "limited")
    ann_url = _member_url(pg_cluster, team_url, "ann_p")
    bob_url = _member_url(pg_cluster, team_url, "bob_p", "limited", connections=1)
    notes = _notes(12)  # enough for the chunked push (COPY_AT)
    ann = _pushed(clone("ann", url=ann_url), notes)
    bob = _pushed(clone("bob", url=bob_url, space="limited"), notes)
    with connect(team_url) as conn:
        staged = dict(conn.execute("SELECT space, count(*) FROM team_search_stage GROUP BY space").fetchall())
        wrong = conn.execute(
            "SELECT count(*) FROM team_notes WHERE search <> mdstore_search_vector(title, headings, body)"
        ).fetchone()
    assert staged.get(SPACE, 0) > 0 and "limited" not in staged
    assert wrong == (0,)
    assert ann.team.search("garden").paths() == bob.team.search("garden").paths() != []


def test_a_staged_push_leaves_no_search_index_entries_to_merge(
    clone, pg_cluster, team_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # The new entries of the search index (GIN's pending list, which every search reads through)
    # are merged by the push's second session, a member's, between chunks and after the commit.
    _staged_in_chunks(monkeypatch, chunk=40)
    cat = _pushed(clone("cat", url=_member_url(pg_cluster, team_url, "cat_p")), _notes(12))
    with connect(team_url) as conn:
        left = conn.execute("SELECT gin_clean_pending_list('team_notes_search')").fetchone()
    assert left == (0,)  # (pages of the pending list it merged: none were left)
    assert cat.team.search("garden").paths() != []


def test_a_staged_push_to_a_schema_7_database_stages_every_chunk(
    tmp_path, pg_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Before schema 8 there is nothing to merge the search index's entries with: a push stages its
    # vectors as before, chunk after chunk, and merges its own entries.
    _staged_in_chunks(monkeypatch, first=3, chunk=7)
    with connect(pg_url) as conn:
        apply_migrations(conn, COMPONENT, MIGRATIONS[:7])
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (SPACE,))
        conn.commit()
    (tmp_path / "a").mkdir()
    a = mdstore.open(tmp_path / "a", team={"url": pg_url, "space": SPACE}, search={"engine": "none"})
    try:
        notes = _notes(12)
        _pushed(a, notes)
        with connect(pg_url) as conn:
            staged = conn.execute("SELECT count(*) FROM team_search_stage").fetchone()
            texts = conn.execute(
                "SELECT count(DISTINCT mdstore_search_digest(title, headings, body)) FROM team_notes"
            ).fetchone()
        assert staged == texts
        assert a.team.search("garden").paths() != []
    finally:
        a.close()


def test_large_pushes_into_two_spaces_at_once_both_land_and_leave_nothing_to_merge(
    clone, team_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Two staged pushes at the same time, into different spaces (so neither waits for the other's
    # space lock): both insert into the one search index while both second sessions merge it.
    from concurrent.futures import ThreadPoolExecutor

    _staged_in_chunks(monkeypatch, first=5, chunk=20)
    _add_space(team_url, "other")
    notes = _notes(12)
    vaults = [clone("one"), clone("two", space="other")]
    for vault in vaults:
        for rel, text in notes.items():
            write(vault, rel, text)
        vault.sync()
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda vault: vault.team.sync(), vaults))
    assert [sorted(report.pushed) for report in reports] == [sorted(notes)] * 2
    assert _rows(team_url, SPACE) == _rows(team_url, "other")
    with connect(team_url) as conn:
        left = conn.execute("SELECT gin_clean_pending_list('team_notes_search')").fetchone()
    assert left == (0,)
    for vault in vaults:
        assert vault.team.search("garden").paths() == vaults[0].team.search("garden").paths() != []
