"""Note → indexed document, and body sections."""

from __future__ import annotations

from mdstore.search.documents import build_document, sections

from .conftest import make_note


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
