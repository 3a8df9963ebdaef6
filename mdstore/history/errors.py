"""Errors of the history layer.

These belong in ``mdstore/errors.py`` (the one exception tree); they live here until the lead
moves them there, and this module then re-exports them so nothing else changes.
"""

from __future__ import annotations

from ..errors import MdstoreError


class HistoryError(MdstoreError):
    """A git operation that cannot be done: a bad snapshot label, an existing label, a failed commit."""

    exit_code = 15


class RevisionNotFound(HistoryError):
    """A revision (hash, branch, tag, ``HEAD~2``...) that does not name a commit of the repository."""

    exit_code = 16
