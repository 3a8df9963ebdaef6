"""Backup commands: ``mdstore backup [DEST]``, ``mdstore backup --verify ARCHIVE`` and
``mdstore restore-backup ARCHIVE DIR`` (wrappers over ``mdstore.backup``)."""

from __future__ import annotations

from pathlib import Path

import click

from . import State, cli, pass_state
from .options import json_option
from .output import emit_value, message, use_json


@cli.command("backup")
@click.argument("dest", type=click.Path(path_type=Path), required=False)
@click.option(
    "--verify",
    "verify_archive",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Check ARCHIVE against its manifest instead of writing one.",
)
@json_option
@pass_state
def backup_command(state: State, dest: Path | None, verify_archive: Path | None, as_json: bool) -> None:
    """Write one archive of the vault's files, mdstore.toml and pending jobs, with a SHA-256
    manifest, to DEST (a file or a folder; default: here). Indexes are not archived: they are
    rebuilt after a restore."""
    from ..backup import backup, verify

    if verify_archive is not None:
        count = verify(verify_archive)
        if use_json(as_json):
            emit_value({"archive": str(verify_archive), "files": count, "ok": True}, True)
        else:
            message(f"{verify_archive}: {count} files match the manifest.")
        return
    from .queue import _config

    report = backup(_config(state).root, dest)
    if use_json(as_json):
        emit_value({"archive": str(report.archive), "files": report.files, "bytes": report.bytes}, True)
    else:
        message(f"Backup written: {report.archive} ({report.files} files, {report.bytes:,} bytes).")


@cli.command("restore-backup")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("directory", type=click.Path(path_type=Path, dir_okay=True, file_okay=False))
def restore_command(archive: Path, directory: Path) -> None:
    """Recreate the vault of ARCHIVE in DIRECTORY (new or empty), after verifying it; then run
    `mdstore index` there to rebuild the indexes."""
    from ..backup import restore

    count = restore(archive, directory)
    message(
        f"Restored {count} files into {directory}; "
        f"run `mdstore --vault {directory} index` to rebuild the index."
    )
