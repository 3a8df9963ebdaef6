"""``GitHistory``: commits, per-note history, old versions, diffs and snapshots of one vault."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from ..config import GitSettings
from ..errors import HistoryError, NoteNotFound
from .gitrepo import GitRepo, fsencode_paths
from .logparse import log_format, parse_log, parse_ls_tree, parse_name_status
from .records import Change, Commit, CommitInfo, Revision, Snapshot
from .textdiff import unified_diff

_CACHE_SIZE = 256  # paths whose history is kept; each entry is a few KB
_ARGS_PER_CALL = 500  # paths per git call where git has no --pathspec-from-file (log, diff)
_IGNORED = "ignored by one of your .gitignore files"
_LABEL_RULES = "no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', no leading '-' or trailing '.lock'"


class GitHistory:
    """The git side of a vault: the vault folder may be a repository or any folder inside one.

    Paths in and out are vault-relative POSIX paths. Commits use ``settings.author_name`` and
    ``author_email`` when set (as author and committer), else git's own configuration; when git
    has no identity either, committing raises ``ConfigError`` saying how to set one.
    Safe to share between threads. Call ``close()`` (or use ``with``) to stop git helpers.
    """

    def __init__(self, root: Path, settings: GitSettings | None = None) -> None:
        self.root = Path(root)
        self.settings = settings or GitSettings()
        self._git = GitRepo(self.root)
        self._history_cache: dict[str, tuple[str, bool, list[Revision]]] = {}

    @property
    def repo_root(self) -> Path:
        """The repository's top folder (the vault folder itself, or a folder above it)."""
        return self._git.top

    def close(self) -> None:
        self._git.close()

    def __enter__(self) -> GitHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- committing --------------------------------------------------------------------------

    def commit(self, message: str | None = None, paths: Sequence[str] | None = None) -> Commit | None:
        """Commit ``paths`` (vault-relative files or folders; deleted ones too) or, when ``None``,
        every change inside the vault folder. ``.mdstore/`` is never staged, nor are git-ignored
        files; changes staged by someone else outside ``paths`` stay staged and uncommitted.
        Returns ``None`` when there is nothing to commit. A missing message lists the changes.
        """
        with self._git.lock:
            if paths is None:
                spec = self._git.vault_pathspec()
                self._git.run("add", "-A", "--", *spec, tolerate=_IGNORED)
                staged = parse_name_status(
                    self._git.run("diff", "--cached", "--name-status", "-z", "-M", "--", *spec)
                )
            else:
                repo_paths = list(dict.fromkeys(self._git.to_repo(p) for p in paths))
                if not repo_paths:
                    return None
                self._stage(repo_paths)
                staged = []
                for chunk in _chunks(repo_paths):
                    out = self._git.run(
                        "diff", "--cached", "--name-status", "-z", "-M", "--", *chunk, literal=True
                    )
                    staged.extend(parse_name_status(out))
            staged = [entry for entry in staged if self._git.in_vault(entry[1])]
            if not staged:
                return None
            changes = tuple(
                Change(kind, self._git.to_vault(path), self._git.to_vault(old) if old else None)
                for kind, path, old in staged
            )
            text = message.strip() if message and message.strip() else default_message(changes)
            touched = sorted({p for _kind, path, old in staged for p in (path, old) if p})
            self._git.run(
                "commit", "--quiet", "--cleanup=whitespace", "-m", text,
                "--pathspec-from-file=-", "--pathspec-file-nul",
                literal=True, env=self._identity(), stdin=fsencode_paths(touched),
            )  # fmt: skip
            fields = self._git.run("log", "-1", "-z", log_format("%H", "%h", "%an", "%ae", "%aI", "%B"))
            entry = next(parse_log(fields, 6, name_status=False))
            rev, short, author, email, date, body = entry.fields
            return Commit(rev, short, author, email, datetime.fromisoformat(date), body.rstrip("\n"), changes)

    def _stage(self, repo_paths: list[str]) -> None:
        exists = {p: os.path.lexists(self._git.top / p) for p in repo_paths}
        present = [p for p, there in exists.items() if there]
        gone = [p for p, there in exists.items() if not there]
        if present:
            self._git.run(
                "add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul",
                literal=True, stdin=fsencode_paths(present), tolerate=_IGNORED,
            )  # fmt: skip
        if gone:  # `git add` refuses a path that matches nothing; rm stages deletions quietly
            self._git.run(
                "rm", "--cached", "-r", "--quiet", "--ignore-unmatch",
                "--pathspec-from-file=-", "--pathspec-file-nul",
                literal=True, stdin=fsencode_paths(gone),
            )  # fmt: skip

    def _identity(self) -> dict[str, str]:
        env = {}
        if self.settings.author_name:
            env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = self.settings.author_name
        if self.settings.author_email:
            env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = self.settings.author_email
        return env

    # -- reading the past --------------------------------------------------------------------

    def history(self, path: str, limit: int | None = None) -> list[Revision]:
        """Commits that changed the note, newest first, following renames (``git log --follow``).

        Cached per path until HEAD moves. ``NoteNotFound`` if the note neither exists nor has history.
        """
        repo_path = self._git.to_repo(path)
        if limit is not None and limit <= 0:
            return []
        with self._git.lock:
            head = self._git.head()
            revisions: list[Revision] = []
            if head is not None:
                cached = self._history_cache.get(repo_path)
                if cached and cached[0] == head and (cached[1] or (limit and len(cached[2]) >= limit)):
                    revisions = cached[2]
                else:
                    revisions = self._log_follow(repo_path, limit)
                    complete = limit is None or len(revisions) < limit
                    if len(self._history_cache) >= _CACHE_SIZE:
                        del self._history_cache[next(iter(self._history_cache))]
                    self._history_cache[repo_path] = (head, complete, revisions)
        if not revisions and not os.path.lexists(self._git.top / repo_path):
            raise NoteNotFound(f"{path}: no such note, and no history")
        return revisions[:limit] if limit else list(revisions)

    def _log_follow(self, repo_path: str, limit: int | None) -> list[Revision]:
        args = ["log", "--follow", "-M", "--name-status", "-z"]
        args.append(log_format("%H", "%h", "%an", "%ae", "%aI", "%B"))
        if limit:
            args.append(f"--max-count={limit}")
        out = self._git.run(*args, "--", repo_path, literal=True)
        revisions = []
        for entry in parse_log(out, 6, name_status=True):
            if not entry.files:  # a merge that git shows without a diff
                continue
            kind, path, old = entry.files[0]
            rev, short, author, email, date, message = entry.fields
            revisions.append(
                Revision(
                    rev, short, author, email, datetime.fromisoformat(date), message.rstrip("\n"),
                    self._git.to_vault(path), kind, self._git.to_vault(old) if old else None,
                )
            )  # fmt: skip
        return revisions

    def show(self, path: str, rev: str) -> bytes:
        """The note's bytes at ``rev``, read from the path it had then if it was renamed since."""
        found = self._version(path, rev)
        if found is None:
            raise NoteNotFound(f"{path} did not exist at revision {rev}")
        return found[1]

    def _version(self, path: str, rev: str) -> tuple[str, bytes] | None:
        """``(vault path at rev, bytes)`` of the note at ``rev``, or ``None`` if it did not exist."""
        repo_path = self._git.to_repo(path)
        commit = self._git.resolve(rev)
        try:
            revisions = self.history(path)
        except NoteNotFound:
            revisions = []
        by_rev = {r.rev: r for r in revisions}
        entry = by_rev.get(commit)
        if entry is None and revisions:
            # The newest commit at or before `commit` that touched any name the note has had.
            names = sorted({self._git.from_vault(p) for r in revisions for p in (r.path, r.old_path) if p})
            out = self._git.run("rev-list", commit, "--", *names, literal=True)
            entry = next((by_rev[h] for h in out.decode("ascii").split() if h in by_rev), None)
        if entry is not None:
            if entry.kind == "D":
                return None
            repo_path = self._git.from_vault(entry.path)
        data = self._git.blob(commit, repo_path)
        return None if data is None else (self._git.to_vault(repo_path), data)

    def diff(self, path: str, rev_a: str, rev_b: str | None = None) -> str:
        """Unified diff of the note from ``rev_a`` to ``rev_b`` (``None``: the file on disk now).

        A side where the note does not exist counts as empty (``/dev/null``); ``""`` if equal.
        """
        old = self._version(path, rev_a)
        if rev_b is None:
            file = self._git.top / self._git.to_repo(path)
            new = (path, file.read_bytes()) if file.is_file() else None
        else:
            new = self._version(path, rev_b)
        if old is None and new is None:
            raise NoteNotFound(f"{path} exists neither at {rev_a} nor at {rev_b or 'the working tree'}")
        return unified_diff(old, new, rev_a, rev_b or "working tree")

    def tree_at(self, rev: str, extensions: Sequence[str] | None = None) -> Iterator[tuple[str, bytes]]:
        """Every file of the vault at ``rev`` as ``(vault path, bytes)``, sorted by path.

        ``extensions`` (e.g. ``(".md",)``) keeps only notes; ``None`` yields attachments too. One
        ``git ls-tree`` and one ``git cat-file --batch`` process serve the whole tree.
        """
        commit = self._git.resolve(rev)  # here, so a bad revision fails at the call, not at next()
        args = ["ls-tree", "-r", "-z", commit]
        if self._git.prefix:
            args += ["--", self._git.prefix + "/"]
        entries = list(parse_ls_tree(self._git.run(*args, literal=True)))
        suffixes = tuple(e.lower() for e in extensions) if extensions is not None else None
        return self._blobs(entries, suffixes)

    def _blobs(
        self, entries: list[tuple[str, str, str]], suffixes: tuple[str, ...] | None
    ) -> Iterator[tuple[str, bytes]]:
        for kind, obj, repo_path in entries:
            if kind != "blob" or not self._git.in_vault(repo_path):
                continue
            if suffixes is not None and not repo_path.lower().endswith(suffixes):
                continue
            yield self._git.to_vault(repo_path), self._git.object_data(obj)

    # -- who changed what --------------------------------------------------------------------

    def last_commits(self) -> dict[str, CommitInfo]:
        """For every committed file of the vault, the last commit that changed it: one ``git log``."""
        if self._git.head() is None:
            return {}
        return self._first_seen(
            self._git.run("log", "-M", "--name-status", "-z", _INFO_FORMAT, "--", *self._git.vault_pathspec())
        )

    def last_commits_for(self, paths: Sequence[str]) -> dict[str, CommitInfo]:
        """``last_commits`` restricted to ``paths`` (for an incremental index update).

        Paths deleted in HEAD or never committed are absent from the result.
        """
        repo_paths = list(dict.fromkeys(self._git.to_repo(p) for p in paths))
        result: dict[str, CommitInfo] = {}
        if not repo_paths or self._git.head() is None:
            return result
        for chunk in _chunks(repo_paths):
            out = self._git.run("log", "-M", "--name-status", "-z", _INFO_FORMAT, "--", *chunk, literal=True)
            wanted = {self._git.to_vault(p) for p in chunk}
            result.update((k, v) for k, v in self._first_seen(out).items() if k in wanted)
        return result

    def resolve(self, rev: str) -> str:
        """The full hash of the commit ``rev`` names (``RevisionNotFound`` if none)."""
        return self._git.resolve(rev)

    def head(self) -> str | None:
        """The commit HEAD points to, or ``None`` before the first commit."""
        return self._git.head()

    def changed_between(self, old: str, new: str) -> list[str] | None:
        """Vault paths that differ between commits ``old`` and ``new`` (both names of a rename);
        ``None`` when ``old`` no longer exists (history rewritten: the caller starts over)."""
        status, _ = self._git.probe("cat-file", "-e", f"{old}^{{commit}}")
        if status != 0:
            return None
        out = self._git.run("diff", "--name-status", "-z", "-M", old, new, "--", *self._git.vault_pathspec())
        paths: set[str] = set()
        for _kind, path, previous in parse_name_status(out):
            for p in (path, previous):
                if p and self._git.in_vault(p):
                    paths.add(self._git.to_vault(p))
        return sorted(paths)

    def _first_seen(self, out: bytes) -> dict[str, CommitInfo]:
        result: dict[str, CommitInfo] = {}
        seen: set[str] = set()
        for entry in parse_log(out, 4, name_status=True):
            info: CommitInfo | None = None
            for kind, path, old in entry.files:
                if old is not None and kind == "R":
                    seen.add(old)  # newest event for the old name is its disappearance
                if path in seen:
                    continue
                seen.add(path)
                if kind == "D" or not self._git.in_vault(path):
                    continue
                if info is None:
                    rev, author, email, date = entry.fields
                    info = CommitInfo(rev, author, email, datetime.fromisoformat(date))
                result[self._git.to_vault(path)] = info
        return result

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self, label: str, message: str | None = None) -> Snapshot:
        """Commit pending vault changes, then tag HEAD ``label`` (an annotated tag).

        ``HistoryError`` if the label is not a valid tag name or already exists.
        """
        # "@" and a leading "-" pass check-ref-format but would read as HEAD or an option later.
        bad = label in ("", "@") or label.startswith("-")
        if bad or self._git.probe("check-ref-format", f"refs/tags/{label}")[0] != 0:
            raise HistoryError(f"invalid snapshot label {label!r}: use a git tag name ({_LABEL_RULES})")
        with self._git.lock:
            status, out = self._git.probe("rev-parse", "--verify", "--quiet", f"refs/tags/{label}")
            if status == 0:
                raise HistoryError(f"snapshot {label!r} already exists; choose another label")
            self.commit(f"mdstore: snapshot {label}")
            if self._git.head() is None:
                raise HistoryError(f"nothing to snapshot as {label!r}: the vault has no commits yet")
            text = message.strip() if message and message.strip() else f"mdstore snapshot {label}"
            self._git.run(
                "tag", "-a", "--cleanup=whitespace", "-m", text, label, "HEAD", env=self._identity()
            )
            return self.snapshots(label)[0]

    def snapshots(self, label: str | None = None) -> list[Snapshot]:
        """Every tag of the repository (or the one named ``label``), oldest first."""
        fields = ("refname:strip=2", "objecttype", "objectname", "*objectname", "creatordate:iso-strict",
                  "taggername", "contents:subject", "contents:body")  # fmt: skip
        fmt = "%1f".join(f"%({f})" for f in fields) + "%1e"
        ref = f"refs/tags/{label}" if label is not None else "refs/tags/"
        out = self._git.run("for-each-ref", "--sort=creatordate", f"--format={fmt}", ref)
        result = []
        for record in out.decode("utf-8", "replace").split("\x1e"):
            record = record.lstrip("\n")
            if not record:
                continue
            name, kind, obj, peeled, date, tagger, subject, body = record.split("\x1f", 7)
            if label is not None and name != label:
                continue
            annotated = kind == "tag"
            text = (subject + ("\n\n" + body.strip() if body.strip() else "")) if annotated else ""
            result.append(
                Snapshot(
                    name,
                    peeled if annotated else obj,
                    datetime.fromisoformat(date),
                    text,
                    tagger if annotated else "",
                )
            )
        return result


_INFO_FORMAT = log_format("%H", "%an", "%ae", "%aI")


def default_message(changes: Sequence[Change]) -> str:
    """``mdstore: update 3 notes (a.md, b.md, c.md)``, then one line per change."""
    kinds = {c.kind for c in changes}
    verb = (
        {"A": "add", "D": "delete", "R": "rename"}.get(kinds.pop(), "update") if len(kinds) == 1 else "update"
    )
    noun = "note" if all(c.path.lower().endswith(".md") for c in changes) else "file"
    count = len(changes)
    names = ", ".join(c.path for c in changes[:3]) + (", ..." if count > 3 else "")
    subject = f"mdstore: {verb} {count} {noun}{'' if count == 1 else 's'} ({names})"
    body = [f"{c.kind} {c.old_path} -> {c.path}" if c.old_path else f"{c.kind} {c.path}" for c in changes]
    return subject + "\n\n" + "\n".join(body)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _ARGS_PER_CALL):
        yield items[start : start + _ARGS_PER_CALL]
