"""What a full-text search engine is to mdstore: the ``SearchBackend`` protocol and its result values.

An engine owns one index folder given by the caller. It never reads the vault: the sync pipeline
hands it parsed notes. Every write is one commit that also stores the caller's *stamp*, so the
caller can store the same stamp in DuckDB and detect, at the next open, a crash between the two
writes (``stamp()`` differs) and repair only what differs (``hashes()``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mdstore.errors import QueryError
from mdstore.notes.model import Note
from mdstore.search.documents import SearchDocument

HIGHLIGHT_OPEN = "**"
HIGHLIGHT_CLOSE = "**"


@dataclass(frozen=True)
class Snippet:
    """A fragment of a note's body around query matches.

    ``text`` is the fragment as written in the file (whitespace collapsed, ``…`` where it was cut),
    ``spans`` the ``(start, end)`` offsets of the matched words in ``text``, ``heading`` the text of
    the heading the fragment sits under (``None`` before the first heading).
    """

    text: str
    heading: str | None
    spans: tuple[tuple[int, int], ...] = ()

    def mark(self, before: str = HIGHLIGHT_OPEN, after: str = HIGHLIGHT_CLOSE) -> str:
        """The fragment with every match wrapped in ``before``/``after`` (e.g. ANSI codes, ``<mark>``)."""
        parts: list[str] = []
        cursor = 0
        for start, end in self.spans:
            parts.append(self.text[cursor:start])
            parts.append(f"{before}{self.text[start:end]}{after}")
            cursor = end
        parts.append(self.text[cursor:])
        return "".join(parts)

    @property
    def highlighted(self) -> str:
        """The fragment with matches in the API's markup, ``**word**``."""
        return self.mark()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "heading": self.heading,
            "spans": [list(s) for s in self.spans],
            "highlighted": self.highlighted,
        }


@dataclass(frozen=True)
class SearchHit:
    """One matching note: its path, title, relevance score (0 when sorted by another key) and
    the body fragments around the matches."""

    path: str
    title: str
    score: float
    snippets: tuple[Snippet, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain values, ready for JSON."""
        return {
            "path": self.path,
            "title": self.title,
            "score": self.score,
            "snippets": [s.to_dict() for s in self.snippets],
        }


@dataclass(frozen=True)
class SearchResults:
    """One page of hits. ``total`` counts every match, not only this page; ``offset`` is where
    this page starts among them.

    ``suggestions`` holds corrected query strings ("did you mean") when nothing matched.
    ``stale`` says why the search index that answered is behind the notes (it could not be
    updated, or another process is updating it), ``None`` when it is current.
    """

    total: int
    hits: tuple[SearchHit, ...]
    suggestions: tuple[str, ...] = ()
    offset: int = 0
    stale: str | None = None

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self.hits)

    @property
    def next_offset(self) -> int | None:
        """The ``offset`` of the next page, ``None`` on the last one."""
        end = self.offset + len(self.hits)
        return end if self.hits and end < self.total else None

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def to_dicts(self) -> list[dict[str, Any]]:
        """The hits as plain values, ready for JSON."""
        return [hit.to_dict() for hit in self.hits]


class EngineBuild(Protocol):
    """A rebuild in progress (``SearchBackend.builder``); the caller holds the vault's owner lock.

    A build may also take the notes themselves (``takes_notes`` true, ``add_notes(notes)``) when it
    makes their search documents more cheaply than the caller (Whoosh's parallel build does it in
    its worker processes)."""

    added: int

    def add(self, docs: Sequence[SearchDocument]) -> None:
        """Index ``docs`` (each path once in a build)."""
        ...

    def commit(self) -> None:
        """Replace the whole index with the documents added, in one commit storing the stamp."""
        ...

    def cancel(self) -> None:
        """Drop the build; the index stays as it was."""
        ...


@runtime_checkable
class SearchBackend(Protocol):
    """A full-text index of notes, keyed by vault-relative path.

    Writes (``apply``, ``rebuild``) need the caller to hold the vault's owner lock; reads can happen
    from any process and always see the latest commit.
    """

    name: str

    def apply(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int) -> None:
        """Insert or replace ``upserts`` (by path), remove ``deletes``; one commit, storing ``stamp``."""
        ...

    def rebuild(self, notes: Iterable[Note], stamp: int) -> None:
        """Replace the whole index with ``notes`` in one commit (uses every core where it pays)."""
        ...

    def builder(self, stamp: int, total: int, hold: bool = False) -> EngineBuild:
        """A rebuild fed a chunk of documents at a time, for about ``total`` notes: the notes are
        never all held. Nothing changes for readers until its ``commit``. ``hold`` (a cold build)
        says the CPU is wanted elsewhere until the commit: an engine may wait with its work."""
        ...

    def stamp(self) -> int | None:
        """The stamp of the last commit, ``None`` for an empty, missing or outdated index."""
        ...

    def hashes(self) -> dict[str, str]:
        """``path → Note.hash`` of every indexed note."""
        ...

    def count(self) -> int:
        """Number of indexed notes."""
        ...

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        restrict: Collection[str] | None = None,
        sort: str = "score",
        snippets: bool = True,
    ) -> SearchResults:
        """Ranked hits for ``query`` (syntax in docs/search.md).

        ``restrict`` keeps only hits whose path is in it (the bridge from structured filters);
        ``sort`` is ``"score"``, ``"mtime"`` (oldest first) or ``"-mtime"`` (newest first; scores
        are then 0); ``snippets=False`` skips the snippets (cheaper when only paths are wanted).
        """
        ...

    def close(self) -> None:
        """Release files and searchers; the object must not be used afterwards."""
        ...


def check_search_args(limit: int, offset: int, sort: str) -> None:
    """The arguments every engine's ``search`` accepts, checked the same way."""
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    if sort not in ("score", "mtime", "-mtime"):
        raise QueryError(f"unknown sort {sort!r}: use 'score', 'mtime' or '-mtime'")
