"""Options shared by several commands, declared once (click decorators)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option(
    "--json", "as_json", is_flag=True, help="JSON lines output (the default when piped)."
)

_FILTERS = (
    click.option(
        "--tag", "tags", multiple=True, help="Only notes with this tag (nested: 'a' matches 'a/b')."
    ),
    click.option("--folder", help="Only notes in this folder (and below)."),
    click.option("--links-to", help="Only notes linking to this note."),
    click.option("--linked-from", help="Only notes that this note links to."),
    click.option("--modified-after", help="YYYY-MM-DD"),
    click.option("--modified-before", help="YYYY-MM-DD"),
    click.option("--created-after", help="YYYY-MM-DD"),
    click.option("--created-before", help="YYYY-MM-DD"),
    click.option(
        "--open-tasks/--no-open-tasks",
        "has_open_tasks",
        default=None,
        help="Notes with (or without) open tasks.",
    ),
    click.option("--modified-by", help="Last git commit by this author (name or email)."),
    click.option("--committed-after", help="Last git commit after YYYY-MM-DD."),
    click.option("--committed-before", help="Last git commit before YYYY-MM-DD."),
)


def complete_note(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of a note argument: indexed note paths (and names) starting with what
    is typed so far. Nothing (rather than an error) when no vault or index is at hand."""
    from click.shell_completion import CompletionItem

    from ..errors import MdstoreError
    from ..vault import open_vault

    root = ctx.find_root().params.get("vault_path")
    try:
        with open_vault(root) as vault:
            found = vault.sql(
                "SELECT path FROM notes WHERE starts_with(lower(path), lower(?)) "
                "OR starts_with(lower(name), lower(?)) ORDER BY path LIMIT 200",
                [incomplete, incomplete],
            ).column("path")
    except (MdstoreError, OSError):
        return []
    return [CompletionItem(path) for path in found]


NOTE_ARGUMENTS = frozenset({"path", "src"})
"""Arguments that name a note: completed with note paths."""


def filter_options(fn: F) -> F:
    """The structured filters of ``Vault.find`` as options (``find`` and ``search`` share them)."""
    for option in reversed(_FILTERS):
        fn = option(fn)
    return fn
