"""Turning git on for a vault: ``git init`` plus a ``.gitignore`` that keeps ``.mdstore/`` out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config import STATE_DIR, GitSettings
from ..errors import BackendUnavailable, HistoryError, VaultNotFound

if TYPE_CHECKING:
    from .githistory import GitHistory

IGNORE_LINE = f"{STATE_DIR}/"
_SAME_RULES = {STATE_DIR, f"{STATE_DIR}/", f"/{STATE_DIR}", f"/{STATE_DIR}/"}


def init(root: Path, settings: GitSettings | None = None) -> GitHistory:
    """Make the vault folder a git repository (like ``git init``: a no-op on an existing one).

    A new repository is created at ``root`` even when a folder above is already a repository,
    since that is what ``git init`` does; open such a vault with ``GitHistory`` instead to use
    the enclosing repository. Nothing is committed: call ``commit()`` for a first commit.
    """
    import git

    root = Path(root)
    if not root.is_dir():
        raise VaultNotFound(f"no vault folder at {root}")
    try:
        git.Repo.init(root).close()
    except git.GitCommandNotFound as exc:
        raise BackendUnavailable("git is not installed or not on PATH") from exc
    except git.GitCommandError as exc:
        raise HistoryError(f"git init failed in {root}: {exc.stderr}") from exc
    ensure_gitignore(root)
    from .githistory import GitHistory

    return GitHistory(root, settings)


def ensure_gitignore(root: Path) -> bool:
    """Add ``.mdstore/`` to ``root/.gitignore`` unless a line already ignores it; True if written.

    An existing file keeps its bytes and line endings; the line is appended.
    """
    path = Path(root) / ".gitignore"
    data = path.read_bytes() if path.exists() else b""
    lines = data.decode("utf-8", "replace").splitlines()
    if any(line.strip() in _SAME_RULES for line in lines):
        return False
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    prefix = newline if data and not data.endswith(b"\n") else b""
    with path.open("ab") as handle:
        handle.write(prefix + IGNORE_LINE.encode() + newline)
    return True


def init_repo(root: Path, settings: GitSettings | None = None) -> None:
    """``init`` for callers that only want the repository to exist (``mdstore init --git``)."""
    init(root, settings).close()
