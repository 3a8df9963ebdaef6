"""History: the vault's git layer (commits, per-note history, old versions, diffs, snapshots).

Everything here works on vault-relative POSIX paths, whether the vault folder is a repository
or a folder inside one. GitPython and the git binary are loaded only when a ``GitHistory`` is
created, so ``import mdstore`` stays fast. The user-facing story is in ``docs/history.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import HistoryError, RevisionNotFound
from ..lazy import lazy_attributes

# Eager: ``init`` is also the name of its module, which importing any sibling binds here first.
from .init import ensure_gitignore, init, init_repo

if TYPE_CHECKING:
    from .autocommit import MODES, AutoCommitter
    from .githistory import GitHistory, default_message
    from .records import Change, Commit, CommitInfo, Revision, Snapshot

# The rest loads when first asked for: a process that never touches git (a CLI `set` in a vault
# without autocommit) does not import the history modules.
_LAZY = {
    "MODES": ".autocommit",
    "AutoCommitter": ".autocommit",
    "GitHistory": ".githistory",
    "default_message": ".githistory",
    "Change": ".records",
    "Commit": ".records",
    "CommitInfo": ".records",
    "Revision": ".records",
    "Snapshot": ".records",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = [
    "MODES",
    "AutoCommitter",
    "Change",
    "Commit",
    "CommitInfo",
    "GitHistory",
    "HistoryError",
    "Revision",
    "RevisionNotFound",
    "Snapshot",
    "default_message",
    "ensure_gitignore",
    "init",
    "init_repo",
]
