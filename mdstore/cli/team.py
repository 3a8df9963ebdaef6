"""Team commands: ``mdstore team init|upgrade|clone|sync|status|conflicts|log|search|find|members add``
(docs/team.md). Each wraps the ``vault.team`` method of the same words (``clone``:
``mdstore.clone_vault``)."""

from __future__ import annotations

import dataclasses

import click

from ..team.conflicts import POLICIES
from . import State, cli, pass_state
from .options import json_option
from .output import emit_rows, emit_value, message, use_json


@cli.group()
def team() -> None:
    """Share the vault with a team through PostgreSQL ([team] in mdstore.toml)."""


@team.command("init")
@click.option("--space", required=True, help="The shared space this vault belongs to.")
@click.option("--url", help='Team database URL (default: the reference "${MDSTORE_TEAM_URL}"; no password).')
@json_option
@pass_state
def team_init(state: State, space: str, url: str | None, as_json: bool) -> None:
    """Write [team] to mdstore.toml, apply the schema and create the space."""
    done = state.vault().team.init(space, url=url)
    emit_value(done, as_json)


@team.command("upgrade")
@click.option("--space", required=True, help="The space to create (or, with --resume, to join).")
@click.option(
    "--url", help='Team database URL, stored as given (default: "${MDSTORE_TEAM_URL}"; no password).'
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--resume", is_flag=True, help="Add this vault's notes to a space that exists already.")
@click.option(
    "--backup", "backup_to", type=click.Path(), help="Archive file or folder (default: .mdstore/backups/)."
)
@json_option
@pass_state
def team_upgrade(
    state: State,
    space: str,
    url: str | None,
    dry_run: bool,
    resume: bool,
    backup_to: str | None,
    as_json: bool,
) -> None:
    """Move this vault from the local tier to the team tier: back up, create the space, push every
    note and attachment, move waiting jobs to the team queue, verify, then switch mdstore.toml.
    Run it again after an interruption to finish."""
    report = state.vault().team.upgrade(space, url=url, dry_run=dry_run, resume=resume, backup_to=backup_to)
    if use_json(as_json):
        emit_value(dataclasses.asdict(report), True)
        return
    verb = "Would upgrade" if report.dry_run else "Upgraded"
    click.echo(
        f"{verb} to space {report.space!r} on {report.server}" + (" (resumed)" if report.resumed else "")
    )
    click.echo(f"  files      {report.notes} notes, {report.attachments} attachments, {report.bytes} bytes")
    click.echo(f"  backup     {report.backup}")
    for name, count in sorted(report.jobs.items()):
        click.echo(f"  jobs       {count} waiting in queue {name!r}")
    for line in report.config:
        click.echo(f"  setting    {line}")
    for line in report.not_shared:
        message(f"not shared: {line}")
    if report.dead_jobs:
        message(f"{report.dead_jobs} dead job(s) stay in the local queue: retry or purge them there")
    if not report.dry_run:
        message(f"Pushed {report.pushed}, pulled {report.pulled}, verified ({report.seconds:.1f} s).")


@team.command("clone")
@click.argument("url")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--space", required=True, help="The space to clone.")
@json_option
def team_clone(url: str, directory: str, space: str, as_json: bool) -> None:
    """Create a new vault in DIRECTORY (new or empty) from the team space at URL (no password in it;
    a "${ENV}" reference works) and pull every note."""
    from ..starter import clone_vault

    vault = clone_vault(url, directory, space=space)
    try:
        status = vault.team.status()
    finally:
        vault.close()
    done = {"path": str(vault.root), "space": space, "revision": status["revision"]}
    emit_value(done, as_json)


@team.command("sync")
@click.option(
    "--policy", type=click.Choice(POLICIES), help="When edits truly overlap (default: [team] policy)."
)
@json_option
@pass_state
def team_sync(state: State, policy: str | None, as_json: bool) -> None:
    """Push local changes, pull everyone else's; print what moved and any conflicts."""
    report = state.vault().team.sync(policy=policy)
    if use_json(as_json):
        emit_value(dataclasses.asdict(report), True)
        return
    for label, paths in (
        ("pulled", report.pulled),
        ("deleted", report.deleted),
        ("merged", report.merged),
        ("pushed", report.pushed),
    ):
        for path in paths:
            click.echo(f"{label:8} {path}")
    for old, new in report.moved:
        click.echo(f"moved    {old} -> {new}")
    for path in report.conflicts:
        click.echo(f"conflict {path}")
    for line in report.skipped:
        message(f"not shared: {line}")
    message(f"In sync at revision {report.revision} ({report.seconds * 1000:.0f} ms).")


@team.command("status")
@json_option
@pass_state
def team_status(state: State, as_json: bool) -> None:
    """The space, changes waiting to be pushed, and whether the server is reachable."""
    emit_value(state.vault().team.status(), as_json)


@team.command("conflicts")
@json_option
@pass_state
def team_conflicts(state: State, as_json: bool) -> None:
    """Conflict copies waiting to be merged by hand."""
    emit_rows(state.vault().team.conflicts().to_dicts(), as_json)


@team.command("log")
@click.argument("path", required=False)
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@pass_state
def team_log(state: State, path: str | None, limit: int, as_json: bool) -> None:
    """The space's revisions, newest first (of PATH when given)."""
    rows = state.vault().team.log(path, limit=limit).to_dicts()
    emit_rows(rows, as_json, columns=["revision", "at", "author", "action", "path", "moved_from"])


@team.group("members")
def members() -> None:
    """Members of a space (each a PostgreSQL role)."""


@members.command("add")
@click.argument("role")
@click.option("--space", help="The space (default: this vault's).")
@click.option("--name", "display_name", default="", help="Display name (conflict copies, log).")
@click.option("--email", default="")
@json_option
@pass_state
def members_add(
    state: State, role: str, space: str | None, display_name: str, email: str, as_json: bool
) -> None:
    """Create ROLE if missing and let it read and write the space (needs an administrator)."""
    emit_value(
        state.vault().team.members_add(role, space=space, display_name=display_name, email=email), as_json
    )


@team.command("search")
@click.argument("query")
@click.option("--limit", type=int, default=10, show_default=True, help="At most this many notes.")
@click.option("--offset", type=int, default=0, help="Skip this many notes (the next page).")
@json_option
@pass_state
def team_search(state: State, query: str, limit: int, offset: int, as_json: bool) -> None:
    """Full-text search over the whole space on the server (web-search syntax: words, "phrases",
    -word, or). Matches are shown in bold on a terminal."""
    from .search import print_results

    print_results(state.vault().team.search(query, limit=limit, offset=offset), as_json)


@team.command("find")
@click.argument("filters", nargs=-1)
@click.option("--tag", "tags", multiple=True, help="Only notes with this tag (repeatable; -TAG excludes).")
@click.option("--folder", help="Only notes in this folder (and below).")
@click.option("--modified-by", help="Only notes last changed by this member (role).")
@click.option("--sort", help="Sort keys like find's: '-modified', 'priority,-due'.")
@click.option("--limit", type=int, help="At most this many notes.")
@click.option("--offset", type=int, default=0, help="Skip this many notes.")
@json_option
@pass_state
def team_find(
    state: State, filters: tuple[str, ...], tags: tuple[str, ...], as_json: bool, **kwargs: object
) -> None:
    """Notes of the whole space on the server matching every FILTER (find's language:
    'status = active' 'priority >= 2' '#project')."""
    rows = state.vault().team.find(*filters, tag=list(tags) or None, **kwargs)
    emit_rows(rows.to_dicts(), as_json)
