"""Vault methods over git history (mixed into ``Vault``): commit, history, show_revision, diff,
restore, snapshot, snapshots, at; the autocommit setting; the ``commits`` table listener.

``GitHistory`` (and GitPython) load on the first history call. A vault that is not in a git
repository answers every method here with ``NotAGitRepo``; its syncs never touch git.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import NotAGitRepo, NoteNotFound

if TYPE_CHECKING:
    from ..config import Config
    from ..core import Core
    from ..notes.model import Note, SyncReport
    from .autocommit import AutoCommitter
    from .githistory import GitHistory
    from .records import Commit, Revision, Snapshot
    from .revisions import RevisionView


class HistoryMethods:
    _git_history: GitHistory | None = None  # opened on first use
    _autocommit: AutoCommitter | None = None

    if TYPE_CHECKING:
        config: Config
        root: Path
        _core: Core

        def sync(self, paths: Any = None, *, rebuild: bool = False, progress: Any = None) -> SyncReport: ...
        def _rel(self, path: Any) -> str: ...
        def _note_path(self, ref: str) -> str: ...
        def _client(self) -> Any: ...
        def _query(self, sql: str, params: Any = None) -> Any: ...
        def batch(self) -> Any: ...
        def _written(self, rel: str) -> Note: ...

    # -- committing --------------------------------------------------------------------------

    def commit(self, message: str | None = None, paths: Sequence[str] | None = None) -> Commit | None:
        """Commit ``paths`` (notes or folders) or every change in the vault; ``None`` if nothing
        changed. Without ``message``, the message lists the changes."""
        rels = None if paths is None else [self._rel(p) for p in paths]
        done = self._git().commit(message, rels)
        if done is not None:
            self._refresh_commits()
        return done

    def history(self, path: str, limit: int | None = None) -> list[Revision]:
        """Commits that changed the note, newest first, following renames."""
        return self._git().history(self._history_path(path), limit)

    def show_revision(self, path: str, rev: str) -> bytes:
        """The note's bytes at ``rev`` (read from the path it had then)."""
        return self._git().show(self._history_path(path), rev)

    def diff(self, path: str, rev_a: str = "HEAD", rev_b: str | None = None) -> str:
        """Unified diff of the note from ``rev_a`` to ``rev_b`` (``None``: the file on disk)."""
        return self._git().diff(self._history_path(path), rev_a, rev_b)

    def restore(self, path: str, rev: str, *, if_hash: str | None = None) -> Note:
        """Write the note's content at ``rev`` back to its current path: an ordinary indexed
        write, refused (``WriteConflict``) if the file changed since mdstore last indexed it."""
        rel = self._history_path(path)
        data = self._git().show(rel, rev)
        if if_hash is None:
            rows = self._query("SELECT hash FROM notes WHERE path = ?", [rel]).rows
            if_hash = rows[0][0] if rows and (self.root / rel).exists() else None
        with self.batch() as b:
            b.write_bytes(rel, data, if_hash=if_hash)
        return self._written(rel)

    def snapshot(self, label: str, message: str | None = None) -> Snapshot:
        """Commit pending changes, then tag HEAD ``label`` (an annotated git tag)."""
        snap = self._git().snapshot(label, message)
        self._refresh_commits()
        return snap

    def snapshots(self) -> list[Snapshot]:
        """Every tag of the repository, oldest first."""
        return self._git().snapshots()

    def at(self, rev: str) -> RevisionView:
        """A read-only view of the vault at ``rev`` for ``get``/``find``/``sql``/``search``
        (materialised under ``.mdstore/revisions/``). Close it when done."""
        from .revisions import open_revision

        return open_revision(self, self._git(), rev)  # type: ignore[arg-type]

    # -- internals -----------------------------------------------------------------------------

    def _git(self) -> GitHistory:
        """The vault's GitHistory, opened once (``NotAGitRepo`` when there is no repository)."""
        found = getattr(self, "_git_history", None)
        if found is None:
            from .githistory import GitHistory

            found = GitHistory(self.root, self.config.git)
            self._git_history = found
            self._core.add_closer(self._close_git)
        return found

    def _close_git(self) -> None:
        committer = getattr(self, "_autocommit", None)
        if committer is not None:
            committer.stop(flush=True)
            self._autocommit = None
        history = getattr(self, "_git_history", None)
        if history is not None:
            history.close()
            self._git_history = None

    def _is_git(self) -> bool:
        """Whether the vault lies in a git work tree, without loading git (syncs of plain vaults)."""
        folder = self.root.resolve()
        for candidate in (folder, *folder.parents):
            if os.path.exists(candidate / ".git"):
                return True
        return False

    def _committer(self) -> AutoCommitter | None:
        if self.config.git.autocommit == "off":
            return None
        found = getattr(self, "_autocommit", None)
        if found is None:
            from .autocommit import AutoCommitter

            found = AutoCommitter(self._git() if self._is_git() else None, self.config.git)
            found.start()
            self._autocommit = found
            self._git()  # registers the closer that flushes pending commits
        return found

    def _history_before_sync(self, paths: list[str]) -> None:
        """Tell the autocommit setting about an API write (before its index sync)."""
        committer = self._committer()
        if committer is not None:
            committer.notify(paths)

    def _history_path(self, path: str) -> str:
        """A note path for history calls: the note if it exists, else the path as given (+ .md)."""
        try:
            return self._note_path(path)
        except NoteNotFound:
            rel = self._rel(path)
            exts = tuple(e.lower() for e in self.config.vault.extensions)
            return rel if rel.lower().endswith(exts) else rel + self.config.vault.extensions[0]

    def _history_sync_listener(self) -> _HistorySync:
        return _HistorySync(self)

    def _history_listeners(self) -> list[Any]:
        """Sync listeners of the history layer: the ``commits`` table, in git vaults only."""
        if not self._is_git():
            return []
        from .headfile import read_head
        from .lastcommits import LastCommitListener

        return [LastCommitListener(self._core.store, self._git_if_usable, lambda: read_head(self.root))]

    def _git_if_usable(self) -> GitHistory | None:
        try:
            return self._git()
        except NotAGitRepo:
            return None  # a `.git` that is not a usable repository: a plain vault

    def _refresh_commits(self) -> None:
        """After a commit made outside a sync: bring the ``commits`` table up to HEAD."""
        if self._client() is not None or not self._core.store.exists:
            return  # the daemon owns the index; its next sync sees the new HEAD
        from .lastcommits import LastCommitListener

        with self._core.lock.hold(self.config.index.busy_timeout):
            LastCommitListener(self._core.store, self._git).refresh([], [])


class _HistorySync:
    """The history side's sync listener (registered on the vault core): the ``commits`` table,
    in git vaults only (git is opened on the first sync that needs it)."""

    name = "history"

    def __init__(self, methods: HistoryMethods) -> None:
        self._methods = methods

    def on_synced(
        self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        for listener in self._methods._history_listeners():
            listener.on_synced(upserts, removed, generation, fresh)
