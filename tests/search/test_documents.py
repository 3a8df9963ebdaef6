"""Note → indexed document, and body sections."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mdstore.search.analysis import analyzed, words
from mdstore.search.documents import build_document, sections

from .conftest import make_note

_PIECES = [*"aAé\u0301ß ﬁ\n#-_1²", "The", "is", "Café", "running", "\n# Head ", "x\u0308"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)


@settings(max_examples=200, deadline=None)
@given(_TEXT, _TEXT, st.lists(_TEXT, max_size=3))
def test_terms_and_vocabulary_are_those_of_the_texts_analysed_whole(
    title: str, body: str, aliases: list[str]
) -> None:
    # The document splits each text into words once for both its terms and its vocabulary: the
    # same as analysing each text, and the four texts joined by line breaks, on their own.
    note = make_note("f/n.md", title, body, aliases=tuple(aliases))
    doc = build_document(note)
    headings = "\n".join(h.text for h in note.headings)
    alias_text = "\n".join(aliases)
    assert (doc.title_terms, doc.alias_terms, doc.heading_terms, doc.body_terms) == tuple(
        analyzed(text) for text in (title, alias_text, headings, body)
    )
    vocabulary = dict.fromkeys(words(f"{title}\n{alias_text}\n{headings}\n{body}"))
    assert doc.vocabulary == " ".join(w for w in vocabulary if not w.isdigit())


def test_document_fields() -> None:
    note = make_note(
        "code/python/asyncio.md",
        "Asyncio Notes",
        "# Intro\nEvent loops in 2026.\n",
        tags=("Python/Async",),
        aliases=("aio",),
        mtime=12.5,
    )
    doc = build_document(note)
    assert doc.title_terms == "asyncio note"
    assert doc.alias_terms == "aio"
    assert doc.heading_terms == "intro"
    assert doc.name_terms == "asyncio"
    assert doc.tags == ("python", "python/async")
    assert doc.folders == ("code", "code/python")
    assert doc.mtime_ms == 12500
    assert "2026" not in doc.vocabulary.split() and "loops" in doc.vocabulary.split()


def test_root_note_has_no_folder() -> None:
    assert build_document(make_note("top.md", "Top", "")).folders == ()


def test_sections_follow_headings_outside_code() -> None:
    body = "intro\n# One\ntext one\n```\n# not a heading\n```\n## Two ##\ntext two\n"
    found = [(s.heading, body[s.start : s.end]) for s in sections(body)]
    assert found == [
        (None, "intro\n"),
        ("One", "text one\n```\n# not a heading\n```\n"),
        ("Two", "text two\n"),
    ]
    assert sections("") == []
    assert sections("# Only a heading") == []
