"""mdstore: a file-first Markdown knowledge store.

>>> import mdstore
>>> vault = mdstore.open("~/notes")
>>> vault.sync()
>>> vault.find("status = active", tag="project", sort="-modified").to_dicts()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

# Errors are small and needed by every front end; everything else loads on first use, so that
# `import mdstore` (and every CLI command) pays only for the modules it touches.
from .lazy import lazy_attributes

if TYPE_CHECKING:
    from .collection import Collection
    from .handlers import vault_handlers
    from .index.expr import Filter
    from .memory import (
        DreamReport,
        EmbeddingProvider,
        Insight,
        InsightFilter,
        LsaEmbeddings,
        Memory,
        SessionLog,
    )
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

_LAZY: dict[str, str] = {
    "Collection": ".collection",
    "DreamReport": ".memory",
    "EmbeddingProvider": ".memory",
    "Field": ".notes.model",
    "Filter": ".index.expr",
    "Heading": ".notes.model",
    "Insight": ".memory",
    "InsightFilter": ".memory",
    "Job": ".queue",
    "JobState": ".queue",
    "Link": ".notes.model",
    "LsaEmbeddings": ".memory",
    "Memory": ".memory",
    "MoveReport": ".writes.batch",
    "Note": ".notes.model",
    "ParseIssue": ".notes.model",
    "PostgresQueue": ".queue",
    "QueueBackend": ".queue",
    "QueueStats": ".queue",
    "Result": ".result",
    "SearchHit": ".search.protocol",
    "SearchResults": ".search.protocol",
    "SessionLog": ".memory",
    "Snippet": ".search.protocol",
    "SpoolQueue": ".queue",
    "SyncReport": ".notes.model",
    "Task": ".notes.model",
    "Team": ".team.client",
    "TeamSyncReport": ".team.report",
    "UpgradeReport": ".team.upgrade",
    "Vault": ".vault",
    "VaultBatch": ".writes.batch",
    "Worker": ".queue",
    "WorkerReport": ".queue",
    "clone_vault": ".starter",
    "init_vault": ".starter",
    "open_queue": ".queue",
    "open_vault": ".vault",
    "vault_handlers": ".handlers",
    "open": ".vault:open_vault",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


if TYPE_CHECKING:
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
