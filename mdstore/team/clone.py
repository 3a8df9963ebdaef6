"""A new vault from a team space: the folder and its settings, for ``mdstore.clone_vault(url, path,
space=...)`` (in ``starter.py``, above the vault; ``mdstore team clone``).

The folder gets an ``mdstore.toml`` on the team tier and the space's notes and attachments (the first
sync of the new clone). A marker in ``.mdstore/team/clone.json`` lives from before the first file is
written until the sync is done, so running the same clone again after an interruption carries on in
that folder; any other folder that holds files is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..config import CONFIG_FILE, STATE_DIR
from ..errors import ConfigError, UpgradeError

MARKER = "team/clone.json"


def prepare_clone(url: str, path: str | os.PathLike[str], *, space: str) -> Path:
    """Check the URL, the space and the folder, then make ``path`` a vault folder on the team tier
    (marker first, then mdstore.toml); the folder's path. ``mdstore.clone_vault`` then opens it,
    pulls the space and calls ``finish_clone``."""
    from ..config import load_config
    from ..notes.fileio import atomic_write
    from ..pg import describe, refuse_password
    from .client import _SPACE_NAME
    from .remote import open_space
    from .settings_file import write_settings

    refuse_password(url)
    if not _SPACE_NAME.match(space):
        raise ConfigError(f"space {space!r}: use letters, digits, '_', '.' or '-' (at most 63)")
    root = Path(path).expanduser().resolve()
    expanded = load_config(root, overrides={"team": {"url": url}}).team.database_url()
    if not expanded:
        raise ConfigError("no team database URL: pass one, or set MDSTORE_TEAM_URL")
    marker = root / STATE_DIR / MARKER
    target = {"server": describe(expanded), "space": space}
    if root.exists():
        if not root.is_dir():
            raise UpgradeError(f"{root}: not a folder; clone into a new or empty folder")
        if any(root.iterdir()) and _marked(marker) != target:
            raise UpgradeError(
                f"{root}: clone needs a new or empty folder (it holds files; nothing was written)"
            )
    open_space(expanded, space).close()  # the space exists and this role may use it
    (root / STATE_DIR / "team").mkdir(parents=True, exist_ok=True)
    atomic_write(marker, json.dumps(target).encode())
    if not (root / CONFIG_FILE).exists():
        atomic_write(root / CONFIG_FILE, f"# mdstore settings: a clone of team space {space!r}.\n".encode())
    write_settings(root, {"tier": {"name": "team"}, "team": {"url": url, "space": space}})
    return root


def finish_clone(root: Path) -> None:
    """The first sync is done: the folder is an ordinary vault now."""
    (root / STATE_DIR / MARKER).unlink(missing_ok=True)


def _marked(marker: Path) -> dict[str, str] | None:
    try:
        raw = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None
