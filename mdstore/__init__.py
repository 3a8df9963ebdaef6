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
    BackupError,
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
    SyncConflict,
    UpgradeError,
    ValidationError,
    VaultNotFound,
    WriteConflict,
)
from .handlers import vault_handlers
from .index.expr import Filter
from .memory import DreamReport, EmbeddingProvider, Insight, InsightFilter, LsaEmbeddings, Memory, SessionLog
from .notes.model import Field, Heading, Link, Note, ParseIssue, SyncReport, Task
from .queue import (
    Job,
    JobState,
    PostgresQueue,
    QueueBackend,
    QueueStats,
    SpoolQueue,
    Worker,
    WorkerReport,
    open_queue,
)
from .result import Result
from .search.protocol import SearchHit, SearchResults, Snippet
from .starter import clone_vault, init_vault
from .team.client import Team
from .team.report import TeamSyncReport
from .team.upgrade import UpgradeReport
from .vault import Vault, open_vault
from .writes.batch import MoveReport, VaultBatch

open = open_vault  # noqa: A001 - `mdstore.open(path)` is the documented entry point

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "BackupError",
    "Collection",
    "ConfigError",
    "DreamReport",
    "EmbeddingProvider",
    "Field",
    "Filter",
    "Heading",
    "HistoryError",
    "IndexBusy",
    "Insight",
    "InsightFilter",
    "InvalidPath",
    "Job",
    "JobState",
    "Link",
    "LsaEmbeddings",
    "MdstoreError",
    "Memory",
    "MoveReport",
    "NotAGitRepo",
    "Note",
    "NoteNotFound",
    "NoteParseError",
    "ParseIssue",
    "PostgresQueue",
    "QueryError",
    "QueueBackend",
    "QueueError",
    "QueueStats",
    "Result",
    "RevisionNotFound",
    "SearchHit",
    "SearchResults",
    "SessionLog",
    "Snippet",
    "SpoolQueue",
    "SyncConflict",
    "SyncReport",
    "Task",
    "Team",
    "TeamSyncReport",
    "UpgradeError",
    "UpgradeReport",
    "ValidationError",
    "Vault",
    "VaultBatch",
    "VaultNotFound",
    "Worker",
    "WorkerReport",
    "WriteConflict",
    "clone_vault",
    "init_vault",
    "open",
    "open_queue",
    "open_vault",
    "vault_handlers",
]
