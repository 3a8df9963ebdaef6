"""``vault.at(rev)``: a read-only view of the vault as it was at a revision.

The tree at ``rev`` is materialised once under ``.mdstore/revisions/<commit>/`` (one ``git ls-tree``
and one ``cat-file --batch``), with its own index beside it, and a Vault is opened on that folder
with the live vault's settings. A commit never changes, so the folder is reused by later calls; it is
state like any index (delete ``.mdstore/`` and it is rebuilt). The view answers every read method;
every write method raises ``HistoryError``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import HistoryError

if TYPE_CHECKING:
    from ..vault import Vault
    from .githistory import GitHistory

REVISIONS_DIR = "revisions"
_COMPLETE = ".complete"
_WRITES = frozenset(
    {
        "create",
        "update",
        "append",
        "move",
        "delete",
        "batch",
        "collection",
        "commit",
        "restore",
        "snapshot",
        "at",
    }
)


class RevisionView:
    """The vault at commit ``rev``: ``get``, ``find``, ``sql``, ``search``... but no writes."""

    def __init__(self, vault: Vault, rev: str) -> None:
        self.rev = rev
        self._vault = vault

    def __getattr__(self, name: str) -> Any:
        if name in _WRITES:
            raise HistoryError(
                f"the vault at revision {self.rev[:12]} is read-only; {name}() is not available"
            )
        return getattr(self._vault, name)

    def __repr__(self) -> str:
        return f"<RevisionView {self.rev[:12]} of {self._vault.root}>"

    def close(self) -> None:
        self._vault.close()

    def __enter__(self) -> RevisionView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_revision(vault: Vault, history: GitHistory, rev: str) -> RevisionView:
    from ..config import GitSettings

    commit = history.resolve(rev)
    folder = vault.config.state_dir / REVISIONS_DIR / commit
    marker = folder.with_name(commit + _COMPLETE)
    if not marker.exists():
        _materialise(history, commit, folder)
        marker.write_text(commit)
    config = dataclasses.replace(vault.config, root=folder, git=GitSettings())
    view = type(vault)(config)  # a Vault of the same kind over the revision's tree
    view.sync()
    return RevisionView(view, commit)


def _materialise(history: GitHistory, commit: str, folder: Path) -> None:
    # Built beside the final name and renamed, so a crash never leaves a half tree marked complete.
    temp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    for path, data in history.tree_at(commit):
        target = temp / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.rmtree(folder, ignore_errors=True)
    temp.rename(folder)
