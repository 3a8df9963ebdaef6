"""The spool's id index: ``ids/<id>`` is a symlink to the file of the job with that id while it waits
for its first run (``new/...`` or ``delayed/...``), so keyed enqueues find it without listing the
folders. A link is only a hint: it is checked against the file system, and a job promoted from
delayed/ to new/ since the link was made is still found."""

from __future__ import annotations

import os
from pathlib import Path

from . import names

IDS = "ids"


def index_id(root: Path, jid: str, dest: Path) -> None:
    """Point the id ``jid`` at the job file ``dest`` (replacing an older link)."""
    link = root / IDS / jid
    target = f"{dest.parent.name}/{dest.name}"
    try:
        os.symlink(target, link)
    except FileExistsError:
        os.unlink(link)
        os.symlink(target, link)


def waiting_path(root: Path, jid: str) -> Path | None:
    """The file of the job with this id that waits for its first run, if any."""
    try:
        target = os.readlink(root / IDS / jid)
    except OSError:
        return None
    path = root / target
    if path.exists():
        return path
    if target.startswith("delayed/"):
        promoted = root / "new" / path.name.partition(".")[2]
        if promoted.exists():
            return promoted
    return None


def prune_ids(root: Path) -> None:
    """Remove the links of jobs that no longer wait (the caller holds the sequence lock, so no
    enqueue adds a link meanwhile)."""
    for name in names.listdir(root / IDS):
        if waiting_path(root, name) is None:
            names.unlink(root / IDS / name)
