"""Vault core commands: init, index, find, sql, show, links, backlinks, tags, tasks, check, status.
Each is a thin wrapper over the Vault method of the same name (``links`` → ``Vault.outlinks``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import State, api_command, pass_state
from .options import filter_options, json_option
from .output import done, echo_mapping, emit_rows, emit_value, message, use_json


@api_command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--git", "git", is_flag=True, help="Also make the vault a git repository (.mdstore/ ignored).")
@json_option
def init(directory: Path, git: bool, as_json: bool) -> None:
    """Create a vault in DIRECTORY from the starter template (existing files are never overwritten)."""
    from ..starter import init_vault

    vault = init_vault(directory, git=git)
    vault.sync()
    notes = len(vault.find())  # every note in the index, also those indexed before this init
    vault.close()
    done(
        {"vault": str(vault.root), "indexed": notes},
        as_json,
        f"Vault ready at {vault.root}: {notes} notes indexed.",
    )


@api_command("index")
@click.option("--rebuild", is_flag=True, help="Drop the index and re-read every file.")
@click.option("--rebuild-search", is_flag=True, help="Rebuild only the search side (Vault.reindex_search).")
@json_option
@pass_state
def index(state: State, rebuild: bool, rebuild_search: bool, as_json: bool) -> None:
    """Bring the index up to date with the files (Vault.sync)."""
    vault = state.vault()
    if rebuild_search:
        done = vault.reindex_search()
        emit_value(done, as_json) if use_json(as_json) else message(f"Search rebuilt: {done}")
        return
    from .progress import Phases

    with Phases(sys.stderr, enabled=sys.stderr.isatty()) as phases:
        report = vault.sync(rebuild=rebuild, on_phase=phases)
    for issue in report.errors:
        message(f"warning: {issue.path}: {issue.message}")
    summary = {
        "added": len(report.added),
        "changed": len(report.changed),
        "moved": len(report.moved),
        "deleted": len(report.deleted),
        "errors": len(report.errors),
        "scanned": report.scanned,
        "seconds": round(report.seconds, 3),
    }
    if as_json or not sys.stdout.isatty():
        emit_value(
            {
                **summary,
                "added_paths": list(report.added),
                "changed_paths": list(report.changed),
                "moved_paths": [list(m) for m in report.moved],
                "deleted_paths": list(report.deleted),
            },
            True,
        )
    else:
        message(
            "Indexed {scanned} files in {seconds}s: {added} added, {changed} changed, {moved} moved, "
            "{deleted} deleted, {errors} with problems.".format(**summary)
        )


@api_command("find")
@click.argument("filters", nargs=-1)
@filter_options
@click.option("--sort", help="Sort keys, comma separated, '-' for descending: '-modified', 'priority,-due'.")
@click.option("--limit", type=int, help="At most this many notes.")
@click.option("--offset", type=int, default=0, help="Skip this many notes.")
@json_option
@pass_state
def find(state: State, filters: tuple[str, ...], tags: tuple[str, ...], as_json: bool, **kwargs: Any) -> None:
    """Find notes: FILTERS like 'status = active' 'priority >= 2' '#project' (docs/query.md)."""
    result = state.vault().find(*filters, tag=list(tags) or None, **kwargs)
    rows = result.to_dicts()
    if use_json(as_json):
        emit_rows(rows, True)
    else:
        emit_rows(rows, False, columns=["path", "title", "modified", "tags"])


@api_command("sql")
@click.argument("query")
@click.option(
    "--param", "params", multiple=True, help="A positional parameter for a ? in the query (repeatable)."
)
@json_option
@pass_state
def sql(state: State, query: str, params: tuple[str, ...], as_json: bool) -> None:
    """Run a read-only SQL query over the index tables and views (docs/index-schema.md)."""
    from ..index.expr import filter_value

    result = state.vault().sql(query, [filter_value(p) for p in params] if params else None)
    emit_rows(result.to_dicts(), as_json, columns=list(result.columns))


@api_command("show")
@click.argument("path")
@click.option("--body", is_flag=True, help="Print the note's body only.")
@json_option
@pass_state
def show(state: State, path: str, body: bool, as_json: bool) -> None:
    """Show one note: title, frontmatter, tags, links, headings, tasks (Vault.get)."""
    import dataclasses

    vault = state.vault()
    note = vault.get(state.note(path))
    if body:
        click.echo(note.body, nl=False)
        return
    record = dataclasses.asdict(note)
    record.pop("body")
    record["tasks"] = [{**t, "done": t["status"] in ("x", "X")} for t in record["tasks"]]
    if use_json(as_json):
        emit_value(record, True)
        return
    click.echo(f"{note.title}  ({note.path})")
    if note.error:
        click.echo(f"  problem: {note.error}")
    echo_mapping({k: v for k, v in note.frontmatter.items() if k not in ("tags", "tag")}, "  ")  # tags below
    if note.tags:
        click.echo("  tags: " + ", ".join("#" + t for t in note.tags))
    for link in note.links:
        anchor = "#" + link.anchor if link.anchor else ""
        where = "url" if link.kind == "url" else (link.resolved or "broken")
        click.echo(f"  -> {link.target}{anchor}  [{where}]")
    for task in note.tasks:
        click.echo(f"  [{task.status}] {task.text}")


@api_command("links")
@click.argument("path")
@json_option
@pass_state
def links(state: State, path: str, as_json: bool) -> None:
    """Links written in a note, with where they resolve (Vault.outlinks)."""
    emit_rows(state.vault().outlinks(state.note(path)).to_dicts(), as_json)


@api_command("backlinks")
@click.argument("path")
@json_option
@pass_state
def backlinks(state: State, path: str, as_json: bool) -> None:
    """Notes that link to a note."""
    emit_rows(state.vault().backlinks(state.note(path)).to_dicts(), as_json)


@api_command("neighbors")
@click.argument("path")
@click.option("--depth", type=int, default=1, show_default=True, help="Link hops to follow.")
@json_option
@pass_state
def neighbors(state: State, path: str, depth: int, as_json: bool) -> None:
    """Notes within DEPTH link hops of a note, in either direction."""
    emit_rows(state.vault().neighbors(state.note(path), depth=depth).to_dicts(), as_json)


@api_command("orphans")
@json_option
@pass_state
def orphans(state: State, as_json: bool) -> None:
    """Notes no other note links to."""
    emit_rows(state.vault().orphans().to_dicts(), as_json)


@api_command("broken-links")
@json_option
@pass_state
def broken_links(state: State, as_json: bool) -> None:
    """Links that resolve to no note or attachment."""
    emit_rows(state.vault().broken_links().to_dicts(), as_json)


@api_command("tags")
@json_option
@pass_state
def tags(state: State, as_json: bool) -> None:
    """Every tag with its number of notes."""
    emit_rows(state.vault().tags().to_dicts(), as_json)


@api_command("tasks")
@click.option("--done/--open", "done", default=None, help="Only done (or only open) tasks.")
@click.option("--status", help="Only tasks with this status character.")
@click.option("--path", help="Only tasks of this note.")
@click.option("--folder", help="Only tasks of notes in this folder.")
@click.option("--tag", help="Only tasks of notes with this tag.")
@click.option("--limit", type=int)
@json_option
@pass_state
def tasks(state: State, as_json: bool, **kwargs: Any) -> None:
    """Tasks across the vault."""
    if kwargs["path"] is not None:
        kwargs["path"] = state.note(kwargs["path"])
    result = state.vault().tasks(**kwargs)
    emit_rows(result.to_dicts(), as_json, columns=["path", "line", "status", "text"])


@api_command("check")
@json_option
@pass_state
def check(state: State, as_json: bool) -> None:
    """Report parse errors, unreadable files, broken links and duplicate ids (exit 1 if any)."""
    result = state.vault().check()
    if use_json(as_json):
        emit_rows(result.to_dicts(), True)
    else:
        for r in result:
            where = f"{r['path']}:{r['line']}" if r["line"] else r["path"]
            click.echo(f"{where}: {r['kind']}: {r['message']}")
        message(f"{len(result)} problem(s) found." if result else "No problems found.")
    if result:
        raise SystemExit(1)


@api_command("status")
@json_option
@pass_state
def status(state: State, as_json: bool) -> None:
    """What the index holds, when it last synced, and who owns it."""
    emit_value(state.vault().status(), as_json)


@api_command("schema")
@json_option
@pass_state
def schema(state: State, as_json: bool) -> None:
    """The tables and views `mdstore sql` can query, with their columns and types."""
    result = state.vault().schema()
    if use_json(as_json):
        emit_rows(result.to_dicts(), True)
        return
    current = None
    for row in result:
        if row["name"] != current:
            current = row["name"]
            click.echo(f"{current} ({row['kind']})")
        click.echo(f"  {row['column']}  {row['type']}")


@api_command("export")
@click.argument("dest", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("filters", nargs=-1)
@click.option("--sql", "query", help="Export the rows of this read-only SQL query instead of find's.")
@click.option("--param", "params", multiple=True, help="A parameter for a ? in --sql (repeatable).")
@click.option("--sort", help="find's sort keys: '-modified', 'priority,-due'.")
@click.option("--limit", type=int, help="At most this many notes.")
@click.option(
    "--format",
    "format",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    help="Default: from DEST's extension (.csv, .jsonl, .parquet).",
)
@json_option
@pass_state
def export(
    state: State,
    dest: Path,
    filters: tuple[str, ...],
    query: str | None,
    params: tuple[str, ...],
    sort: str | None,
    limit: int | None,
    format: str | None,  # noqa: A002 - the option's name
    as_json: bool,
) -> None:
    """Write the notes matching FILTERS (find's language), or the rows of --sql, to DEST as CSV,
    JSON lines or Parquet (Result.export)."""
    from ..index.expr import filter_value

    vault = state.vault()
    if query is not None:
        if filters or sort or limit is not None:
            raise click.UsageError("--sql takes no FILTERS, --sort or --limit (write them in the query)")
        result = vault.sql(query, [filter_value(p) for p in params] if params else None)
    else:
        result = vault.find(*filters, sort=sort, limit=limit)
    count = result.export(dest, format)
    done({"exported": str(dest), "rows": count}, as_json, f"Exported {count} rows to {dest}.")
