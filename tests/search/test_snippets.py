"""Snippets: fragments, marks, headings."""

from __future__ import annotations

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
