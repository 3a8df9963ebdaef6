"""Snippets: fragments, marks, headings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mdstore.search.protocol import Snippet
from mdstore.search.query import parse_query
from mdstore.search.snippets import FRAGMENT_CHARS, make_snippets


def test_best_fragment_first_with_heading() -> None:
    body = (
        "# Intro\nNothing here about it.\n\n## Garden\n"
        + "filler words " * 30
        + "\nTomatoes need compost; tomato plants love compost.\n"
    )
    snippets = make_snippets(body, parse_query("tomatoes compost"))
    assert snippets[0].heading == "Garden"
    assert snippets[0].highlighted.count("**") == 8  # Tomatoes, compost, tomato, compost
    assert snippets[0].text.startswith("…")  # cut inside the section
    assert len(snippets[0].text) <= FRAGMENT_CHARS + 45


def test_prefix_and_fuzzy_are_marked() -> None:
    [snippet] = make_snippets(
        "Configuration and the configurator; a lookup.", parse_query("configura* lokup~")
    )
    assert snippet.highlighted == "**Configuration** and the **configurator**; a **lookup**."


def test_no_body_match_gives_the_opening_unmarked() -> None:
    [snippet] = make_snippets("# Title\n\nFirst   line\nsecond line.\n## Later\nmore", parse_query("title:x"))
    assert snippet == Snippet("First line second line.", "Title", ())
    assert make_snippets("", parse_query("x")) == ()
    assert make_snippets("# Only heading\n", parse_query("x")) == ()


def test_negated_words_are_not_marked() -> None:
    [snippet] = make_snippets("apples and pears", parse_query("apples -pears"))
    assert snippet.highlighted == "**apples** and pears"


def test_several_fragments_do_not_overlap() -> None:
    body = ("alpha " + "x " * 200 + "\n") * 5
    snippets = make_snippets(body, parse_query("alpha"))
    assert len(snippets) == 3
    assert all(s.highlighted.count("**alpha**") == 1 for s in snippets)


def test_mark_custom() -> None:
    snippet = Snippet("a bc d", None, ((2, 4),))
    assert snippet.mark("[", "]") == "a [bc] d"
    assert snippet.highlighted == "a **bc** d"


def test_accented_and_upper_case_words_are_found_and_marked() -> None:
    body = "Ébauche du CAFÉ. Un café, des cafés; Straße und STRASSE. Naïve naive e\u0301lan."
    assert make_snippets(body, parse_query("cafe"))[0].highlighted.count("**") == 6
    [snippet] = make_snippets(body, parse_query("ebauche strasse naive"))
    assert snippet.highlighted == (
        "**Ébauche** du CAFÉ. Un café, des cafés; **Straße** und **STRASSE**. **Naïve** **naive** e\u0301lan."
    )


WORDS = ["café", "Café", "CAFES", "Ébauche", "ebauches", "Straße", "strasse", "İstanbul", "naïve",
         "NAIVE", "e\u0301lan", "αλφα", "ﬁne", "fine", "running", "runs", "ran", "x"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS + [" ", "\n", "\u00a0", ". ", "\n## Heading\n"]), max_size=60),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.booleans(),
)
def test_the_prefilter_finds_what_a_full_scan_finds(parts: list[str], query: list[str], prefix: bool) -> None:
    """Snippets are the same whether words are found by the prefilter or by analysing every word."""
    from mdstore.search import snippets as module

    body = "".join(parts)
    tree = parse_query(" ".join(q + ("*" if prefix and i == 0 and len(q) > 2 else "") for i, q in enumerate(query)))
    fast = make_snippets(body, tree)
    original = module._prefilter
    try:
        module._prefilter = lambda matcher: None  # type: ignore[assignment]
        full = make_snippets(body, tree)
    finally:
        module._prefilter = original
    assert fast == full
