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


def filter_options(fn: F) -> F:
    """The structured filters of ``Vault.find`` as options (``find`` and ``search`` share them)."""
    for option in reversed(_FILTERS):
        fn = option(fn)
    return fn
