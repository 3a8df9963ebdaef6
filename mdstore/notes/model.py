"""The domain values a parsed note is made of. All frozen: a Note is a snapshot of one file."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any


def content_hash(data: bytes) -> str:
    """The hash that identifies a file's content everywhere (``Note.hash``, ``if_hash=``, move pairing)."""
    return hashlib.sha256(data).hexdigest()


def file_hash(path: str) -> str:
    """``content_hash`` of the file at ``path``, read in large chunks without pathlib or a buffered
    reader (after a large pull the next sync reads again every file the pull wrote, whose stat is
    too recent to trust: for 10k small notes those layers were half of that time)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


@dataclass(frozen=True)
class Link:
    """One link written in a note.

    ``target`` is the raw target as written, without anchor or alias (``"Some Note"``,
    ``"folder/x.md"``, ``"https://..."``). ``resolved`` is the vault-relative path the target
    points to, or ``None`` when the link is broken or external; the parser leaves it ``None`` and
    the index fills it.
    """

    target: str
    kind: str  # "wikilink" | "embed" | "markdown" | "url"
    anchor: str | None = None  # heading text, or "^blockid" for a block reference
    alias: str | None = None  # display text: [[target|alias]] or [alias](target)
    line: int = 0  # 1-based line in the file
    resolved: str | None = None


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


@dataclass(frozen=True)
class Field:
    """An inline (Dataview-style) field: ``key:: value``, ``[key:: value]`` or ``(key:: value)``."""

    key: str
    value: Any  # typed like frontmatter values (number, bool, date, str)
    line: int


@dataclass(frozen=True)
class Task:
    text: str
    status: str  # the character between the brackets: " ", "x", "/", "-", ...
    line: int
    section: str | None = None  # text of the nearest heading above, if any
    fields: tuple[Field, ...] = ()

    @property
    def done(self) -> bool:
        return self.status in ("x", "X")


@dataclass(frozen=True)
class Note:
    """One Markdown file of the vault, parsed.

    ``error`` is set when part of the note could not be read (invalid frontmatter, bytes that are
    not UTF-8, a binary file, a file over the size limit); everything that could be read is still
    there, so the note stays findable.
    """

    path: str  # vault-relative, forward slashes
    title: str
    frontmatter: dict[str, Any]
    body: str
    tags: tuple[str, ...] = ()  # normalised: no "#", lower case, nested with "/"
    aliases: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    headings: tuple[Heading, ...] = ()
    tasks: tuple[Task, ...] = ()
    fields: tuple[Field, ...] = ()
    block_ids: tuple[str, ...] = ()
    word_count: int = 0
    size: int = 0
    mtime: float = 0.0
    hash: str = ""
    frontmatter_format: str | None = None  # "yaml" | "toml" | "json" | None
    error: str | None = None

    @property
    def folder(self) -> str:
        head, _, _ = self.path.rpartition("/")
        return head

    @property
    def name(self) -> str:
        """File name without extension."""
        base = self.path.rpartition("/")[2]
        stem, dot, _ = base.rpartition(".")
        return stem if dot else base


@dataclass(frozen=True)
class ParseIssue:
    """A problem found while reading one file, reported by sync and ``mdstore check``."""

    path: str
    message: str
    # "parse" | "encoding" | "binary" | "too-large" | "unreadable" | "frontmatter" | "worker" (a parse
    # worker died; its files were parsed again) | "listener" (the search or history side failed to
    # follow a sync: ``path`` names that index, in parentheses)
    kind: str = "parse"


@dataclass(frozen=True)
class SyncReport:
    """What one ``Vault.sync()`` did."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    moved: tuple[tuple[str, str], ...] = ()  # (old path, new path)
    deleted: tuple[str, ...] = ()
    errors: tuple[ParseIssue, ...] = ()
    seconds: float = 0.0
    scanned: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def changed_count(self) -> int:
        return len(self.added) + len(self.changed) + len(self.moved) + len(self.deleted)
