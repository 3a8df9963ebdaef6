"""The commit HEAD points to, read from the repository's own files, without loading GitPython.

After every sync of a git vault the ``commits`` table checks whether HEAD moved (lastcommits.py).
Loading GitPython for that one answer cost a one-note write 70–130 ms; reading ``.git/HEAD`` and
the branch it names costs microseconds. Only the plain layouts are read here — a ``.git`` folder or
a ``.git`` file naming one (worktrees, submodules), loose or packed refs, SHA-1 or SHA-256 ids;
anything else (reftable, an unborn branch, a file that does not parse) gives None, and the caller
asks git itself.
"""

from __future__ import annotations

import re
from pathlib import Path

_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_MAX_HOPS = 5  # symbolic refs pointing at symbolic refs


def read_head(start: Path) -> str | None:
    """HEAD's commit id for the repository holding ``start``, or None when git must answer."""
    try:
        git_dir = _git_dir(start.resolve())
        if git_dir is None:
            return None
        common = git_dir
        if (git_dir / "commondir").is_file():
            common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        text = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        for _ in range(_MAX_HOPS):
            if _ID.fullmatch(text):
                return text  # a detached HEAD, or the branch's commit
            if not text.startswith("ref: "):
                return None
            ref = text[len("ref: ") :].strip()
            if not ref.startswith("refs/") or ".." in ref:
                return None
            loose = common / ref
            if loose.is_file():
                text = loose.read_text(encoding="utf-8").strip()
                continue
            return _packed(common, ref)
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _git_dir(folder: Path) -> Path | None:
    """The git directory of the nearest ``.git`` at or above ``folder`` (a folder, or a file
    ``gitdir: PATH``) that looks like one, as GitPython finds it (it passes over a ``.git``
    folder without ``objects/`` and ``refs/``)."""
    for candidate in (folder, *folder.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            if _looks_like_git_dir(dot_git):
                return dot_git
            continue
        if dot_git.is_file():
            line = dot_git.read_text(encoding="utf-8").strip()
            if not line.startswith("gitdir:"):
                return None
            return (candidate / line[len("gitdir:") :].strip()).resolve()
    return None


def _looks_like_git_dir(path: Path) -> bool:
    return (path / "commondir").is_file() or ((path / "objects").is_dir() and (path / "refs").is_dir())


def _packed(common: Path, ref: str) -> str | None:
    try:
        lines = (common / "packed-refs").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None  # an unborn branch (no commit yet) or a layout read only by git
    for line in lines:
        if line.startswith(("#", "^")):
            continue
        commit, _, name = line.partition(" ")
        if name.strip() == ref and _ID.fullmatch(commit):
            return commit
    return None
