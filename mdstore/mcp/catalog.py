"""Which tools exist, which are served by default, and their protocol hints.

The hints are the truth table the tests check: ``read_only`` tools change nothing; a
``destructive`` tool may change or remove what was there (a non-destructive write only adds);
an ``idempotent`` tool called again with the same arguments changes nothing more (a second
create, move or delete fails instead of acting twice); no tool reaches outside the vault, so
``open_world`` is false for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Hints:
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = False


READ = Hints(read_only=True, destructive=False, idempotent=True)

TOOLS: dict[str, Hints] = {
    # read
    "search": READ,
    "find": READ,
    "read_note": READ,
    "list_notes": READ,
    "links": READ,
    "tags": READ,
    "tasks": READ,
    "recent_changes": READ,
    "sql": READ,
    "history": READ,
    "status": READ,
    # write
    "create_note": Hints(read_only=False, destructive=False, idempotent=True),
    "update_note": Hints(read_only=False, destructive=True, idempotent=False),
    "move_note": Hints(read_only=False, destructive=True, idempotent=True),
    "delete_note": Hints(read_only=False, destructive=True, idempotent=True),
    # memory
    "remember": Hints(read_only=False, destructive=False, idempotent=True),
    "recall": READ,
    "log": Hints(read_only=False, destructive=False, idempotent=False),
    "get_preferences": READ,
    "set_preference": Hints(read_only=False, destructive=True, idempotent=True),
}
"""Every tool the server has, with its hints."""

EXTRA_TOOLS = ("sql", "history", "status", "tags")
DEFAULT_TOOLS = tuple(name for name in TOOLS if name not in EXTRA_TOOLS)
"""Served unless ``tools`` says otherwise; the ``EXTRA_TOOLS`` are served when named."""


def select_tools(names: Iterable[str] | str | None = None, *, read_only: bool = False) -> tuple[str, ...]:
    """The tools to serve. ``names``: tool names and the words ``default`` and ``all``, as a
    list or a comma-separated string; ``None`` is ``default``. ``read_only`` keeps the read tools."""
    if names is None:
        names = ["default"]
    elif isinstance(names, str):
        names = [n for n in (part.strip() for part in names.split(",")) if n]
    chosen: list[str] = []
    for name in names:
        group = {"default": DEFAULT_TOOLS, "all": tuple(TOOLS)}.get(name)
        if group is None and name not in TOOLS:
            raise ConfigError(f"--tools: unknown tool {name!r} (known: default, all, {', '.join(TOOLS)})")
        for tool in group or (name,):
            if tool not in chosen:
                chosen.append(tool)
    if not chosen:
        raise ConfigError("--tools: no tool named")
    if read_only:
        chosen = [t for t in chosen if TOOLS[t].read_only]
    return tuple(chosen)
