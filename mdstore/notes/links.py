"""Which file a link points to, following Obsidian's rules.

A resolver is built once from every note path (with its aliases) and every attachment path; each
``resolve`` is then a few dict lookups. The keys are exposed (``link_key``, ``name_keys``) so that the
index can re-resolve only the links a change can affect: a link can only ever resolve to a file whose
``name_keys`` contain the link's ``link_key``. The rules are written in docs/vault-format.md.
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Iterable, Sequence

from .model import Link

__all__ = ["LinkResolver", "link_key", "name_keys"]

_NOTE_EXT = ".md"


def _fold(text: str) -> str:
    # Names compare case-insensitively and in one Unicode form (macOS file names are NFD).
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text.lower()


def link_key(target: str) -> str:
    """The lookup key of a link target: its last path segment, lower-cased, without ``.md``.

    ``"Folder/My Note.md"`` → ``"my note"``; ``"a.b.c"`` → ``"a.b.c"`` (Dendron names keep their
    dots); ``"img.png"`` → ``"img.png"``. ``""`` (a link to a heading of its own note) gives ``""``.
    """
    name = _fold(target.rstrip("/").rpartition("/")[2])
    return name[: -len(_NOTE_EXT)] if name.endswith(_NOTE_EXT) else name


def name_keys(path: str, aliases: Iterable[str] = ()) -> set[str]:
    """Every ``link_key`` under which the file at ``path`` (with these aliases) can be linked."""
    keys = {link_key(path)}
    keys.update(link_key(alias) for alias in aliases)
    keys.discard("")
    return keys


def _shortest(paths: list[str]) -> str:
    # "Shortest path" as Obsidian means it: fewest folders, then alphabetical for a stable choice.
    return min(paths, key=lambda p: (p.count("/"), p))


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


class LinkResolver:
    """Resolve links against one snapshot of the vault's files.

    ``notes`` are ``(vault-relative path, aliases)`` pairs; ``attachments`` are the paths of the other
    files (images, PDFs) that links may point to. Paths use forward slashes.
    """

    def __init__(self, notes: Iterable[tuple[str, Sequence[str]]], attachments: Iterable[str] = ()) -> None:
        self._exact: dict[str, str] = {}  # every path as written (NFC) -> path
        self._folded: dict[str, list[str]] = {}  # case-folded path -> paths
        self._by_name: dict[str, list[str]] = {}  # link_key of the file name -> paths
        self._by_alias: dict[str, list[str]] = {}  # case-folded alias -> note paths
        self._forms: dict[str, tuple[str, str]] = {}  # path -> ("/" + folded, "/" + NFC) for suffix tests
        for path, aliases in notes:
            self._add_path(path)
            for alias in aliases:
                self._by_alias.setdefault(_fold(alias.strip()), []).append(path)
        for path in attachments:
            self._add_path(path)
        # Alias ties do not depend on the linking note: resolve them once.
        self._best_alias = {key: _shortest(paths) for key, paths in self._by_alias.items()}

    def _add_path(self, path: str) -> None:
        written, folded = _nfc(path), _fold(path)
        self._exact[written] = path
        self._folded.setdefault(folded, []).append(path)
        self._forms[path] = ("/" + folded, "/" + written)
        self._by_name.setdefault(link_key(path), []).append(path)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and _nfc(path) in self._exact

    def resolve(self, link: Link, source: str) -> str | None:
        """The vault-relative path ``link`` (written in note ``source``) points to, or None if broken.

        External URLs are never resolved. A link with no target (``[[#Heading]]``) is ``source``.
        """
        return self.resolve_target(link.kind, link.target, source)

    def resolve_target(self, kind: str, target: str, source: str) -> str | None:
        """``resolve`` of a link of ``kind`` to ``target`` (as written), without making a Link."""
        return self._resolve(kind, target, source)[0]

    def resolve_many(self, links: Iterable[tuple[str, str, str]]) -> list[str | None]:
        """``resolve_target`` of each ``(kind, target, source)``; an answer that does not depend on
        the linking note (most links of a vault) is worked out once per ``(kind, target)``."""
        known: dict[tuple[str, str], str | None] = {}
        out: list[str | None] = []
        for kind, target, source in links:
            key = (kind, target)
            if key in known:
                out.append(known[key])
                continue
            found, anywhere = self._resolve(kind, target, source)
            if anywhere:
                known[key] = found
            out.append(found)
        return out

    def _resolve(self, kind: str, target: str, source: str) -> tuple[str | None, bool]:
        """The answer, and whether it is the same whichever note the link is written in."""
        if kind == "url":
            return None, True
        target = target.strip()
        if not target:
            return source, False
        if kind == "markdown":
            return self._relative(target, source) or self._by_path_or_name(target, source)[0], False
        if target.startswith(("./", "../")):
            return self._relative(target, source), False
        found, anywhere = self._by_path_or_name(target, source)
        if found is None:
            found = self._best_alias.get(_fold(target))
        if found is None and kind == "embed":
            # ![](img.png) is an embed too, written relative to the note.
            return self._relative(target, source), False
        return found, anywhere

    def _lookup(self, path: str) -> str | None:
        """A file at exactly ``path`` (case-insensitively), trying ``path.md`` as well."""
        for candidate in (path, path + _NOTE_EXT):
            found = self._exact.get(_nfc(candidate))
            if found is not None:
                return found
            paths = self._folded.get(_fold(candidate))
            if paths:
                return min(paths)
        return None

    def _relative(self, target: str, source: str) -> str | None:
        if target.startswith("/"):
            return self._lookup(target.lstrip("/"))
        folder = source.rpartition("/")[0]
        path = posixpath.normpath(posixpath.join(folder, target))
        if path.startswith("../") or path == "..":
            return None  # outside the vault
        return self._lookup(path)

    def _by_path_or_name(self, target: str, source: str) -> tuple[str | None, bool]:
        """Obsidian's order: the exact vault path, then (among the files whose path ends with the
        target) the one in the linking note's folder, then an exact-case name, then the shortest path.
        Also whether the answer is the same from any folder (only a choice between files is not)."""
        target = target.lstrip("/")
        for candidate in (target, target + _NOTE_EXT):
            found = self._exact.get(_nfc(candidate))
            if found is not None:
                return found, True
        paths = self._by_name.get(link_key(target))
        if not paths:
            return None, True
        written = _nfc(target)
        tail = "/" + written
        folded_tail = tail.lower()
        ends = (folded_tail, folded_tail + _NOTE_EXT)
        matches = [p for p in paths if self._forms[p][0].endswith(ends)]
        if len(matches) < 2:
            return (matches[0] if matches else None), True
        here = "/" + _fold(posixpath.join(source.rpartition("/")[0], written))
        exact_ends = (tail, tail + _NOTE_EXT)

        def rank(path: str) -> tuple[bool, bool, int, str]:
            folded, nfc = self._forms[path]
            in_folder = folded in (here, here + _NOTE_EXT)
            return (not in_folder, not nfc.endswith(exact_ends), path.count("/"), path)

        return min(matches, key=rank), False
