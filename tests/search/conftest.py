"""Fixture notes and engine factories for the search tests (hand-made ``Note`` values, real index folders)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mdstore.notes.model import Heading, Note, content_hash
from mdstore.search.protocol import SearchBackend

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
DENDRON = CORPORA / "dendron-site"

ENGINES = ["whoosh", "tantivy"]


def engine_param(name: str) -> Any:
    """``name`` as a pytest parameter, skipped when it is tantivy and tantivy is not installed."""
    marks = []
    if name == "tantivy":
        try:
            import tantivy  # noqa: F401
        except ImportError:
            marks.append(pytest.mark.skip(reason="tantivy is not installed"))
    return pytest.param(name, marks=marks)


def make_note(
    path: str,
    title: str,
    body: str,
    *,
    tags: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    mtime: float = 0.0,
) -> Note:
    headings = tuple(
        Heading(level=len(line) - len(line.lstrip("#")), text=line.lstrip("#").strip(), line=i + 1)
        for i, line in enumerate(body.splitlines())
        if line.startswith("#")
    )
    return Note(
        path=path,
        title=title,
        frontmatter={},
        body=body,
        tags=tags,
        aliases=aliases,
        headings=headings,
        mtime=mtime,
        hash=content_hash(f"{title}\n{body}\n{tags}\n{aliases}".encode()),
    )


NOTES: tuple[Note, ...] = (
    make_note(
        "projects/lookup.md",
        "Lookup",
        "# Lookup\nLookups let you find or create a note.\n\n## Details\n"
        "Dendron uses fuzzy matching when you look up notes by keyword.\n",
        tags=("dendron/core", "search"),
        aliases=("Finder",),
        mtime=100.0,
    ),
    make_note(
        "projects/vaults.md",
        "Vaults",
        "A vault is a folder of Markdown notes. Configuration lives in the vault root.\n\n"
        "## Multiple vaults\nYou can open several vaults in one workspace.\n",
        tags=("dendron/core",),
        mtime=200.0,
    ),
    make_note(
        "daily/2026-01-05.md",
        "Monday journal",
        "Went to the café and read about asyncio coroutines.\n\n## Tasks\n- [ ] water the tomatoes\n",
        tags=("journal",),
        mtime=300.0,
    ),
    make_note(
        "daily/2026-01-06.md",
        "Tuesday journal",
        "Cafe closed. Gardening: tomatoes need compost and water.\n",
        tags=("journal", "garden"),
        mtime=400.0,
    ),
    make_note(
        "garden/tomatoes.md",
        "Growing tomatoes",
        "Tomatoes like warm soil, compost and deep watering.\n\n## Pests\nAphids love tomato plants.\n",
        tags=("garden",),
        mtime=500.0,
    ),
    make_note(
        "code/python/asyncio.md",
        "Asyncio notes",
        "The event loop runs coroutines. Use `asyncio.run(main())` to start.\n\n"
        "## Cancellation\nA cancelled task raises CancelledError inside the coroutine.\n",
        tags=("python", "python/async"),
        mtime=600.0,
    ),
    make_note(
        "code/python/threads.md",
        "Threads and processes",
        "Threads share memory; processes do not. The GIL limits CPU-bound threads.\n",
        tags=("python",),
        mtime=700.0,
    ),
    make_note(
        "Naïve Ünïcode.md",
        "Résumé of Zürich",
        "Ein schöner Tag in Zürich: Straße, Größe und das Café am See.\n",
        tags=("travel",),
        mtime=800.0,
    ),
    make_note(
        "inbox/empty.md",
        "Empty",
        "",
        mtime=900.0,
    ),
    make_note(
        "inbox/the.md",
        "The",
        "To be or not to be, that is the question.\n",
        mtime=1000.0,
    ),
)

PATHS = frozenset(note.path for note in NOTES)


def open_engine(engine: str, folder: Path) -> SearchBackend:
    if engine == "tantivy":
        pytest.importorskip("tantivy", reason="tantivy is not installed (pip install 'mdstore[tantivy]')")
    from mdstore.search import open_backend

    return open_backend(engine, folder)


EngineFactory = Callable[[str], SearchBackend]


@pytest.fixture
def engine_at(tmp_path: Path) -> EngineFactory:
    """Open engine ``name`` on a fresh folder under tmp_path; closed at teardown."""
    opened: list[SearchBackend] = []

    def factory(name: str, sub: str = "index") -> SearchBackend:
        backend = open_engine(name, tmp_path / name / sub)
        opened.append(backend)
        return backend

    yield factory
    for backend in opened:
        backend.close()
