"""File names of memory notes: readable, safe on every file system, one per distinct name."""

from __future__ import annotations

import hashlib
import re

from ..errors import ValidationError

_UNSAFE = re.compile(r"[^\w.-]+")


def note_stem(name: object, label: str) -> str:
    """A file name stem for ``name`` (a user, a session): the name itself when it is safe, else
    a slug plus a short hash, so two names never share a file."""
    if not isinstance(name, str) or not name.strip() or "\n" in name or not encodable(name):
        raise ValidationError(f"{label} must be a non-empty one-line string, not {name!r}")
    slug = _UNSAFE.sub("-", name.strip()).strip("-.")[:60]
    if slug == name:
        return slug
    return f"{slug or label}-{digest(name)[:8]}"


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate cannot be written to a file
    except UnicodeEncodeError:
        return False
    return True


def note_text(text: str) -> str:
    """``text`` as a note can hold it: a NUL would make the note a binary file (which no edit
    touches) and a lone surrogate cannot be written, so each becomes U+FFFD. For text that
    comes from elsewhere (a session turn Dream quotes, a journal line of an older version)."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text if encodable(text) else text.encode("utf-8", "replace").decode("utf-8")
