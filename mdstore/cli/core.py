"""Vault core commands: init, index, find, sql, show, links, backlinks, tags, tasks, check, status.
Each is a thin wrapper over the Vault method of the same name (``links`` → ``Vault.outlinks``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import State, cli, pass_state
from .options import filter_options, json_option
from .output import emit_rows, emit_value, message, use_json


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--git", "git", is_flag=True, help="Also make the vault a git repository (.mdstore/ ignored).")
def init(directory: Path, git: bool) -> None:
    """Create a vault in DIRECTORY from the starter template (existing files are never overwritten)."""
    from ..starter import init_vault

    vault = init_vault(directory, git=git)
    report = vault.sync()
    message(f"Vault ready at {vault.root}: {len(report.added)} notes indexed.")
    vault.close()


@cli.command()
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
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if total < 200 or not sys.stderr.isatty():
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Indexing", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        report = vault.sync(rebuild=rebuild, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
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


@cli.command()
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


@cli.command()
@click.argument("query")
@click.option(
    "--param", "params", multiple=True, help="A positional parameter for a ? in the query (repeatable)."
)
@json_option
@pass_state
def sql(state: State, query: str, params: tuple[str, ...], as_json: bool) -> None:
    """Run a read-only SQL query over the index tables and views (docs/index-schema.md)."""
    from ..index.expr import parse_value

    result = state.vault().sql(query, [parse_value(p) for p in params] if params else None)
    emit_rows(result.to_dicts(), as_json, columns=list(result.columns))


@cli.command()
@click.argument("path")
@click.option("--body", is_flag=True, help="Print the note's body only.")
@json_option
@pass_state
def show(state: State, path: str, body: bool, as_json: bool) -> None:
    """Show one note: title, frontmatter, tags, links, headings, tasks (Vault.get)."""
    import dataclasses

    note = state.vault().get(path)
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
    for key, value in note.frontmatter.items():
        if key not in ("tags", "tag"):  # shown normalised below
            click.echo(f"  {key}: {value}")
    if note.tags:
        click.echo("  tags: " + ", ".join("#" + t for t in note.tags))
    for link in note.links:
        anchor = "#" + link.anchor if link.anchor else ""
        where = "url" if link.kind == "url" else (link.resolved or "broken")
        click.echo(f"  -> {link.target}{anchor}  [{where}]")
    for task in note.tasks:
        click.echo(f"  [{task.status}] {task.text}")


@cli.command()
@click.argument("path")
@json_option
@pass_state
def links(state: State, path: str, as_json: bool) -> None:
    """Links written in a note, with where they resolve (Vault.outlinks)."""
    emit_rows(state.vault().outlinks(path).to_dicts(), as_json)


@cli.command()
@click.argument("path")
@json_option
@pass_state
def backlinks(state: State, path: str, as_json: bool) -> None:
    """Notes that link to a note."""
    emit_rows(state.vault().backlinks(path).to_dicts(), as_json)


@cli.command()
@click.argument("path")
@click.option("--depth", type=int, default=1, show_default=True, help="Link hops to follow.")
@json_option
@pass_state
def neighbors(state: State, path: str, depth: int, as_json: bool) -> None:
    """Notes within DEPTH link hops of a note, in either direction."""
    emit_rows(state.vault().neighbors(path, depth=depth).to_dicts(), as_json)


@cli.command()
@json_option
@pass_state
def orphans(state: State, as_json: bool) -> None:
    """Notes no other note links to."""
    emit_rows(state.vault().orphans().to_dicts(), as_json)


@cli.command("broken-links")
@json_option
@pass_state
def broken_links(state: State, as_json: bool) -> None:
    """Links that resolve to no note or attachment."""
    emit_rows(state.vault().broken_links().to_dicts(), as_json)


@cli.command()
@json_option
@pass_state
def tags(state: State, as_json: bool) -> None:
    """Every tag with its number of notes."""
    emit_rows(state.vault().tags().to_dicts(), as_json)


@cli.command()
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
    result = state.vault().tasks(**kwargs)
    emit_rows(result.to_dicts(), as_json, columns=["path", "line", "status", "text"])


@cli.command()
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


@cli.command()
@json_option
@pass_state
def status(state: State, as_json: bool) -> None:
    """What the index holds, when it last synced, and who owns it."""
    emit_value(state.vault().status(), as_json)
