"""The command table: every ``mdstore`` command, the public API method it calls, and how its
options map onto that method's arguments.

The CLI registers its commands from this table (``commands.api_command``), a test checks every
command's options against its method's signature (so the two cannot drift), and other front ends
(the MCP server) read the same table. It imports nothing heavy: only names are written here, and
the one-line help of each command (``SUMMARIES``), so that ``mdstore --help`` loads no command.

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

# The one-line help of every command and command group, as ``mdstore --help`` lists it. It lives
# here rather than in the command modules so that the listing imports none of them.
SUMMARIES: dict[str, str] = {
    "init": "Create a vault in DIRECTORY from the starter template (existing files are never overwritten).",
    "index": "Bring the index up to date with the files (Vault.sync).",
    "find": "Find notes: FILTERS like 'status = active' 'priority >= 2' '#project' (docs/query.md).",
    "sql": "Run a read-only SQL query over the index tables and views (docs/index-schema.md).",
    "show": "Show one note: title, frontmatter, tags, links, headings, tasks (Vault.get).",
    "links": "Links written in a note, with where they resolve (Vault.outlinks).",
    "backlinks": "Notes that link to a note.",
    "neighbors": "Notes within DEPTH link hops of a note, in either direction.",
    "orphans": "Notes no other note links to.",
    "broken-links": "Links that resolve to no note or attachment.",
    "tags": "Every tag with its number of notes.",
    "tasks": "Tasks across the vault.",
    "check": "Report parse errors, unreadable files, broken links and duplicate ids (exit 1 if any).",
    "status": "What the index holds, when it last synced, and who owns it.",
    "schema": "The tables and views `mdstore sql` can query, with their columns and types.",
    "export": (
        "Write the notes matching FILTERS (find's language), or the rows of --sql, to DEST as CSV, JSON "
        "lines or Parquet (Result.export)."
    ),
    "new": "Create a note (never overwrites).",
    "set": (
        'Set frontmatter keys: mdstore set PATH status=done priority=2 "tags=[a, b]" (only those lines '
        "change)."
    ),
    "unset": "Remove frontmatter keys (a key the note does not have is reported, not an error).",
    "append": "Append TEXT to a note, at the end or under a heading (created when missing).",
    "edit": "Open a note in your editor, then index what you saved (PATH, or a note name).",
    "mv": "Move a note or folder, rewriting every link to it (Vault.move).",
    "rm": "Delete a note: into the vault's .trash/ (or for good with --permanent).",
    "batch": (
        "Apply the writes of FILE (default: stdin) all together, or none of them: one JSON object a line,"
        ' {"op": "update", "path": "a.md", "set": {"status": "done"}, "body": "..."}; op is create, '
        "update, append, move or delete, and the other keys are that method's arguments (Vault.batch)."
    ),
    "search": (
        "Full-text search: QUERY in the search syntax (docs/search.md), FILTERS like find's ('status = "
        "active' '#project')."
    ),
    "related": "Notes most similar to the note at PATH (TF-IDF), best first.",
    "similar": "Notes most similar to TEXT (TF-IDF), best first.",
    "reindex-search": (
        "Rebuild the search index and the related-notes model from the indexed notes (Vault.reindex_search)."
    ),
    "commit": "Commit every change in the vault, or only PATHS.",
    "history": "Commits that changed a note, newest first (renames followed).",
    "diff": "Unified diff of a note between two revisions (default: HEAD and the file on disk).",
    "restore": "Write a note's content at REV back to it (refused if the file changed since indexed).",
    "snapshot": "Commit pending changes and tag them LABEL.",
    "snapshots": "Every snapshot (git tag), oldest first.",
    "show-revision": "The bytes of a note at revision REV (a commit, tag or HEAD~2), as they were committed.",
    "at": (
        "The vault as it was at revision REV: the notes matching FILTERS (find's language), or with "
        "--path one note (Vault.at: a read-only view, indexed on first use)."
    ),
    "watch": (
        "Keep every index current as files change, and serve reads to other processes, until Ctrl-C or "
        "SIGTERM (Vault.watch)."
    ),
    "queue": "The vault's job queue (the spool in .mdstore/queue/, or the team database's on the team tier).",
    "queue ls": "List jobs: waiting ones in the order they will run, then running, done and dead ones.",
    "queue stats": "How many jobs are in each state.",
    "queue show": "Everything about one job (the most recent with this id), with its last error.",
    "queue enqueue": "Add a job of KIND with a JSON PAYLOAD.",
    "queue retry": "Put dead jobs (JOB_ID, or all) back in the queue with their attempts reset.",
    "queue purge": "Delete jobs in one state (JOB_ID, or all of them): dead ones by default.",
    "worker": "Run the queue's jobs until SIGINT/SIGTERM: the vault's own kinds and [queue] handlers.",
    "doctor": (
        "Check the tier's backends: the team database (reachable, latency, versions, schema), the queue "
        "(counts, lag), the outbox (pending work) and the watcher (heartbeat)."
    ),
    "backup": (
        "Write one archive of the vault's files, mdstore.toml and pending jobs, with a SHA-256 manifest, "
        "to DEST (a file or a folder; default: here)."
    ),
    "restore-backup": (
        "Recreate the vault of ARCHIVE in DIRECTORY (new or empty), after verifying it; then run `mdstore"
        " index` there to rebuild the indexes."
    ),
    "team": "Share the vault with a team through PostgreSQL ([team] in mdstore.toml).",
    "team init": "Write [team] to mdstore.toml, apply the schema and create the space.",
    "team upgrade": (
        "Move this vault from the local tier to the team tier: back up, create the space, push every note"
        " and attachment, move waiting jobs to the team queue, verify, then switch mdstore.toml."
    ),
    "team clone": (
        "Create a new vault in DIRECTORY (new or empty) from the team space at URL (no password in it; a "
        '"${ENV}" reference works) and pull every note.'
    ),
    "team sync": "Push local changes, pull everyone else's; print what moved and any conflicts.",
    "team status": "The space, changes waiting to be pushed, and whether the server is reachable.",
    "team conflicts": "Conflict copies waiting to be merged by hand.",
    "team log": "The space's revisions, newest first (of PATH when given).",
    "team members": "Members of a space (each a PostgreSQL role).",
    "team members add": (
        "Create ROLE if missing and let it read and write the space (needs an administrator)."
    ),
    "team search": (
        'Full-text search over the whole space on the server (web-search syntax: words, "phrases", -word,'
        " or)."
    ),
    "team find": (
        "Notes of the whole space on the server matching every FILTER (find's language: 'status = active'"
        " 'priority >= 2' '#project')."
    ),
    "memory": "Agent memory kept as notes: preferences, insights, session logs.",
    "memory set-preference": "Set USER's preference KEY to VALUE (JSON when it parses, else text).",
    "memory get-preference": "Print USER's preference KEY (nothing when unset).",
    "memory delete-preference": "Remove USER's preference KEY.",
    "memory list-preferences": "USER's preferences.",
    "memory store-insight": "Store an insight (the same content for the same user gives the stored one).",
    "memory get-insight": "Print one insight.",
    "memory delete-insight": "Move an insight's note to the vault's trash.",
    "memory search-insights": "Insights matching QUERY, best first.",
    "memory append": "Append TEXT to the log of SESSION.",
    "memory range": "Entries START to END (exclusive; negative counts from the end) of SESSION's log.",
    "memory length": "The number of entries in SESSION's log.",
    "memory search-sessions": "Single session entries matching QUERY, best first, across every session.",
    "memory flush": "Write every waiting session entry and insight to its note now.",
    "memory schedule-dream": "Enqueue the scheduled Dream job (`mdstore worker` runs it).",
    "dream": (
        "Consolidate memory: merge near-duplicate insights, summarise and archive the window's sessions."
    ),
    "mcp": "Run an MCP server over the vault (stdio by default) for Claude Desktop, Claude Code, IDE agents.",
}


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
