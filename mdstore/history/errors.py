"""Errors of the history layer (defined in the one exception tree, ``mdstore/errors.py``)."""

from __future__ import annotations

from ..errors import HistoryError, RevisionNotFound

__all__ = ["HistoryError", "RevisionNotFound"]
