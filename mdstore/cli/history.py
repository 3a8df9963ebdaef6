"""History commands: commit, history, diff, restore, snapshot, snapshots (docs/history.md). Each is
a thin wrapper over the Vault method of the same name."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

import click

from . import State, api_command, pass_state
from .options import json_option
from .output import done, emit_rows, emit_value, message, use_json

if TYPE_CHECKING:
    from ..vault import Vault


@api_command("commit")
@click.argument("paths", nargs=-1)
@click.option("-m", "--message", "text", help="Commit message (default: the list of changes).")
@json_option
@pass_state
def commit(state: State, paths: tuple[str, ...], text: str | None, as_json: bool) -> None:
    """Commit every change in the vault, or only PATHS."""
    vault = state.vault()
    _say_repository(vault)
    made = vault.commit(text, list(paths) or None)
    if made is None:
        done({"rev": None, "changes": 0}, as_json, "Nothing to commit.")
        return
    emit_value(
        {
            "rev": made.rev,
            "short": made.short,
            "changes": len(made.changes),
            "message": made.message.split("\n")[0],
        },
        as_json,
    )


@api_command("history")
@click.argument("path")
@click.option("--limit", type=int, help="At most this many commits.")
@json_option
@pass_state
def history(state: State, path: str, limit: int | None, as_json: bool) -> None:
    """Commits that changed a note, newest first (renames followed)."""
    vault = state.vault()
    _say_repository(vault)
    revs = vault.history(state.note(path), limit=limit)
    rows = [{**dataclasses.asdict(r), "subject": r.subject} for r in revs]
    for row in rows:
        row.pop("message")
    emit_rows(rows, as_json, columns=["short", "date", "author", "kind", "path", "subject"])


@api_command("diff")
@click.argument("path")
@click.argument("rev_a", default="HEAD")
@click.argument("rev_b", required=False)
@json_option
@pass_state
def diff(state: State, path: str, rev_a: str, rev_b: str | None, as_json: bool) -> None:
    """Unified diff of a note between two revisions (default: HEAD and the file on disk)."""
    vault = state.vault()
    _say_repository(vault)
    text = vault.diff(state.note(path), rev_a, rev_b)
    if as_json:
        emit_value({"path": path, "rev_a": rev_a, "rev_b": rev_b, "diff": text}, True)
    else:
        sys.stdout.write(text)


@api_command("restore")
@click.argument("path")
@click.argument("rev")
@click.option("--if-hash", help="Refuse the write if the note's content hash is not this one.")
@json_option
@pass_state
def restore(state: State, path: str, rev: str, if_hash: str | None, as_json: bool) -> None:
    """Write a note's content at REV back to it (refused if the file changed since indexed)."""
    note = state.vault().restore(state.note(path), rev, if_hash=if_hash)
    done({"restored": note.path, "rev": rev, "hash": note.hash}, as_json, f"Restored {note.path} from {rev}")


@api_command("snapshot")
@click.argument("label")
@click.option("-m", "--message", "text", help="Tag message.")
@json_option
@pass_state
def snapshot(state: State, label: str, text: str | None, as_json: bool) -> None:
    """Commit pending changes and tag them LABEL."""
    vault = state.vault()
    _say_repository(vault)
    snap = vault.snapshot(label, text)
    emit_value(dataclasses.asdict(snap), as_json)


@api_command("snapshots")
@json_option
@pass_state
def snapshots(state: State, as_json: bool) -> None:
    """Every snapshot (git tag), oldest first."""
    emit_rows([dataclasses.asdict(s) for s in state.vault().snapshots()], as_json)


def _say_repository(vault: Vault) -> None:
    """A vault inside a larger git repository (a folder of a project's checkout) gets its history
    from that repository: say so, so nobody mistakes the project's commits for the vault's own."""
    root = vault.root.resolve()
    for folder in root.parents:
        if (root / ".git").exists():
            return
        if (folder / ".git").exists():
            inside = root.relative_to(folder).as_posix()
            message(
                f"History comes from the git repository at {folder} (this vault is its folder {inside}/)."
            )
            return


@api_command("show-revision")
@click.argument("path")
@click.argument("rev")
@json_option
@pass_state
def show_revision(state: State, path: str, rev: str, as_json: bool) -> None:
    """The bytes of a note at revision REV (a commit, tag or HEAD~2), as they were committed."""
    vault = state.vault()
    _say_repository(vault)
    data = vault.show_revision(state.note(path), rev)
    if as_json:
        emit_value({"path": path, "rev": rev, "text": data.decode("utf-8", errors="replace")}, True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@api_command("at")
@click.argument("rev")
@click.argument("filters", nargs=-1)
@click.option("--path", "path", help="Show this note as it was at REV instead of finding notes.")
@click.option("--limit", type=int, help="At most this many notes.")
@json_option
@pass_state
def at(
    state: State, rev: str, filters: tuple[str, ...], path: str | None, limit: int | None, as_json: bool
) -> None:
    """The vault as it was at revision REV: the notes matching FILTERS (find's language), or
    with --path one note (Vault.at: a read-only view, indexed on first use)."""
    import dataclasses

    vault = state.vault()
    _say_repository(vault)
    with vault.at(rev) as view:
        if path is not None:
            record = dataclasses.asdict(view.get(path))
            emit_value(record, True) if use_json(as_json) else click.echo(record["body"], nl=False)
            return
        rows = view.find(*filters, limit=limit).to_dicts()
    emit_rows(rows, as_json, columns=["path", "title", "modified", "tags"])
