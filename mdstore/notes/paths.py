"""Validation of the vault-relative paths the API is given: ``vault_path`` for every path a caller
names (reads, history, sync), ``validate_note_path`` / ``validate_folder_path`` for writes.

The rule for every path: it must stay inside the vault after resolving every symlink on the way (a
symlinked file or folder leading out is refused, as indexing skips it), and it must not lie in
``.mdstore/`` or any ``.git/`` (mdstore's own state and git's are not notes). More for writes:

A write path is checked before anything is written, so a bad one raises ``InvalidPath`` (naming the
argument and the reason) and touches nothing. Security checks always apply: the path must be
relative, without ``..``, NUL or control characters, outside the state folders (``.git/``,
``.mdstore/``, ``.obsidian/``, ``.trash/``), not a temp-file name, and inside the vault after
resolving every symlink on the way.

Portability checks apply to names that do not exist yet (names mdstore would create), so a note
another tool already wrote stays addressable: no character Windows or Obsidian refuses
(``\\ / : * ? " < > |``), no Windows device name (``CON``, ``nul.md``, ``COM1.txt``...), no trailing dot
or space, no component over 255 bytes, and no case-only collision with an existing entry of the same
folder (``Note.md`` when ``note.md`` exists), checked by listing the folder so it is caught on
case-sensitive Linux too. ``# ^ [ ]`` are allowed: Obsidian accepts them in file names and only warns
that wikilinks to such notes are awkward.

Checking many paths (a batch, a pull of 1,000 notes) shares one ``PathCache``: each folder is listed
once while it does not change, and resolved once, instead of once per path and component.
A batch also tells the cache the paths it will create (``PathCache.plan``), so two new names of one
batch that differ only in case are refused like a new name that differs only in case from a file.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..errors import InvalidPath, NoteNotFound
from .fileio import RACY_SECONDS, is_temp_name

# Obsidian refuses exactly these in a file name (its rename dialog lists them); they are also the
# characters Windows reserves, plus the backslash, which Windows reads as a separator.
RESERVED_CHARS = frozenset('\\:*?"<>|')
# The top-level folders only mdstore or other tools own; ``.git`` is refused at any depth (submodules).
PROTECTED_FOLDERS = frozenset({".git", ".mdstore", ".obsidian", ".trash"})
# Reads may look into .obsidian/ and .trash/ (they hold the user's files), never into these.
PRIVATE_FOLDERS = frozenset({".git", ".mdstore"})
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{base}{n}" for base in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
# A superset of what _unportable_name refuses but the length, as one search of a whole path.
_MAYBE_UNPORTABLE = re.compile(
    r'[\\:*?"<>|]|[. ](?:/|$)|(?:^|/)(?:CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM.|LPT.) *(?:\.|/|$)', re.I
)
_DRIVE = re.compile(r"^[A-Za-z]:(?:$|[\\/])")
_NAME_MAX = 255


class PathCache:
    """What the checks of several paths share (a batch, a pull writing 1,000 notes): each folder's
    listing, reused while the folder's stat is unchanged (one ``stat`` instead of a ``listdir`` per
    path and component), and each folder's resolved path, reused while ``lstat`` of the folder
    still finds the same entry (a folder replaced by a symlink is resolved again), and the names
    of the paths a batch will create (``plan``)."""

    def __init__(self) -> None:
        self._listings: dict[str, tuple[tuple[int, int, int], frozenset[str]]] = {}
        self._real: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._planned: dict[str, dict[str, str]] = {}  # folder -> {folded name: name}

    def plan(self, root: Path, rel: str) -> None:
        """Count ``rel`` (a checked vault path that a batch will create) and its folders as
        names of their parent folders in later case checks."""
        folder = os.fspath(root)
        for part in rel.split("/"):
            self._planned.setdefault(folder, {}).setdefault(_fold(part), part)
            folder = os.path.join(folder, part)

    def planned(self, folder: str) -> dict[str, str]:
        """The names ``plan`` put in ``folder``, by their folded form."""
        return self._planned.get(folder, {})

    def listing(self, folder: str) -> frozenset[str] | None:
        """The names in ``folder``: none when it does not exist, None when it is not a folder
        (a file, a dangling symlink)."""
        try:
            st = os.stat(folder)
        except OSError:
            return None if os.path.lexists(folder) else frozenset()
        if not stat.S_ISDIR(st.st_mode):
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        known = self._listings.get(folder)
        if known is not None and known[0] == key:
            return known[1]
        names = _entries(folder)
        if time.time() - st.st_mtime > RACY_SECONDS:
            self._listings[folder] = (key, names)
        return names

    def resolved(self, path: str) -> str:
        """``os.path.realpath(path)``, its folder resolved once while it stays the same entry."""
        parent, sep, name = path.rpartition(os.sep)
        if not (parent and sep and name) or os.path.islink(path):
            return os.path.realpath(path)
        try:
            st = os.lstat(parent)
        except OSError:
            return os.path.realpath(path)
        key = (st.st_dev, st.st_ino, st.st_mode)
        known = self._real.get(parent)
        if known is None or known[0] != key:
            known = self._real[parent] = (key, os.path.realpath(parent))
        return os.path.join(known[1], name)


def validate_note_path(
    root: Path,
    rel: str,
    *,
    extensions: Sequence[str] = (".md",),
    add_extension: bool = True,
    must_exist: bool = False,
    argument: str = "path",
    cache: PathCache | None = None,
    renaming: str | None = None,
) -> str:
    """Check ``rel`` as the path of a note in the vault at ``root``; return it normalised.

    The result is vault-relative with forward slashes, without ``.`` or empty components, and ends
    in a note extension (``extensions[0]`` is appended when the name has none and
    ``add_extension`` is true; the match is case-insensitive). ``must_exist`` raises
    ``NoteNotFound`` for a missing note. ``argument`` names the parameter in error messages.
    ``cache`` is shared by the checks of many paths (see ``PathCache``). ``renaming``: the vault
    path of the note being moved to ``rel``, whose own entry is no case clash (``Home.md`` to
    ``home.md`` renames the note, it does not make a second one).
    """
    parts = _split(rel, argument)
    if rel.endswith("/"):  # `create("x/")` must not quietly become x.md
        raise InvalidPath(f"{argument} {rel!r}: ends with '/', so it names a folder, not a note")
    name = parts[-1]
    if add_extension and not any(name.lower().endswith(ext.lower()) for ext in extensions):
        parts[-1] = name + extensions[0]
    normalised = "/".join(parts)
    target = _check_parts(root, parts, argument, rel, cache or PathCache(), renaming)
    if target.is_dir():
        raise InvalidPath(f"{argument} {rel!r}: is a folder, not a note")
    if must_exist and not os.path.lexists(target):
        raise no_such_note(root, rel, extensions, f"{argument} {rel!r}: no such note")
    return normalised


def no_such_note(root: Path, ref: str, extensions: Sequence[str], message: str) -> NoteNotFound:
    """``NoteNotFound(message)``, or, when ``ref`` is a file that is not a note (an attachment,
    ``TODO``), an error that says so rather than naming ``ref`` + ``.md``."""
    try:
        is_file = not ref.endswith("/") and (root / ref).is_file()
    except (OSError, ValueError):
        is_file = False
    if is_file and not ref.lower().endswith(tuple(ext.lower() for ext in extensions)):
        kinds = ", ".join(extensions)
        return NoteNotFound(f"{ref!r} is a file but not a note (notes are the {kinds} files of the vault)")
    return NoteNotFound(message)


def validate_folder_path(
    root: Path,
    rel: str,
    *,
    must_exist: bool = False,
    argument: str = "folder",
    cache: PathCache | None = None,
) -> str:
    """Check ``rel`` as a folder of the vault (e.g. for moving a folder); return it normalised.

    The vault root itself is refused: it cannot be moved or deleted through the API.
    """
    parts = _split(rel, argument)
    target = _check_parts(root, parts, argument, rel, cache or PathCache())
    if os.path.lexists(target) and not target.is_dir():
        raise InvalidPath(f"{argument} {rel!r}: is a file, not a folder")
    if must_exist and not target.is_dir():
        raise NoteNotFound(f"{argument} {rel!r}: no such folder")
    return "/".join(parts)


def vault_path(
    root: Path, path: str | os.PathLike[str], *, argument: str = "path", cache: PathCache | None = None
) -> str:
    """The vault-relative POSIX path a caller names (relative, or absolute inside the vault), or
    ``InvalidPath``: outside the vault, through a symlink that leaves it, or into ``.mdstore/`` or
    ``.git/``. Nothing needs to exist (a deleted note's path is fine). ``cache``: see ``PathCache``."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    if not isinstance(text, str):
        raise InvalidPath(f"{argument} must be a string, not {type(path).__name__}")
    if not text or "\x00" in text:
        raise InvalidPath(f"invalid {argument} {text!r}")
    if os.sep == "/" and not text.startswith("/"):  # the common case, without pathlib
        parts = [part for part in text.split("/") if part not in ("", ".")]
    else:
        parts = _parts_of(root, text, argument)
    if any(part == ".." for part in parts) or not parts:
        raise InvalidPath(f"{argument} {text!r} must stay inside the vault (no '..')")
    _check_protected(parts, argument, text, PRIVATE_FOLDERS, "is not part of the notes")
    target = os.path.join(root, *parts)
    why = "is not part of the notes"
    _check_inside(root, target, argument, text, cache or PathCache(), PRIVATE_FOLDERS, why)
    return "/".join(parts)


def _parts_of(root: Path, text: str, argument: str) -> list[str]:
    """The components of ``text`` (relative, or absolute inside ``root``) after pathlib's reading."""
    p = Path(text)
    if p.is_absolute():
        # As written, or through the real path of its folder (the vault may be reached through a
        # symlinked parent, such as macOS's /tmp); what it then names is checked below.
        for candidate in (Path(os.path.normpath(p)), Path(os.path.realpath(p.parent)) / p.name):
            try:
                p = candidate.relative_to(root)
                break
            except ValueError:
                continue
        else:
            raise InvalidPath(f"{argument} {text!r} is outside the vault {root}")
    return [part for part in p.as_posix().split("/") if part not in ("", ".")]


def _split(rel: str, argument: str) -> list[str]:
    if not isinstance(rel, str):
        raise InvalidPath(f"{argument} must be a string, not {type(rel).__name__}")
    if not rel.strip():
        raise InvalidPath(f"{argument} is empty")
    bad = next((ch for ch in rel if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F), None)
    if bad is not None:
        what = "a NUL byte" if bad == "\0" else f"the control character {bad!r}"
        raise InvalidPath(f"{argument} {rel!r}: contains {what}")
    if rel.startswith("\\\\") or _DRIVE.match(rel):
        raise InvalidPath(
            f"{argument} {rel!r}: is a Windows drive or network path; give a vault-relative path"
        )
    if rel.startswith(("/", "\\")):
        raise InvalidPath(f"{argument} {rel!r}: is absolute; give a path relative to the vault")
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if not parts:
        raise InvalidPath(f"{argument} {rel!r}: names the vault root")
    if ".." in parts or any(part == ".." for part in rel.split("\\")):
        raise InvalidPath(f"{argument} {rel!r}: contains '..'; paths must stay inside the vault")
    return parts


def case_rename(old: str, new: str) -> bool:
    """Whether moving vault path ``old`` to ``new`` only changes the case (or the Unicode
    normalisation) of its name: one file on macOS and Windows, so it is renamed in two steps."""
    return old != new and _fold(old) == _fold(new)


def renamed_in_place(root: Path, old: str, new: str) -> bool:
    """A case-only rename whose destination already is the source itself: the file system (macOS,
    Windows) ignores case, so ``new`` is found although nothing else is there."""
    if not case_rename(old, new):
        return False
    try:
        return os.path.samestat(os.lstat(root / old), os.lstat(root / new))
    except OSError:
        return False


def _check_parts(
    root: Path, parts: list[str], argument: str, rel: str, cache: PathCache, renaming: str | None = None
) -> Path:
    _check_protected(parts, argument, rel)
    if is_temp_name(parts[-1]):
        raise InvalidPath(f"{argument} {rel!r}: is an mdstore temp-file name")
    folder = os.fspath(root)
    for index, part in enumerate(parts):
        entries = cache.listing(folder)
        if entries is None:
            if index:
                raise InvalidPath(f"{argument} {rel!r}: {'/'.join(parts[:index])!r} is a file, not a folder")
            entries = frozenset()
        if part not in entries:
            _check_portable(part, argument, rel)
            if renaming is not None and index == len(parts) - 1 and case_rename(renaming, "/".join(parts)):
                entries = entries - {renaming.rpartition("/")[2]}  # the note's own name is no clash
            _check_case_collision(part, folder, entries, argument, rel, cache.planned(folder))
        folder = os.path.join(folder, part)
    _check_inside(root, folder, argument, rel, cache)
    return Path(folder)


def _check_inside(
    root: Path,
    target: str,
    argument: str,
    rel: str,
    cache: PathCache,
    folders: frozenset[str] = PROTECTED_FOLDERS,
    why: str = "is reserved and is never written through the API",
) -> None:
    """``target`` (under ``root``) must resolve inside the vault, and not into ``folders``."""
    root_real = cache.resolved(os.fspath(root))
    real = cache.resolved(target)
    if real == root_real:
        return
    prefix = root_real if root_real.endswith(os.sep) else root_real + os.sep
    if not real.startswith(prefix):
        raise InvalidPath(f"{argument} {rel!r}: resolves outside the vault (through a symlink)")
    # A symlink inside the vault may still lead into .git/ or .mdstore/.
    _check_protected(real[len(prefix) :].split(os.sep), argument, rel, folders, why)


def _check_protected(
    parts: list[str],
    argument: str,
    rel: str,
    folders: frozenset[str] = PROTECTED_FOLDERS,
    why: str = "is reserved and is never written through the API",
) -> None:
    folder = reserved_folder(parts, folders)
    if folder is not None:
        raise InvalidPath(f"{argument} {rel!r}: {folder}/ {why}")


def reserved_folder(parts: Sequence[str], folders: frozenset[str] = PRIVATE_FOLDERS) -> str | None:
    """The first of ``parts`` (a vault-relative path) that is one of ``folders`` at the top or a
    ``.git`` at any depth, else None."""
    return next(
        (
            part
            for i, part in enumerate(parts)
            if part.casefold() == ".git" or (i == 0 and part.casefold() in folders)
        ),
        None,
    )


def _check_portable(part: str, argument: str, rel: str) -> None:
    why = _unportable_name(part)
    if why is not None:
        raise InvalidPath(f"{argument} {rel!r}: {why}")


def unportable(rel: str) -> str | None:
    """Why the vault path ``rel`` could not be made on Windows (or by Obsidian), the rule mdstore
    applies to the names it creates; None for a portable path. For what a clone shares with a team,
    whose other clones may be on Windows."""
    if not _MAYBE_UNPORTABLE.search(rel) and (
        len(rel) * 4 <= _NAME_MAX
        or all(len(p.encode("utf-8", "surrogateescape")) <= _NAME_MAX for p in rel.split("/"))
    ):
        return None  # the common case, in one search (a first push looks at every path)
    for part in rel.split("/"):
        why = _unportable_name(part)
        if why is not None:
            return why
    return None


def _unportable_name(part: str) -> str | None:
    bad = sorted(set(part) & RESERVED_CHARS)
    if bad:
        return f"{part!r} contains {' '.join(bad)}, which Windows and Obsidian refuse"
    if part.endswith((".", " ")):
        return f"{part!r} ends with a dot or space, which Windows drops"
    if part.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return f"{part!r} is a reserved device name on Windows"
    if len(part.encode("utf-8", "surrogateescape")) > _NAME_MAX:
        return f"{part[:20]!r}... is longer than {_NAME_MAX} bytes"
    return None


def _check_case_collision(
    part: str, folder: str, entries: frozenset[str], argument: str, rel: str, planned: dict[str, str]
) -> None:
    """``part``, a new name in ``folder``, must not differ only in case from an entry of it, nor
    from a name the same batch creates there (``planned``)."""
    key = _fold(part)
    other = planned.get(key)
    if other is not None and other != part:
        clash = f"{other!r}, which this batch also writes: the same file"
    else:
        if key not in _folded(folder, entries):
            return
        entry = next((e for e in entries if _fold(e) == key), None)
        if entry is None:
            return
        clash = f"the existing {entry!r}, which is the same file"
    raise InvalidPath(f"{argument} {rel!r}: {part!r} differs only in case from {clash} on macOS and Windows")


class _FoldedNames:
    """The folded names of the last listings of a few folders, kept across calls: a write into a
    folder of 10,000 notes then folds only the names that changed since the folder's last
    listing (two set differences), not all 10,000 again."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._known: dict[str, tuple[frozenset[str], Counter[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, folder: str, entries: frozenset[str]) -> Counter[str]:
        key = folder
        with self._lock:
            before, counts = self._known.pop(key, (frozenset(), Counter()))
            if before != entries:  # (counts is this cache's own: it was popped, and is changed in place)
                for name in before - entries:
                    folded = _fold(name)
                    counts[folded] -= 1
                    if counts[folded] <= 0:
                        del counts[folded]
                for name in entries - before:
                    counts[_fold(name)] += 1
            if len(self._known) >= self._size:
                self._known.pop(next(iter(self._known)))
            self._known[key] = (entries, counts)
            return counts


_folded = _FoldedNames()


def _entries(folder: str) -> frozenset[str]:
    try:
        return frozenset(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return frozenset()


def _fold(name: str) -> str:
    # macOS stores names decomposed (NFD): compare the normalised, case-folded form.
    return unicodedata.normalize("NFC", name).casefold()
