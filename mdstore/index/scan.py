"""Walking the vault: which files are notes, which are attachments, which are ignored, and their
(mtime, size) — the cheap first pass that decides which files sync must read."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MdstoreError
from ..notes.fileio import is_temp_name
from ..notes.model import ParseIssue
from ..notes.paths import reserved_folder

ALWAYS_IGNORED_DIRS = frozenset({".git", ".mdstore", ".obsidian", ".trash", "node_modules", ".hg", ".svn"})
IGNORE_FILES = (".mdstoreignore", ".gitignore")


def is_editor_temp(name: str) -> bool:
    """Files editors create while saving; never notes (vim, emacs, JetBrains, atomic savers)."""
    return (
        name.endswith(_TEMP_SUFFIXES)
        or name == "4913"
        or name.startswith((".#", ".~lock."))
        or ".mdstore-tmp" in name
    )


_TEMP_SUFFIXES = (".swp", ".swx", ".swo", "~", ".tmp", "___jb_tmp___", "___jb_old___", ".crdownload")


# (mtime, size): a plain tuple, made once per file on every scan (a NamedTuple's constructor costs
# a Python call: ~5 % of a no-op sync), and compared as a whole with what the index holds.
FileStat = tuple[float, int]


@dataclass
class ScanResult:
    notes: dict[str, FileStat] = field(default_factory=dict)
    attachments: dict[str, FileStat] = field(default_factory=dict)
    issues: list[ParseIssue] = field(default_factory=list)
    # Folders that could not be listed: what the index holds under them must be kept, not deleted.
    unreadable: list[str] = field(default_factory=list)
    # mdstore write temp files seen on the way (a killed writer's are swept after the scan).
    temps: list[str] = field(default_factory=list)

    def protects(self, rel: str) -> bool:
        return any(rel == d or rel.startswith(d + "/") for d in self.unreadable)


class IgnoreRules:
    """The vault's ignore rules: fixed folders, editor temp files, ``ignore`` settings and the
    patterns of ``.mdstoreignore`` and ``.gitignore`` at the vault root (gitignore syntax)."""

    def __init__(self, root: Path, extra: tuple[str, ...] = ()) -> None:
        lines: list[str] = list(extra)
        for name in IGNORE_FILES:
            try:
                lines += (root / name).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
        self._spec = None
        if lines:
            import pathspec  # only with patterns to match: it costs a one-note write ~10 ms to load

            self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        # Whether a file is ignored depends on its name alone: there are no patterns, or only
        # folder patterns (``templates/``, ``.mdstore/``: what a new vault's ignore files hold),
        # which match folders only, and the walk never enters an ignored folder. Then the walk
        # matches patterns once per folder instead of once per file.
        self.plain_names = all(_folder_only(line) for line in lines)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        parents = rel.split("/")[:-1]
        if any(p.startswith(".") or p in ALWAYS_IGNORED_DIRS for p in parents):
            return True
        return self.ignored_entry(rel, rel.rsplit("/", 1)[-1], is_dir)

    def ignored_entry(self, rel: str, name: str, is_dir: bool) -> bool:
        """``ignored`` for an entry whose parent folders are known not to be ignored (a walk that
        never descends into an ignored folder): only the entry's own name and the patterns."""
        # Hidden files and folders are not part of the vault (as in Obsidian), nor is the config file.
        if name.startswith(".") or name in ALWAYS_IGNORED_DIRS or rel == "mdstore.toml":
            return True
        if not is_dir and is_editor_temp(name):
            return True
        if self._spec is None:
            return False
        return self._spec.match_file(rel + "/" if is_dir else rel)


def _folder_only(line: str) -> bool:
    """A gitignore line that can only match folders: blank, a comment, or a pattern ending in
    ``/`` (negated too: it re-includes a folder, never a file)."""
    text = line.rstrip()
    return not text or text.startswith("#") or text.endswith("/")


def scan(root: Path, rules: IgnoreRules, extensions: tuple[str, ...]) -> ScanResult:
    """List every note and attachment of the vault with its stat. A root that cannot be listed
    raises (so a sync aborts rather than emptying the index); any other problem is an issue."""
    result = ScanResult()
    try:
        top = _open_dir(str(root))
    except OSError as exc:
        raise MdstoreError(
            f"cannot read the vault folder {root}: {exc.strerror or exc}; index left untouched"
        ) from exc
    root_real = os.path.realpath(root)
    exts = tuple(e.lower() for e in extensions)
    # Folders are listed through their descriptors, so each stat is relative to its folder
    # (fstatat) instead of resolving the whole path again: ~15 % of a no-op sync of a big vault.
    stack: list[_Folder] = [("", str(root), top)]
    notes, attachments = result.notes, result.attachments
    plain = rules.plain_names
    while stack:
        prefix, path, fd = stack.pop()
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    name = entry.name
                    rel = prefix + name
                    try:
                        # The common case inline (a regular file, not a symlink, with an ordinary
                        # name): a no-op sync of a big vault is mostly this loop, and its Python
                        # costs as much as the stat calls themselves (docs/performance.md).
                        if plain and entry.is_file(follow_symlinks=False):
                            # Hidden, the config file or ``is_editor_temp`` (inlined: its prefixes
                            # all start with a dot).
                            if (
                                name[0] == "."
                                or name.endswith(_TEMP_SUFFIXES)
                                or ".mdstore-tmp" in name
                                or name == "4913"
                                or rel == "mdstore.toml"
                            ):
                                if is_temp_name(name):
                                    result.temps.append(rel)  # perhaps a killed writer's: sync decides
                                continue
                            st = entry.stat(follow_symlinks=False)
                            if name.lower().endswith(exts):
                                notes[rel] = (st.st_mtime, st.st_size)
                            else:
                                attachments[rel] = (st.st_mtime, st.st_size)
                            continue
                        _visit(entry, rel, os.path.join(path, name), root_real, rules, exts, result, stack)
                    except OSError as exc:
                        result.issues.append(
                            ParseIssue(rel, f"cannot read: {exc.strerror or exc}", "unreadable")
                        )
        finally:
            os.close(fd)
    return result


_Folder = tuple[str, str, int]  # (vault-relative prefix, path, open descriptor)


def _open_dir(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _visit(
    entry: os.DirEntry[str],
    rel: str,
    path: str,
    root_real: str,
    rules: IgnoreRules,
    exts: tuple[str, ...],
    result: ScanResult,
    stack: list[_Folder],
) -> None:
    if entry.is_symlink():
        try:
            target = os.path.realpath(path, strict=True)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                result.issues.append(ParseIssue(rel, "symlink loop; skipped", "symlink"))
            else:
                result.issues.append(ParseIssue(rel, "broken symlink; skipped", "symlink"))
            return
        if target != root_real and not target.startswith(root_real + os.sep):
            result.issues.append(ParseIssue(rel, "symlink points outside the vault; skipped", "symlink"))
            return
        inside = os.path.relpath(target, root_real).split(os.sep)
        folder = reserved_folder(inside)
        if target != root_real and folder is not None:
            result.issues.append(ParseIssue(rel, f"symlink points into {folder}/; skipped", "symlink"))
            return
        if os.path.isdir(target):
            return  # a folder linked inside the vault would index the same notes twice
    if entry.is_dir():
        if rules.ignored_entry(rel, entry.name, is_dir=True):
            return
        try:
            fd = _open_dir(path)
        except OSError as exc:
            result.unreadable.append(rel)
            result.issues.append(
                ParseIssue(rel + "/", f"cannot list folder: {exc.strerror or exc}", "unreadable")
            )
            return
        stack.append((rel + "/", path, fd))
        return
    if not entry.is_file() or rules.ignored_entry(rel, entry.name, is_dir=False):
        if is_temp_name(entry.name) and not entry.is_symlink():
            result.temps.append(rel)
        return
    st = entry.stat()
    stat = (st.st_mtime, st.st_size)
    if entry.name.lower().endswith(exts):
        result.notes[rel] = stat
    else:
        result.attachments[rel] = stat


def confirm_gone(root: Path, rel: str) -> bool:
    """True only when the file system says the file does not exist (not for any other error)."""
    try:
        os.lstat(root / rel)
    except FileNotFoundError:
        return True
    except NotADirectoryError:
        return True  # a parent became a file: the note cannot exist
    except OSError:
        return False
    return False
