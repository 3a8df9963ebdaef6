"""Preferences per user: the frontmatter of one note per user, ``<folder>/preferences/<user>.md``.

The note holds ``preferences`` (key → value) and ``categories`` (key → category) mappings, written
with the vault's lossless writes, so a person may edit the note by hand; each call reads the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import NoteNotFound, ValidationError
from .naming import note_stem

if TYPE_CHECKING:
    from ..vault import Vault

_KEY = re.compile(r"^[\w-]+$")
_MISSING = object()


class Preferences:
    def __init__(self, vault: Vault, folder: str) -> None:
        self._vault = vault
        self._folder = folder

    def path(self, user: str) -> str:
        return f"{self._folder}/{note_stem(user, 'user')}.md"

    def get(self, user: str, key: str, default: Any = None) -> Any:
        return self._values(user)[0].get(_check_key(key), default)

    def set(self, user: str, key: str, value: Any, category: str | None = None) -> None:
        _check_key(key)
        _check_value(value, f"preference {key!r}")
        if category is not None and (not isinstance(category, str) or not _KEY.match(category)):
            raise ValidationError(
                f"preference category {category!r} must be a word (letters, digits, - or _)"
            )
        changes: dict[str, Any] = {f"preferences.{key}": value}
        if category is not None:
            changes[f"categories.{key}"] = category
        path = self.path(user)
        try:
            self._vault.update(path, set=changes)
        except NoteNotFound:
            front: dict[str, Any] = {"user": user, "type": "preferences", "preferences": {key: value}}
            if category is not None:
                front["categories"] = {key: category}
            self._vault.create(path, front, f"# Preferences of {user}\n")

    def delete(self, user: str, key: str) -> bool:
        """Remove one preference; False when it was not set."""
        values, categories = self._values(user)
        if _check_key(key) not in values:
            return False
        unset = [f"preferences.{key}"] + ([f"categories.{key}"] if key in categories else [])
        self._vault.update(self.path(user), unset=unset)
        return True

    def list(self, user: str, category: str | None = None) -> dict[str, Any]:
        values, categories = self._values(user)
        if category is None:
            return dict(values)
        return {k: v for k, v in values.items() if categories.get(k) == category}

    def _values(self, user: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            note = self._vault.get(self.path(user))
        except NoteNotFound:
            return {}, {}
        values = note.frontmatter.get("preferences")
        categories = note.frontmatter.get("categories")
        return (
            dict(values) if isinstance(values, Mapping) else {},
            dict(categories) if isinstance(categories, Mapping) else {},
        )


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValidationError(f"preference key {key!r} must be a word (letters, digits, - or _)")
    return key


def _check_value(value: Any, label: str) -> None:
    """Refuse what YAML frontmatter cannot hold and read back as the same value."""
    if value is None or isinstance(value, bool | int | str | dt.date):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(
                f"{label}: {value!r} cannot be stored in YAML frontmatter (not a finite number)"
            )
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(item, label)
        return
    if isinstance(value, Mapping):
        for k, item in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"{label}: mapping key {k!r} is not a string")
            _check_value(item, label)
        return
    raise ValidationError(
        f"{label}: a {type(value).__name__} cannot be stored in YAML frontmatter "
        "(use strings, numbers, booleans, dates, lists and mappings)"
    )
