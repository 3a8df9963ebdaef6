"""The values the history layer returns. All frozen; paths are vault-relative POSIX paths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Change:
    """One file changed by a commit."""

    kind: str  # "A" added, "M" modified, "D" deleted, "R" renamed, "C" copied, "T" type changed
    path: str  # the path after the change (for "D", the path that was removed)
    old_path: str | None = None  # the path before a rename or copy


@dataclass(frozen=True)
class Commit:
    """A commit made by ``GitHistory.commit``."""

    rev: str  # full hash
    short: str
    author: str
    email: str
    date: datetime  # author date, timezone-aware
    message: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Revision:
    """One commit in the history of one note, newest first in ``GitHistory.history``."""

    rev: str
    short: str
    author: str
    email: str
    date: datetime  # author date, timezone-aware
    message: str  # the full message, without the trailing newline
    path: str  # the note's path in this commit (it may have been renamed since)
    kind: str  # "A" | "M" | "R" | "D" (also "C"/"T", rare): what this commit did to the note
    old_path: str | None = None  # for "R"/"C": the path before

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True)
class CommitInfo:
    """The last commit that changed a file: what the index stores for ``modified_by`` filters."""

    rev: str
    author: str
    email: str
    date: datetime  # author date, timezone-aware


@dataclass(frozen=True)
class Snapshot:
    """A named point in the history: a git tag (annotated when made by ``snapshot``)."""

    label: str
    rev: str  # the commit the tag points to
    date: datetime  # tag creation date (the commit date for a lightweight tag)
    message: str  # "" for a lightweight tag
    tagger: str  # "" for a lightweight tag
