"""The SearchBackend contract: every engine passes the same tests on the same notes.

Expected result *sets* are written out by hand, so "both engines return the same sets" is checked
against the truth, not only against each other. Ranking may differ between engines.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdstore.errors import QueryError
from mdstore.search.protocol import SearchBackend, SearchResults

from .conftest import ENGINES, NOTES, PATHS, EngineFactory, make_note, open_engine

L, V = "projects/lookup.md", "projects/vaults.md"
D1, D2 = "daily/2026-01-05.md", "daily/2026-01-06.md"
G, A, T = "garden/tomatoes.md", "code/python/asyncio.md", "code/python/threads.md"
U, E, TH = "Naïve Ünïcode.md", "inbox/empty.md", "inbox/the.md"


@pytest.fixture(scope="module", params=ENGINES)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    """One read-only index of NOTES per engine, shared by the query tests."""
    backend = open_engine(request.param, tmp_path_factory.mktemp(request.param))
    backend.rebuild(NOTES, stamp=1)
    yield backend
    backend.close()


def paths(results: SearchResults) -> set[str]:
    return {hit.path for hit in results.hits}


EXPECTED = [
    ("tomatoes", {D1, D2, G}),
    ("tomato compost", {D2, G}),
    ("cafe", {D1, D2, U}),
    ("café", {D1, D2, U}),
    ("CAFÉ", {D1, D2, U}),
    ("zurich", {U}),
    ("Zürich", {U}),
    ("strasse", {U}),
    ("lookup", {L}),
    ("look up", {L}),
    ('"fuzzy matching"', {L}),
    ('"matching fuzzy"', set()),
    ("vault OR asyncio", {V, A, D1}),
    ("vault asyncio", set()),
    ("tomatoes -journal", {G}),
    ("tomatoes NOT tag:journal", {G}),
    ("tomatoes AND NOT journal", {G}),
    ("(tomatoes OR cafe) AND journal", {D1, D2}),
    ("title:journal", {D1, D2}),
    ("title:(journal OR tomatoes)", {D1, D2, G}),
    ("tag:python", {A, T}),
    ("tag:python/async", {A}),
    ("tag:dendron", {L, V}),
    ("#garden", {D2, G}),
    ("tag:pyth*", {A, T}),
    ("python", {A, T}),  # a default-field word also matches tags
    ("path:code/python/asyncio.md", {A}),
    ("path:code/*", {A, T}),
    ('path:"Naïve Ünïcode.md"', {U}),
    ("folder:daily", {D1, D2}),
    ("folder:code", {A, T}),
    ("folder:code/python", {A, T}),
    ("heading:details", {L}),
    ("heading:pests", {G}),
    ("alias:finder", {L}),
    ("finder", {L}),
    ("corout*", {A, D1}),
    ("configura*", {V}),
    ("tomatos~", {D1, D2, G}),
    ("cancelation~", {A}),
    ("gardn~", {D2}),  # stem "garden" of "Gardening"; the tag garden is not fuzzy-matched
    ("question", {TH}),
    ("-asyncio", PATHS - {A, D1}),
    ("NOT tomatoes", PATHS - {D1, D2, G}),
    ("python threads", {T}),
    ("asyncio.run", {A}),
    ("CPU-bound", {T}),
    ("vaults", {V}),
    ("body:journal", set()),
    ("tomatoes the", {D1, D2, G}),  # a stop word is dropped, not required
]


@pytest.mark.parametrize(("query", "expected"), EXPECTED, ids=[q for q, _ in EXPECTED])
def test_result_sets(built: SearchBackend, query: str, expected: set[str]) -> None:
    found = built.search(query, limit=50)
    assert paths(found) == expected
    assert found.total == len(expected)


def test_hits_are_ranked_and_carry_titles(built: SearchBackend) -> None:
    found = built.search("tomatoes", limit=10)
    scores = [hit.score for hit in found.hits]
    assert scores == sorted(scores, reverse=True)
    titles = {note.path: note.title for note in NOTES}
    assert all(hit.title == titles[hit.path] for hit in found.hits)
    # the note about tomatoes (title, file name, body twice) beats notes that mention them once
    assert found.hits[0].path == G


def test_title_match_ranks_first(built: SearchBackend) -> None:
    assert built.search("vaults").hits[0].path == V
    assert built.search("journal tomatoes").hits[0].path in {D1, D2}


def test_only_stop_words_is_empty_not_an_error(built: SearchBackend) -> None:
    for query in ("the", "to be or not to be", "title:the", "-the"):
        found = built.search(query)
        assert found.total == 0 and found.hits == ()


BAD = [
    ('"unbalanced', "quote"),
    ("(tomatoes cafe", "parenthes"),
    ("tomatoes)", "parenthes"),
    ("colour:red", "colour"),
    ("", "empty"),
    ("   ", "empty"),
    ("OR", "OR"),
    ("tomatoes OR", "OR"),
    ("NOT", "NOT"),
    ("tomatoes -", None),  # a lone "-" is just punctuation: no error
    ("()", "empty"),
    ("x~3", "fuzzy"),
    ("t*", "prefix"),
    ("path:a~", "fuzzy"),
    ("(" * 100 + "a" + ")" * 100, "nested"),
]


@pytest.mark.parametrize(("query", "word"), BAD, ids=[q[:20] or "empty" for q, _ in BAD])
def test_bad_queries(built: SearchBackend, query: str, word: str | None) -> None:
    if word is None:
        built.search(query)
        return
    with pytest.raises(QueryError, match=word):
        built.search(query)


def test_bad_arguments(built: SearchBackend) -> None:
    with pytest.raises(QueryError, match="sort"):
        built.search("tomatoes", sort="size")
    with pytest.raises(QueryError):
        built.search("tomatoes", limit=-1)


def test_huge_query_does_not_hang(built: SearchBackend) -> None:
    words = " ".join(["tomatoes", "cafe", "zürich", "(x OR y)", '"a b"', "-z", "co*", "tomatos~"] * 1300)
    assert len(words) > 10_000
    started = time.monotonic()
    built.search(words)  # capped at MAX_TERMS words: no crash, no hang
    built.search("tomatoes " * 3000)
    assert time.monotonic() - started < 60  # generous: "does not hang", not a speed claim


def test_pagination(built: SearchBackend) -> None:
    everything = built.search("-asyncio", limit=100)
    pages = [built.search("-asyncio", limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [len(p.hits) for p in pages] == [3, 3, 2, 0]
    assert all(p.total == 8 for p in pages)
    seen = [hit.path for p in pages for hit in p.hits]
    assert len(seen) == len(set(seen)) == 8
    assert set(seen) == paths(everything)
    assert built.search("tomatoes", limit=0).total == 3


def test_sort_by_mtime(built: SearchBackend) -> None:
    newest = [hit.path for hit in built.search("-asyncio", limit=20, sort="-mtime").hits]
    assert newest == [TH, E, U, T, G, D2, V, L]
    oldest = [hit.path for hit in built.search("-asyncio", limit=20, sort="mtime").hits]
    assert oldest == list(reversed(newest))


def test_restrict(built: SearchBackend) -> None:
    assert paths(built.search("tomatoes", restrict={G, V})) == {G}
    assert built.search("tomatoes", restrict={G, V}).total == 1
    assert built.search("tomatoes", restrict=set()).total == 0
    assert built.search("tomatoes", restrict=["nowhere.md"]).total == 0
    many = [f"folder/note-{i}.md" for i in range(5000)] + [D2, L]
    found = built.search("tomatoes", restrict=many)
    assert paths(found) == {D2} and found.total == 1
    assert paths(built.search("-asyncio", restrict=[A, T, E], limit=10)) == {T, E}


def test_restrict_keeps_ranking(built: SearchBackend) -> None:
    full = [hit.path for hit in built.search("tomatoes").hits]
    restricted = [hit.path for hit in built.search("tomatoes", restrict=PATHS).hits]
    assert restricted == full


def test_snippets_mark_matches_under_their_heading(built: SearchBackend) -> None:
    hit = built.search('"fuzzy matching"').hits[0]
    snippet = hit.snippets[0]
    assert snippet.heading == "Details"
    assert "**fuzzy** **matching**" in snippet.highlighted
    assert snippet.mark("<mark>", "</mark>").count("<mark>") == 2
    zurich = built.search("zurich cafe").hits[0].snippets[0]
    assert "**Zürich**" in zurich.highlighted and "**Café**" in zurich.highlighted


def test_suggestions_when_nothing_matches(built: SearchBackend) -> None:
    found = built.search("tomatpes")
    assert found.total == 0
    assert found.suggestions and found.suggestions[0] == "tomatoes"
    assert built.search("lookpu vaults").suggestions[0] == "lookup vaults"
    assert built.search("tomatoes").suggestions == ()


def test_count_and_hashes(built: SearchBackend) -> None:
    assert built.count() == len(NOTES)
    assert built.hashes() == {note.path: note.hash for note in NOTES}
    assert built.stamp() == 1


def test_the_total_counts_every_match_past_the_first_page(engine_at: EngineFactory) -> None:
    """With hundreds of matches and a short page, ``total`` is still exact (Whoosh's own top-N
    collector undercounts once its page is full), and both engines agree on the set."""
    import random

    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "lambda"]
    notes = [
        make_note(
            f"n{i:03}.md",
            f"{rng.choice(words)} {rng.choice(words)}",
            " ".join(rng.choice(words) for _ in range(rng.randint(1, 40))),
            tags=(rng.choice(words),) if i % 5 == 0 else (),
        )
        for i in range(400)
    ]
    found: dict[str, set[str]] = {}
    for engine in ENGINES:
        backend = engine_at(engine)
        backend.rebuild(notes, stamp=1)
        for query in ("alpha beta", "alpha OR omega", "gamma -delta", "sigma kappa lambda"):
            everything = backend.search(query, limit=len(notes), snippets=False)
            page = backend.search(query, limit=3, snippets=False)
            assert page.total == everything.total == len(everything.hits) > 3, (engine, query)
            assert [h.path for h in page.hits] == [h.path for h in everything.hits[:3]]
            found.setdefault(query, {h.path for h in everything.hits})
            assert {h.path for h in everything.hits} == found[query], (engine, query)
        backend.close()


# -- writes: each test gets its own index -----------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_index_is_empty(engine_at: EngineFactory, engine: str) -> None:
    backend = engine_at(engine)
    assert backend.stamp() is None
    assert backend.count() == 0
    assert backend.hashes() == {}
    assert backend.search("tomatoes").total == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_apply_upserts_deletes_and_stamps(engine_at: EngineFactory, engine: str) -> None:
    backend = engine_at(engine)
    backend.rebuild(NOTES, stamp=7)
    assert backend.stamp() == 7
    backend.apply([], [G], stamp=8)
    assert backend.stamp() == 8
    assert paths(backend.search("tomatoes")) == {D1, D2}
    assert backend.count() == len(NOTES) - 1
    assert G not in backend.hashes()

    changed = make_note(V, "Vaults", "Now the vault grows tomatoes.")
    added = make_note("new/idea.md", "Idea", "Tomatoes on the balcony.", tags=("garden",))
    backend.apply([changed, added], [], stamp=9)
    assert paths(backend.search("tomatoes")) == {D1, D2, V, "new/idea.md"}
    assert paths(backend.search("configuration")) == set()  # the old body is gone
    assert backend.hashes()[V] == changed.hash
    assert backend.count() == len(NOTES)
    assert backend.stamp() == 9


@pytest.mark.parametrize("engine", ENGINES)
def test_apply_edge_cases(engine_at: EngineFactory, engine: str) -> None:
    backend = engine_at(engine)
    backend.rebuild(NOTES, stamp=1)
    first = make_note("twice.md", "Twice", "first version about kites")
    second = make_note("twice.md", "Twice", "second version about kites")
    # the same path twice: the last one wins; a path both deleted and upserted: the upsert wins
    backend.apply([first, second, make_note(L, "Lookup", "kites")], [L, "never-indexed.md"], stamp=2)
    assert paths(backend.search("kites")) == {"twice.md", L}
    assert backend.search("first").total == 0
    assert backend.count() == len(NOTES) + 1
    backend.apply([], [], stamp=3)  # nothing changed: still one commit for the stamp
    assert backend.stamp() == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_stamp_survives_reopen_and_is_shared_with_readers(
    engine_at: EngineFactory, engine: str, tmp_path: Path
) -> None:
    writer = engine_at(engine, "shared")
    reader = engine_at(engine, "shared")
    writer.rebuild(NOTES, stamp=41)
    assert reader.stamp() == 41
    assert reader.search("tomatoes").total == 3
    writer.apply([], [G, D1], stamp=42)
    # the reader sees the new commit at once (a fresh searcher per generation)
    assert reader.stamp() == 42
    assert paths(reader.search("tomatoes")) == {D2}
    writer.close()
    again = engine_at(engine, "shared")
    assert again.stamp() == 42 and again.count() == len(NOTES) - 2


@pytest.mark.parametrize("engine", ENGINES)
def test_apply_without_rebuild_leaves_no_stamp(engine_at: EngineFactory, engine: str) -> None:
    # an index that was never fully built must not look consistent to the caller
    backend = engine_at(engine)
    backend.apply(NOTES[:2], [], stamp=5)
    assert backend.stamp() is None
    assert backend.count() == 2
    backend.rebuild(NOTES, stamp=6)
    assert backend.stamp() == 6 and backend.count() == len(NOTES)


@pytest.mark.parametrize("engine", ENGINES)
def test_rebuild_replaces_everything(engine_at: EngineFactory, engine: str) -> None:
    backend = engine_at(engine)
    backend.rebuild(NOTES, stamp=1)
    backend.rebuild([make_note("only.md", "Only", "tomatoes")], stamp=2)
    assert backend.count() == 1
    assert paths(backend.search("tomatoes")) == {"only.md"}
    assert backend.hashes().keys() == {"only.md"}
    backend.rebuild([], stamp=3)
    assert backend.count() == 0 and backend.stamp() == 3
    assert backend.search("-tomatoes").total == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_incremental_equals_rebuild(engine_at: EngineFactory, engine: str) -> None:
    incremental = engine_at(engine, "incremental")
    incremental.rebuild(NOTES[:4], stamp=1)
    incremental.apply(NOTES[4:], [], stamp=2)
    incremental.apply([NOTES[0]], [], stamp=3)
    full = engine_at(engine, "full")
    full.rebuild(NOTES, stamp=3)
    assert incremental.hashes() == full.hashes()
    for query, _ in EXPECTED:
        assert paths(incremental.search(query, limit=50)) == paths(full.search(query, limit=50)), query
