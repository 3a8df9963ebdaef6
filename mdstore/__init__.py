"""mdstore: a file-first Markdown knowledge store.

>>> import mdstore
>>> vault = mdstore.open("~/notes")
>>> vault.sync()
>>> vault.find("status = active", tag="project", sort="-modified").to_dicts()
"""

from __future__ import annotations

from .collection import Collection
from .errors import (
    BackendUnavailable,
    ConfigError,
    HistoryError,
    IndexBusy,
    InvalidPath,
    MdstoreError,
    NotAGitRepo,
    NoteNotFound,
    NoteParseError,
    QueryError,
    QueueError,
    RevisionNotFound,
    ValidationError,
    VaultNotFound,
    WriteConflict,
)
from .index.expr import Filter
from .notes.model import Field, Heading, Link, Note, ParseIssue, SyncReport, Task
from .queue import Job, JobState, QueueBackend, QueueStats, SpoolQueue, Worker, WorkerReport, open_queue
from .result import Result
from .search.protocol import SearchHit, SearchResults, Snippet
from .starter import init_vault
from .vault import Vault, open_vault
from .writes.batch import MoveReport, VaultBatch

open = open_vault  # noqa: A001 - `mdstore.open(path)` is the documented entry point

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "Collection",
    "ConfigError",
    "Field",
    "Filter",
    "Heading",
    "HistoryError",
    "IndexBusy",
    "InvalidPath",
    "Job",
    "JobState",
    "Link",
    "MdstoreError",
    "MoveReport",
    "NotAGitRepo",
    "Note",
    "NoteNotFound",
    "NoteParseError",
    "ParseIssue",
    "QueryError",
    "QueueBackend",
    "QueueError",
    "QueueStats",
    "Result",
    "RevisionNotFound",
    "SearchHit",
    "SearchResults",
    "Snippet",
    "SpoolQueue",
    "SyncReport",
    "Task",
    "ValidationError",
    "Vault",
    "VaultBatch",
    "VaultNotFound",
    "Worker",
    "WorkerReport",
    "WriteConflict",
    "init_vault",
    "open",
    "open_queue",
    "open_vault",
]
