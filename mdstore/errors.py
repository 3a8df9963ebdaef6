"""The one exception tree of mdstore.

Every error mdstore raises is an ``MdstoreError``; the CLI prints its message as one line
``Error: ...`` on stderr and exits with the class's ``exit_code``.

::

    MdstoreError (1)
    ├── VaultNotFound (3)        no vault at the given or discovered path
    ├── NoteNotFound (4)         no note at that path
    ├── InvalidPath (5)          a path that escapes the vault, is absolute, reserved or malformed
    ├── QueryError (6)           a malformed filter, expression, SQL or search query
    ├── NoteParseError (7)       a note that cannot be parsed where parsing is required
    ├── WriteConflict (8)        the file changed since it was read (compare-and-swap failed)
    ├── IndexBusy (9)            another process holds the index longer than the wait allows
    ├── ConfigError (10)         an unknown, mistyped or invalid setting
    ├── BackendUnavailable (11)  an engine or service that cannot be used (missing extra, no server)
    ├── ValidationError (12)     a record that breaks its collection's schema
    ├── NotAGitRepo (13)         a history command on a vault that is not a git repository
    ├── QueueError (14)          a job queue operation that cannot be done
    ├── HistoryError (15)        a git operation that cannot be done (bad label, failed commit)
    │   └── RevisionNotFound (16)  a revision that names no commit
    ├── SyncConflict (17)        team sync with policy "fail" met edits that truly overlap
    ├── BackupError (20)         a backup that cannot be written, verified or restored
    └── UpgradeError (21)        a move to the team tier that cannot go on (space taken, verification)

Library exceptions (duckdb, whoosh, psycopg, git) are translated into these where those libraries
are called, with the original kept as ``__cause__``.
"""

from __future__ import annotations


class MdstoreError(Exception):
    """Root of every error mdstore raises."""

    exit_code = 1


class VaultNotFound(MdstoreError):
    exit_code = 3


class NoteNotFound(MdstoreError):
    exit_code = 4


class InvalidPath(MdstoreError):
    exit_code = 5


class QueryError(MdstoreError):
    exit_code = 6


class NoteParseError(MdstoreError):
    exit_code = 7


class WriteConflict(MdstoreError):
    exit_code = 8


class IndexBusy(MdstoreError):
    exit_code = 9


class ConfigError(MdstoreError):
    exit_code = 10


class BackendUnavailable(MdstoreError):
    exit_code = 11


class ValidationError(MdstoreError):
    exit_code = 12


class NotAGitRepo(MdstoreError):
    exit_code = 13


class QueueError(MdstoreError):
    exit_code = 14


class HistoryError(MdstoreError):
    exit_code = 15


class RevisionNotFound(HistoryError):
    exit_code = 16


class SyncConflict(MdstoreError):
    exit_code = 17


class BackupError(MdstoreError):
    exit_code = 20


class UpgradeError(MdstoreError):
    exit_code = 21


ALL_ERRORS: tuple[type[MdstoreError], ...] = (
    MdstoreError,
    VaultNotFound,
    NoteNotFound,
    InvalidPath,
    QueryError,
    NoteParseError,
    WriteConflict,
    IndexBusy,
    ConfigError,
    BackendUnavailable,
    ValidationError,
    NotAGitRepo,
    QueueError,
    HistoryError,
    RevisionNotFound,
    SyncConflict,
    BackupError,
    UpgradeError,
)
