"""Search commands: search, related, similar, reindex-search. Each wraps the Vault method of the
same name (``reindex-search`` → ``Vault.reindex_search``); flags are its keyword arguments."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from . import State, api_command, pass_state
from .options import filter_options, json_option
from .output import emit_rows, emit_value, message, use_json

if TYPE_CHECKING:
    from ..search.protocol import SearchHit, SearchResults

BOLD, RESET = "\x1b[1m", "\x1b[0m"


@api_command("search")
@click.argument("query")
@click.argument("filters", nargs=-1)
@filter_options
@click.option("--sort", help="Relevance by default; or sort keys like find's: '-modified', 'priority,-due'.")
@click.option("--limit", type=int, default=10, show_default=True, help="At most this many notes.")
@click.option("--offset", type=int, default=0, help="Skip this many notes (the next page).")
@json_option
@pass_state
def search(
    state: State, query: str, filters: tuple[str, ...], tags: tuple[str, ...], as_json: bool, **kwargs: Any
) -> None:
    """Full-text search: QUERY in the search syntax (docs/search.md), FILTERS like find's
    ('status = active' '#project'). Matches are shown in bold on a terminal."""
    print_results(state.vault().search(query, *filters, tag=list(tags) or None, **kwargs), as_json)


def print_results(results: SearchResults, as_json: bool) -> None:
    """Hits as JSON lines, or path, title and highlighted snippets; then a summary on stderr."""
    if results.stale:
        message(f"warning: the search index is behind the notes ({results.stale}); results may be stale")
    if use_json(as_json):
        emit_rows(results.to_dicts(), True)
    else:
        for hit in results.hits:
            _print_hit(hit)
    _summary(results)


def _print_hit(hit: SearchHit) -> None:
    score = f"  ({hit.score:.3g})" if hit.score else ""
    click.echo(f"{BOLD}{hit.path}{RESET}  {hit.title}{score}")
    for snippet in hit.snippets:
        where = f"{snippet.heading} › " if snippet.heading else ""
        click.echo(f"    {where}{snippet.mark(BOLD, RESET)}")


def _summary(results: SearchResults) -> None:
    if results.hits:
        first = results.offset + 1
        more = f"; next page: --offset {results.next_offset}" if results.next_offset is not None else ""
        message(
            f"{results.total} matching note(s), showing {first}–{results.offset + len(results.hits)}{more}."
        )
    elif results.total:
        message(f"{results.total} matching note(s); none at offset {results.offset}.")
    else:
        message("No matching notes.")
    if results.suggestions:
        message("Did you mean: " + " | ".join(results.suggestions) + " ?")


@api_command("related")
@click.argument("path")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many notes.")
@click.option("--exclude-linked", is_flag=True, help="Leave out notes it links to or is linked from.")
@json_option
@pass_state
def related(state: State, path: str, k: int, exclude_linked: bool, as_json: bool) -> None:
    """Notes most similar to the note at PATH (TF-IDF), best first."""
    result = state.vault().related(state.note(path), k=k, exclude_linked=exclude_linked)
    emit_rows(result.to_dicts(), as_json, columns=["path", "title", "score"])


@api_command("similar")
@click.argument("text")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many notes.")
@json_option
@pass_state
def similar(state: State, text: str, k: int, as_json: bool) -> None:
    """Notes most similar to TEXT (TF-IDF), best first."""
    result = state.vault().similar(text, k=k)
    emit_rows(result.to_dicts(), as_json, columns=["path", "title", "score"])


@api_command("reindex-search")
@json_option
@pass_state
def reindex_search(state: State, as_json: bool) -> None:
    """Rebuild the search index and the related-notes model from the indexed notes (Vault.reindex_search)."""
    if sys.stderr.isatty():
        message("Rebuilding the search index…")
    summary = state.vault().reindex_search()
    if use_json(as_json):
        emit_value(summary, True)
    else:
        message("Search index rebuilt: {notes} notes with {engine} in {seconds}s.".format(**summary))
