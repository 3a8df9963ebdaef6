"""Write commands: new, set, unset, append, mv, rm. Each is a thin wrapper over the Vault write
method (``new`` → ``Vault.create``, ``set``/``unset`` → ``Vault.update``, ``mv`` → ``Vault.move``,
``rm`` → ``Vault.delete``); values are typed like the find language (``priority=2``, ``due=2026-12-01``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from . import State, api_command, pass_state
from .options import json_option
from .output import done, emit_value

if TYPE_CHECKING:
    from ..vault import Vault

if_hash_option = click.option(
    "--if-hash", help="Refuse the write if the note's content hash is not this one."
)


def _bytes(vault: Vault, ref: str) -> bytes | None:
    """The file's bytes when ``ref`` names a file (with or without its extension), to tell
    whether a write changed it; a note name gives None (then only the vault knows the file)."""
    for ext in ("", *vault.config.vault.extensions):
        try:
            return (vault.root / (ref + ext)).read_bytes()
        except OSError:
            continue
    return None


def _update(state: State, path: str, as_json: bool, unchanged: str, **changes: Any) -> None:
    """``Vault.update`` and what it did: "Updated PATH", or PATH ``unchanged`` when no byte moved."""
    vault = state.vault()
    before = _bytes(vault, path)
    note = vault.update(path, **changes)
    changed = before != _bytes(vault, note.path)
    text = f"Updated {note.path}" if changed else f"{note.path} {unchanged}; nothing changed"
    done({"updated": note.path, "changed": changed, "hash": note.hash}, as_json, text)


def _assignments(pairs: tuple[str, ...]) -> dict[str, Any]:
    from ..errors import QueryError
    from ..index.expr import parse_value

    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise QueryError(f"expected KEY=VALUE, got {pair!r}")
        text = value.strip()
        flow = text[:1] in ("[", "{")
        out[key.strip()] = _flow_value(text, pair) if flow else parse_value(value, pair, "setting")
    return out


def _flow_value(text: str, pair: str) -> Any:
    """A list or map written as a YAML flow value: ``tags=[a, b]``, ``project={owner: ann}``."""
    import yaml

    from ..errors import QueryError

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        why = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise QueryError(f"{pair!r}: not a YAML list or map ({why}); quote it to store it as text") from None


@api_command("new")
@click.argument("path")
@click.option("--template", help="A note of the vault's templates/ folder.")
@click.option(
    "--set", "pairs", multiple=True, help="KEY=VALUE: a frontmatter key, or a template variable (repeatable)."
)
@click.option("--body", default="", help="Body text (appended to the template's).")
@json_option
@pass_state
def new(
    state: State, path: str, template: str | None, pairs: tuple[str, ...], body: str, as_json: bool
) -> None:
    """Create a note (never overwrites). With --template, --set values fill {{placeholders}} too."""
    values = _assignments(pairs)
    vault = state.vault()
    if template:
        note = vault.create(path, None, body, template=template, variables=values)
    else:
        note = vault.create(path, values or None, body)
    done({"created": note.path, "hash": note.hash}, as_json, f"Created {note.path}")


@api_command("set")
@click.argument("path")
@click.argument("pairs", nargs=-1, required=True)
@if_hash_option
@json_option
@pass_state
def set_(state: State, path: str, pairs: tuple[str, ...], if_hash: str | None, as_json: bool) -> None:
    """Set frontmatter keys: mdstore set PATH status=done priority=2 "tags=[a, b]" (only those lines
    change). Values are typed like find's; [...] and {...} are YAML lists and maps."""
    _update(state, path, as_json, "already had those values", set=_assignments(pairs), if_hash=if_hash)


@api_command("unset")
@click.argument("path")
@click.argument("keys", nargs=-1, required=True)
@if_hash_option
@json_option
@pass_state
def unset(state: State, path: str, keys: tuple[str, ...], if_hash: str | None, as_json: bool) -> None:
    """Remove frontmatter keys (a key the note does not have is reported, not an error)."""
    _update(state, path, as_json, f"has no {', '.join(keys)}", unset=list(keys), if_hash=if_hash)


@api_command("append")
@click.argument("path")
@click.argument("text")
@click.option(
    "--under", "under_heading", help="Append at the end of this heading's section ('Log' or '## Log')."
)
@if_hash_option
@json_option
@pass_state
def append(
    state: State, path: str, text: str, under_heading: str | None, if_hash: str | None, as_json: bool
) -> None:
    """Append TEXT to a note, at the end or under a heading (created when missing)."""
    note = state.vault().append(path, text, under_heading, if_hash=if_hash)
    done({"appended": note.path, "hash": note.hash}, as_json, f"Appended to {note.path}")


@api_command("mv")
@click.argument("src")
@click.argument("dst")
@click.option(
    "--no-update-links", "update_links", flag_value=False, default=True, help="Leave links to it as they are."
)
@json_option
@pass_state
def mv(state: State, src: str, dst: str, update_links: bool, as_json: bool) -> None:
    """Move a note or folder, rewriting every link to it (Vault.move)."""
    report = state.vault().move(src, dst, update_links=update_links)
    emit_value(
        {
            "moved": [list(m) for m in report.moved],
            "rewritten": list(report.rewritten),
            "links": report.links,
            "skipped": list(report.skipped),
        },
        as_json,
    )


@api_command("rm")
@click.argument("path")
@click.option("--permanent", is_flag=True, help="Delete for good instead of moving to .trash/.")
@if_hash_option
@json_option
@pass_state
def rm(state: State, path: str, permanent: bool, if_hash: str | None, as_json: bool) -> None:
    """Delete a note: into the vault's .trash/ (or for good with --permanent)."""
    deleted = state.vault().delete(path, permanent=permanent, if_hash=if_hash)
    text = f"Deleted {deleted}" + ("" if permanent else " (moved to .trash/)")
    done({"deleted": deleted, "permanent": permanent}, as_json, text)


@api_command("edit")
@click.argument("path")
@click.option("--editor", help="The program to run (default: $VISUAL, else $EDITOR, else vi).")
@json_option
@pass_state
def edit(state: State, path: str, editor: str | None, as_json: bool) -> None:
    """Open a note in your editor, then index what you saved (PATH, or a note name)."""
    import os
    import shlex
    import subprocess

    from ..errors import MdstoreError
    vault = state.vault()
    note = vault.get(state.note(path))
    command = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        code = subprocess.call([*shlex.split(command), str(vault.root / note.path)])
    except (OSError, ValueError) as exc:
        raise MdstoreError(
            f"cannot run the editor {command!r}: {getattr(exc, 'strerror', None) or exc}"
        ) from exc
    if code != 0:
        raise MdstoreError(f"the editor {command!r} exited with code {code}; {note.path} is as it left it")
    report = vault.sync(paths=[note.path])
    changed = bool(report.changed or report.added)
    text = f"Saved {note.path}" if changed else f"{note.path} unchanged"
    done({"edited": note.path, "changed": changed}, as_json, text)


BATCH_OPS = ("create", "update", "append", "move", "delete")


@api_command("batch")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@json_option
@pass_state
def batch(state: State, file: Any, as_json: bool) -> None:
    """Apply the writes of FILE (default: stdin) all together, or none of them: one JSON object a
    line, {"op": "update", "path": "a.md", "set": {"status": "done"}, "body": "..."}; op is create,
    update, append, move or delete, and the other keys are that method's arguments (Vault.batch)."""
    import json

    from ..errors import QueryError

    ops: list[tuple[str, dict[str, Any]]] = []
    for number, line in enumerate(file, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise QueryError(f"batch line {number}: not JSON: {exc}") from exc
        op = record.pop("op", None) if isinstance(record, dict) else None
        if op not in BATCH_OPS:
            raise QueryError(f'batch line {number}: "op" must be one of {", ".join(BATCH_OPS)}, not {op!r}')
        ops.append((op, record))
    vault = state.vault()
    with vault.batch() as writes:
        for number, (op, record) in enumerate(ops, 1):
            try:
                getattr(writes, op)(**record)
            except TypeError as exc:  # an unknown or missing argument: nothing is written
                raise QueryError(f"batch write {number} ({op}): {exc}") from exc
    done({"applied": len(ops)}, as_json, f"Applied {len(ops)} write(s).")
