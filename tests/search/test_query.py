"""The shared query parser: trees, errors, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdstore.errors import QueryError
from mdstore.search.query import (
    MAX_TERMS,
    And,
    Fuzzy,
    Keyword,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    literal,
    parse_query,
    positive_leaves,
)


def term(word: str, token: str | None = None, field: str | None = None) -> Term:
    return Term(field, token or word, word)


def test_words_are_anded_and_analysed() -> None:
    assert parse_query("Running Vaults") == And((term("running", "run"), term("vaults", "vault")))
    assert parse_query("Café") == term("cafe")


def test_operators_and_precedence() -> None:
    a, b, c = term("apple", "appl"), term("berry", "berri"), term("cherry", "cherri")
    assert parse_query("apple OR berry cherry") == Or((a, And((b, c))))
    assert parse_query("(apple OR berry) cherry") == And((Or((a, b)), c))
    assert parse_query("apple AND berry") == And((a, b))
    assert parse_query("apple -berry") == And((a, Not(b)))
    assert parse_query("apple NOT berry") == And((a, Not(b)))
    assert parse_query("NOT NOT apple") == Not(Not(a))
    # lower-case "or"/"not" are words (stop words), not operators
    assert parse_query("apple or berry") == And((a, b))


def test_phrases_prefix_fuzzy() -> None:
    assert parse_query('"event loops"') == Phrase(None, ("event", "loop"))
    assert parse_query('"loops"') == term("loops", "loop")
    assert parse_query("e-mail") == Phrase(None, ("e", "mail"))
    assert parse_query("conf*") == Prefix(None, "conf")
    assert parse_query("foo-ba*") == And((term("foo"), Prefix(None, "ba")))
    assert parse_query("lokup~") == Fuzzy(None, "lokup", "lokup", 1)
    assert parse_query("lokup~2") == Fuzzy(None, "lokup", "lokup", 2)


def test_fields() -> None:
    assert parse_query("title:Vaults") == term("vaults", "vault", "title")
    assert parse_query("heading:x") == term("x", field="headings")
    assert parse_query("alias:x") == term("x", field="aliases")
    assert parse_query("TITLE:x") == term("x", field="title")
    assert parse_query("tag:#Python/Async") == Keyword("tags", "python/async")
    assert parse_query("#python") == Keyword("tags", "python")
    assert parse_query("path:Daily/Note One.md") == And(
        (Keyword("path", "Daily/Note"), Phrase(None, ("one", "md")))
    )  # an unquoted space ends the value
    assert parse_query('path:"Daily/Note One.md"') == Keyword("path", "Daily/Note One.md")
    assert parse_query("path:daily/*") == Keyword("path", "daily/", prefix=True)
    assert parse_query("folder:/daily/") == Keyword("folder", "daily")
    assert parse_query("title:(a1 OR b2)") == Or((term("a1", field="title"), term("b2", field="title")))
    assert parse_query("12:30") == Phrase(None, ("12", "30"))  # not a field: digits


def test_stop_words_only_is_none() -> None:
    assert parse_query("the") is None
    assert parse_query("to be OR not to be") is None
    assert parse_query("-the") is None
    assert parse_query("the vault") == term("vault")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"open', r'the " at column 1 is never closed'),
        ("a (b", r"the \( at column 3 is never closed"),
        ("(", r"the \( at column 1 is never closed"),
        ("a (", r"the \( at column 3 is never closed"),
        ("a b)", r"the \) at column 4 has no matching"),
        ("colour:red", "unknown search field 'colour'"),
        ("http://example.com", "unknown search field 'http'"),
        ("", "empty search query"),
        ("a OR", "OR at column 3 needs a term"),
        ("OR a", "OR at column 1 needs a term"),
        ("a AND", "AND at column 3"),
        ("a NOT", "NOT at column 3 needs a term"),
        ("()", "empty parentheses"),
        ("a~3", "fuzzy distance must be 1 or 2"),
        ("a*", "at least 2 letters"),
        ("*", "at least 2 letters"),
        ("tag:*", "nothing before"),
        ("tag:x~", "does not apply"),
        ("title:", "nothing after 'title:'"),
        ("(" * 40 + "a" + ")" * 40, "nested more than"),
        ("-" * 1 + "NOT " * 40 + "a", "nested more than"),
    ],
)
def test_errors_name_the_problem(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(query)


def test_term_cap() -> None:
    words = " ".join(f"w{i}" for i in range(MAX_TERMS * 3))
    tree = parse_query(words)
    assert isinstance(tree, And) and len(tree.children) == MAX_TERMS


def test_positive_leaves_skip_negations() -> None:
    tree = parse_query("apple -berry (cherry OR NOT date)")
    assert [leaf.word for leaf in positive_leaves(tree) if isinstance(leaf, Term)] == ["apple", "cherry"]


def test_literal_escapes_syntax() -> None:
    assert literal('Title: "quoted" (x) OR -y* NOT z~') == "Title quoted x or y not z"
    assert parse_query(literal("C++ / Rust: a comparison")) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab "()-*~:#ORNTAD\u00e9\u4e2d\t')), max_size=60))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    try:
        parse_query(text)
    except QueryError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_parses_or_raises_query_error(text: str) -> None:
    try:
        parse_query(text)
    except QueryError:
        pass
