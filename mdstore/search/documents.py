"""From a ``Note`` to what a search engine indexes, engine-independent.

Analysed fields are strings of index terms joined by spaces (both engines split them again with a
plain whitespace tokenizer); keyword fields are lists of whole values. The raw title and body are
stored for display and snippets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from mdstore.notes.model import Note
from mdstore.search.analysis import analyzed, fold, stem, words

SCHEMA_VERSION = 2
"""Bump when the fields or the analysis change: an index with another version reads as outdated."""

META_KEY = "meta"
"""Value of the ``meta`` field on the one bookkeeping document that holds the stamp."""

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class SearchDocument:
    path: str
    title: str  # as written, for display
    body: str  # as written, for snippets
    hash: str
    mtime_ms: int  # integer milliseconds: both engines sort on it as a fast integer column
    title_terms: str
    alias_terms: str
    heading_terms: str
    body_terms: str
    name_terms: str  # the file name: in most vaults it is the title, in Dendron the hierarchy
    tags: tuple[str, ...]  # each tag and its parents: "a/b" → "a", "a/b"
    folders: tuple[str, ...]  # the folder and its parents
    vocabulary: str  # unique unstemmed words, for "did you mean"


def _with_parents(value: str) -> list[str]:
    parts = value.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts)) if parts[i]]


class Terms(NamedTuple):
    """The index terms of a document's analysed texts, as lists (``analysed_document``)."""

    title: list[str]
    aliases: list[str]
    headings: list[str]
    body: list[str]


def build_document(note: Note) -> SearchDocument:
    return analysed_document(note)[0]


def analysed_document(note: Note) -> tuple[SearchDocument, Terms]:
    """``build_document(note)`` and the terms its analysed fields were joined from."""
    tags: dict[str, None] = {}
    for tag in note.tags:
        for value in _with_parents(fold(tag.lstrip("#"))):
            tags[value] = None
    heading_text = "\n".join(h.text for h in note.headings)
    alias_text = "\n".join(note.aliases)
    # Each text is split into words once, for its terms and for the vocabulary (the words of all
    # four texts: no word runs across the line breaks that would join them).
    texts = (note.title, alias_text, heading_text, note.body)
    title, aliases, headings, body = (words(text) for text in texts)
    vocabulary = dict.fromkeys([*title, *aliases, *headings, *body])
    terms = Terms(*(list(map(stem, kept)) for kept in (title, aliases, headings, body)))
    document = SearchDocument(
        path=note.path,
        title=note.title,
        body=note.body,
        hash=note.hash,
        mtime_ms=int(note.mtime * 1000),
        title_terms=" ".join(terms.title),
        alias_terms=" ".join(terms.aliases),
        heading_terms=" ".join(terms.headings),
        body_terms=" ".join(terms.body),
        name_terms=analyzed(note.name),
        tags=tuple(tags),
        folders=tuple(_with_parents(note.folder)) if note.folder else (),
        vocabulary=" ".join(w for w in vocabulary if not w.isdigit()),
    )
    return document, terms


@dataclass(frozen=True)
class Section:
    """A run of body text and the heading above it (``None`` before the first heading)."""

    heading: str | None
    start: int
    end: int


def sections(body: str) -> list[Section]:
    """The body split at ATX headings (``#`` lines outside fenced code), offsets into ``body``."""
    found: list[Section] = []
    heading: str | None = None
    start = 0
    offset = 0
    fence: str | None = None
    for line in body.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        opener = _FENCE.match(stripped)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
        elif opener:
            fence = opener.group(1)
        else:
            match = _HEADING.match(stripped)
            if match:
                if offset > start:
                    found.append(Section(heading, start, offset))
                heading = match.group(2).strip() or None
                start = offset + len(line)
        offset += len(line)
    if offset > start:
        found.append(Section(heading, start, offset))
    return found
