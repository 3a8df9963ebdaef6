"""The command table: every ``mdstore`` command, the public API method it calls, and how its
options map onto that method's arguments.

The CLI registers its commands from this table (``commands.api_command``), a test checks every
command's options against its method's signature (so the two cannot drift), and other front ends
(the MCP server) read the same table. It imports nothing heavy: only names are written here.

``method`` is ``Owner.name``: ``Vault`` (``mdstore.open(...)``), ``Team`` (``vault.team``),
``Memory`` (``vault.memory``), ``SessionLog`` (``vault.memory.log(session)``), ``RevisionView``
(``vault.at(rev)``), ``QueueBackend`` (``mdstore.open_queue(config, name)``), ``Worker``, or
``mdstore`` for a module-level function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Command:
    name: str
    """The command as typed: ``"show"``, ``"queue ls"``, ``"team members add"``."""
    method: str
    """The API method it calls: ``"Vault.get"``."""
    params: Mapping[str, str] = field(default_factory=dict)
    """CLI parameter → method argument, where the names differ (``{"pairs": "set"}``)."""
    cli_only: Mapping[str, str] = field(default_factory=dict)
    """CLI parameters that are no argument of the method, and what they do instead."""
    left_out: Mapping[str, str] = field(default_factory=dict)
    """Method arguments the command does not offer, and why."""
    defaults: Mapping[str, str] = field(default_factory=dict)
    """CLI options whose default differs from the method's, and why."""
    writes: bool = False
    """Whether it changes notes or other state (an MCP server asks before these)."""

    @property
    def owner(self) -> str:
        return self.method.split(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.method.split(".", 1)[1]


_BY_VALUES = "typed KEY=VALUE pairs on the command line"
_NO_PROGRESS = "the command draws the progress itself"
_FILTER_WHERE = "filters are written as FILTERS strings of the find language"
_QUEUE = {"queue_name": "which queue to open (mdstore.open_queue's name)"}

COMMANDS: tuple[Command, ...] = (
    # -- the vault ------------------------------------------------------------------------------
    Command("init", "mdstore.init_vault", params={"directory": "path"}, writes=True),
    Command(
        "index",
        "Vault.sync",
        cli_only={"rebuild_search": "rebuild only the search side (Vault.reindex_search)"},
        left_out={
            "paths": "the command syncs the whole vault",
            "progress": _NO_PROGRESS,
            "on_phase": _NO_PROGRESS,
        },
        writes=True,
    ),
    Command(
        "find",
        "Vault.find",
        params={"tags": "tag"},
        left_out={"where": _FILTER_WHERE, "text": "ranked text search is the search command"},
    ),
    Command("sql", "Vault.sql", params={"query": "query"}),
    Command(
        "show",
        "Vault.get",
        cli_only={"body": "print only the body"},
    ),
    Command("links", "Vault.outlinks"),
    Command("backlinks", "Vault.backlinks"),
    Command("neighbors", "Vault.neighbors"),
    Command("orphans", "Vault.orphans"),
    Command("broken-links", "Vault.broken_links"),
    Command("tags", "Vault.tags"),
    Command("tasks", "Vault.tasks"),
    Command("check", "Vault.check"),
    Command("status", "Vault.status"),
    Command("schema", "Vault.schema"),
    Command(
        "export",
        "Result.export",
        cli_only={
            "filters": "FILTERS of find (Vault.find) whose rows are written",
            "query": "or a query of Vault.sql",
            "params": "Vault.sql's params",
            "sort": "Vault.find's sort",
            "limit": "Vault.find's limit",
        },
    ),
    # -- writing --------------------------------------------------------------------------------
    Command(
        "new",
        "Vault.create",
        params={"pairs": "frontmatter"},
        left_out={"variables": "with --template, --set pairs fill the template's placeholders too"},
        writes=True,
    ),
    Command(
        "set",
        "Vault.update",
        params={"pairs": "set"},
        left_out={"unset": "the unset command", "body": "replacing a body is the API's (or edit's)"},
        writes=True,
    ),
    Command(
        "unset",
        "Vault.update",
        params={"keys": "unset"},
        left_out={"set": "the set command", "body": "replacing a body is the API's (or edit's)"},
        writes=True,
    ),
    Command("append", "Vault.append", writes=True),
    Command(
        "edit",
        "Vault.get",
        cli_only={"editor": "the program to run (default: $VISUAL, else $EDITOR, else vi)"},
        writes=True,
    ),
    Command("mv", "Vault.move", writes=True),
    Command("rm", "Vault.delete", writes=True),
    Command(
        "batch",
        "Vault.batch",
        cli_only={"file": "JSON lines of writes; each names a VaultBatch method and its arguments"},
        writes=True,
    ),
    # -- search ---------------------------------------------------------------------------------
    Command(
        "search",
        "Vault.search",
        params={"query": "text", "tags": "tag"},
        left_out={"where": _FILTER_WHERE, "snippets": "always shown"},
    ),
    Command("related", "Vault.related"),
    Command("similar", "Vault.similar"),
    Command("reindex-search", "Vault.reindex_search", writes=True),
    # -- history --------------------------------------------------------------------------------
    Command("commit", "Vault.commit", params={"text": "message"}, writes=True),
    Command("history", "Vault.history"),
    Command("diff", "Vault.diff"),
    Command("restore", "Vault.restore", writes=True),
    Command("snapshot", "Vault.snapshot", params={"text": "message"}, writes=True),
    Command("snapshots", "Vault.snapshots"),
    Command("show-revision", "Vault.show_revision"),
    Command(
        "at",
        "Vault.at",
        cli_only={
            "filters": "FILTERS of find at REV",
            "path": "get this note at REV",
            "limit": "find's limit",
        },
    ),
    # -- watcher and queue ----------------------------------------------------------------------
    Command(
        "watch",
        "Vault.watch",
        cli_only={"events": "print change events (Vault.subscribe)", "pattern": "Vault.subscribe's pattern"},
        left_out={"foreground": "a command always runs in the foreground"},
        writes=True,
    ),
    Command(
        "queue ls",
        "QueueBackend.jobs",
        params={"state_name": "state"},
        cli_only=_QUEUE,
        defaults={"limit": "100: a screenful"},
    ),
    Command("queue stats", "QueueBackend.stats", cli_only=_QUEUE),
    Command("queue show", "QueueBackend.get", cli_only=_QUEUE),
    Command(
        "queue enqueue",
        "QueueBackend.enqueue",
        cli_only={**_QUEUE, "any_kind": "skip the check that a handler runs KIND (mdstore.queue.check_kind)"},
        left_out={"job_id": "--key gives a deterministic id"},
        writes=True,
    ),
    Command("queue retry", "QueueBackend.retry", cli_only=_QUEUE, writes=True),
    Command(
        "queue purge", "QueueBackend.purge", params={"state_name": "state"}, cli_only=_QUEUE, writes=True
    ),
    Command(
        "worker",
        "Worker.run",
        cli_only={
            **_QUEUE,
            "concurrency": "Worker(concurrency=...)",
            "claim_batch": "Worker(claim_batch=...)",
        },
        left_out={"install_signals": "a command always stops on SIGINT/SIGTERM"},
        writes=True,
    ),
    Command("doctor", "Vault.health"),
    Command(
        "backup",
        "backup.backup",
        cli_only={"verify_archive": "check an archive instead (backup.verify)"},
        left_out={"root": "the vault (--vault)"},
    ),
    Command("restore-backup", "backup.restore", params={"directory": "dest"}, writes=True),
    # -- team -----------------------------------------------------------------------------------
    Command("team init", "Team.init", writes=True),
    Command("team upgrade", "Team.upgrade", writes=True),
    Command("team clone", "mdstore.clone_vault", params={"directory": "path"}, writes=True),
    Command("team sync", "Team.sync", left_out={"paths": "the command shares every change"}, writes=True),
    Command("team status", "Team.status"),
    Command("team conflicts", "Team.conflicts"),
    Command("team log", "Team.log"),
    Command("team members add", "Team.members_add", writes=True),
    Command("team search", "Team.search", params={"query": "text"}),
    Command("team find", "Team.find", params={"tags": "tag"}),
    # -- memory ---------------------------------------------------------------------------------
    Command("memory set-preference", "Memory.set_preference", writes=True),
    Command(
        "memory get-preference",
        "Memory.get_preference",
        left_out={"default": "nothing is printed when unset"},
    ),
    Command("memory delete-preference", "Memory.delete_preference", writes=True),
    Command("memory list-preferences", "Memory.list_preferences"),
    Command(
        "memory store-insight",
        "Memory.store_insight",
        params={"insight_id": "id"},
        left_out={"metadata": "a mapping: the API's", "provenance": "links written by Dream"},
        writes=True,
    ),
    Command("memory get-insight", "Memory.get_insight"),
    Command("memory delete-insight", "Memory.delete_insight", writes=True),
    Command(
        "memory search-insights",
        "Memory.search_insights",
        left_out={"filter": "built from --user, --category, --source, ... (InsightFilter's fields)"},
        cli_only={
            name: "a field of InsightFilter (the method's filter)"
            for name in ("user", "category", "source", "min_relevance", "created_after", "created_before")
        },
    ),
    Command(
        "memory append",
        "SessionLog.append",
        params={"text": "entry"},
        cli_only={"session": "the log (Memory.log)"},
        writes=True,
    ),
    Command("memory range", "SessionLog.range", cli_only={"session": "the log (Memory.log)"}),
    Command("memory length", "SessionLog.length", cli_only={"session": "the log (Memory.log)"}),
    Command("memory search-sessions", "Memory.search_sessions"),
    Command("memory flush", "Memory.flush", writes=True),
    Command("memory schedule-dream", "Memory.schedule_dream", writes=True),
    Command(
        "dream",
        "Memory.dream",
        left_out={"now": "the clock (for tests)", "consolidator": "a Python object: the API's"},
        writes=True,
    ),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}

NOT_IN_TABLE = {"mcp": "the MCP server: it serves the table's commands as tools, and calls no one method"}
"""Commands that are front ends of their own rather than wrappers of one API method."""


def command(name: str) -> Command:
    """The table's entry for a command (KeyError names it)."""
    return BY_NAME[name]


_OWNERS = {
    "Vault": ("mdstore.vault", "Vault"),
    "Team": ("mdstore.team.client", "Team"),
    "Memory": ("mdstore.memory", "Memory"),
    "SessionLog": ("mdstore.memory", "SessionLog"),
    "QueueBackend": ("mdstore.queue", "QueueBackend"),
    "Worker": ("mdstore.queue", "Worker"),
    "Result": ("mdstore.result", "Result"),
    "mdstore": ("mdstore", None),
    "backup": ("mdstore.backup", None),
}


def target(entry: Command) -> Any:
    """The function or (unbound) method an entry names, imported on demand."""
    import importlib

    module_name, class_name = _OWNERS[entry.owner]
    owner: Any = importlib.import_module(module_name)
    if class_name is not None:
        owner = getattr(owner, class_name)
    return getattr(owner, entry.attribute)
