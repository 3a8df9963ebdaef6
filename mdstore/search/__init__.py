"""Full-text search (Whoosh by default, tantivy optional) and related notes (TF-IDF).

The engines load lazily: importing this package imports neither whoosh, tantivy nor scikit-learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mdstore.errors import ConfigError
from mdstore.lazy import lazy_attributes

if TYPE_CHECKING:
    from mdstore.search.protocol import SearchBackend, SearchHit, SearchResults, Snippet
    from mdstore.search.query import literal, parse_query
    from mdstore.search.tfidf import TfidfModel

# Loaded when first asked for: a process that only writes (a CLI `set`) imports the search
# package's listener, not the query parser or the related-notes model.
_LAZY = {
    "SearchBackend": ".protocol",
    "SearchHit": ".protocol",
    "SearchResults": ".protocol",
    "Snippet": ".protocol",
    "literal": ".query",
    "parse_query": ".query",
    "TfidfModel": ".tfidf",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())

ENGINES = ("whoosh", "tantivy")


def open_backend(engine: str, folder: Path) -> SearchBackend:
    """The search engine named ``engine`` (``[search] engine`` in mdstore.toml) on index ``folder``.

    Raises ``BackendUnavailable`` for tantivy when it is not installed, ``ConfigError`` for an
    unknown name.
    """
    if engine == "whoosh":
        from mdstore.search.whoosh_engine import WhooshBackend

        return WhooshBackend(folder)
    if engine == "tantivy":
        from mdstore.search.tantivy_engine import TantivyBackend

        return TantivyBackend(folder)
    raise ConfigError(f"unknown search engine {engine!r} in [search] engine: use one of {', '.join(ENGINES)}")


__all__ = [
    "ENGINES",
    "SearchBackend",
    "SearchHit",
    "SearchResults",
    "Snippet",
    "TfidfModel",
    "literal",
    "open_backend",
    "parse_query",
]
