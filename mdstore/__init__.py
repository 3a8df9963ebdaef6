"""mdstore: a file-first Markdown knowledge store.

>>> import mdstore
>>> vault = mdstore.open("~/notes")
>>> vault.sync()
>>> vault.find("status = active", tag="project", sort="-modified").to_dicts()
"""

from __future__ import annotations

from .errors import (
    BackendUnavailable,
    ConfigError,
    IndexBusy,
    InvalidPath,
    MdstoreError,
    NoteNotFound,
    NoteParseError,
    NotAGitRepo,
    QueryError,
    QueueError,
    ValidationError,
    VaultNotFound,
    WriteConflict,
)
from .index.expr import Filter
from .notes.model import Field, Heading, Link, Note, ParseIssue, SyncReport, Task
from .result import Result
from .vault import Vault, open_vault

open = open_vault  # noqa: A001 - `mdstore.open(path)` is the documented entry point

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "ConfigError",
    "Field",
    "Filter",
    "Heading",
    "IndexBusy",
    "InvalidPath",
    "Link",
    "MdstoreError",
    "NotAGitRepo",
    "Note",
    "NoteNotFound",
    "NoteParseError",
    "ParseIssue",
    "QueryError",
    "QueueError",
    "Result",
    "SyncReport",
    "Task",
    "ValidationError",
    "Vault",
    "VaultNotFound",
    "WriteConflict",
    "open",
    "open_vault",
]
