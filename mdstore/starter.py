"""The starter vault: ``init_vault`` makes a folder a vault from the template shipped with
mdstore, ``clone_vault`` one from a team space. It sits above ``vault.py`` (it opens the vault it
made)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import CONFIG_FILE, STATE_DIR
from .errors import VaultNotFound
from .vault import Vault, open_vault


def init_vault(path: str | os.PathLike[str] = ".", *, git: bool = False) -> Vault:
    """Make ``path`` a vault from the starter template; files that exist are never overwritten."""
    import shutil

    root = Path(path).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VaultNotFound(f"cannot create vault folder {root}: {exc.strerror or exc}") from exc
    template = _template_dir()
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if "__pycache__" in rel.parts:
            continue
        dst = root / rel
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        elif not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    (root / STATE_DIR).mkdir(exist_ok=True)
    if git:
        from .history import init_repo

        init_repo(root)
    return open_vault(root)


def _template_dir() -> Path:
    # Shipped inside the package (a copy of the repository's vault-template/ in the wheel).
    here = Path(__file__).resolve().parent
    for candidate in (here / "vault_template", here.parent / "vault-template"):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise VaultNotFound("the starter vault template is missing from this installation")  # pragma: no cover


def clone_vault(
    url: str, path: str | os.PathLike[str], *, space: str, **settings: Mapping[str, Any]
) -> Vault:
    """Make ``path`` (a new or empty folder) a vault sharing ``space`` of the team database at
    ``url`` (a libpq URL or a ``${ENV}`` reference, never a password) and pull the space into it.
    Returns the opened vault; ``settings`` override config sections as in ``open_vault``. Run
    again after an interruption, it carries on in the same folder."""
    from .team.clone import finish_clone, prepare_clone

    root = prepare_clone(url, path, space=space)
    vault = open_vault(root, **settings)
    try:
        vault.team.sync()
    except BaseException:
        vault.close()
        raise
    finish_clone(root)
    return vault
