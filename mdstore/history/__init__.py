"""History: the vault's git layer (commits, per-note history, old versions, diffs, snapshots).

Everything here works on vault-relative POSIX paths, whether the vault folder is a repository
or a folder inside one. GitPython and the git binary are loaded only when a ``GitHistory`` is
created, so ``import mdstore`` stays fast. The user-facing story is in ``docs/history.md``.
"""

from __future__ import annotations

from ..errors import HistoryError, RevisionNotFound
from .autocommit import MODES, AutoCommitter
from .githistory import GitHistory, default_message
from .init import ensure_gitignore, init, init_repo
from .records import Change, Commit, CommitInfo, Revision, Snapshot

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
