"""Vault methods that write notes (mixed into ``Vault``): create, update, append, move, delete,
batches and collections. Every write is atomic and lossless, protected by compare-and-swap, and
indexed before it returns (docs/writing.md).

Each method is a batch of one (``writes/batch.py``); ``_commit_batch`` is the single place where a
batch is applied, the autocommit setting is told, and the index catches up with the touched paths.

Writers of every process take turns on ``.mdstore/write.lock``: a batch's compare-and-swap and its
file replacements happen under it, so two mdstore processes can never both pass the check and then
overwrite each other. A batch of one holds it from its read to its replace, so two concurrent
``update()`` calls on one note both land, one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from ..collection import Collection
    from ..config import Config
    from ..core import Core
    from ..index.lock import OwnerLock
    from ..notes.model import Note, SyncReport
    from .batch import MoveReport, VaultBatch


class WriteMethods:
    if TYPE_CHECKING:
        config: Config
        root: Path
        _core: Core

        def sync(self, paths: Any = None, *, rebuild: bool = False, progress: Any = None) -> SyncReport: ...
        def _history_before_sync(self, paths: list[str]) -> None: ...

    def batch(self) -> VaultBatch:
        """``with vault.batch() as b: b.update(...); b.move(...)`` — all applied, or none.

        The batch's methods are the Vault's write methods; nothing is written until the block ends
        without an exception. A batch interrupted by a crash is finished or undone at next open.
        """
        from .batch import VaultBatch

        return VaultBatch(self)  # type: ignore[arg-type]  # self is the Vault facade

    def create(
        self,
        path: str,
        frontmatter: Mapping[str, Any] | None = None,
        body: str = "",
        *,
        template: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Note:
        """Create a note; never overwrites (``WriteConflict``). ``template`` names a note of the
        vault's ``templates/`` folder, rendered with ``{{title}}``, ``{{date}}``, ``{{time}}`` and
        ``variables``; ``body`` is appended to it and ``frontmatter`` keys are set on top."""
        with self._alone() as b:
            rel = b.create(path, frontmatter, body, template=template, variables=variables)
        return self._written(rel)

    def update(
        self,
        path: str,
        set: Mapping[str, Any] | None = None,  # noqa: A002 - the API's word
        unset: Iterable[str] = (),
        body: str | None = None,
        *,
        if_hash: str | None = None,
    ) -> Note:
        """Set and remove frontmatter keys and/or replace the body; only those bytes change.
        Nothing is written when nothing changes. ``if_hash`` (a ``Note.hash``) refuses the write
        with ``WriteConflict`` if the file changed since."""
        with self._alone() as b:
            rel = b.update(path, set, unset, body, if_hash=if_hash)
        return self._written(rel)

    def append(
        self, path: str, text: str, under_heading: str | None = None, *, if_hash: str | None = None
    ) -> Note:
        """Append ``text`` as whole lines, at the end or at the end of a heading's section
        (the heading is created when missing)."""
        with self._alone() as b:
            rel = b.append(path, text, under_heading, if_hash=if_hash)
        return self._written(rel)

    def move(self, src: str, dst: str, *, update_links: bool = True) -> MoveReport:
        """Move a note or a folder. ``dst`` may be an existing folder (the note keeps its name).
        Every link to the moved notes is rewritten (``update_links=False`` to skip), keeping
        aliases, anchors and the link style; never overwrites (``WriteConflict``)."""
        with self._alone(reads_index=True) as b:
            report = b.move(src, dst, update_links=update_links)
        return report

    def delete(self, path: str, *, if_hash: str | None = None, permanent: bool = False) -> str:
        """Move a note to the vault's ``.trash/`` (like Obsidian), or remove it for good; returns
        the vault path of the note deleted (``TODO`` → ``TODO.md``)."""
        with self._alone() as b:
            return b.delete(path, if_hash=if_hash, permanent=permanent)

    def collection(self, name: str) -> Collection:
        """The records kept as notes of one folder (``[collections.NAME]`` in mdstore.toml may
        give its folder and a schema; by default the folder is ``NAME``)."""
        from ..collection import Collection

        return Collection(self, name)  # type: ignore[arg-type]

    # -- internals -----------------------------------------------------------------------------

    def _recover_journal(self) -> list[str]:
        """Finish or undo batches a crash interrupted and index what they touched. Runs at open
        and before each write (another process may have crashed meanwhile); a look at an empty
        journal folder costs microseconds."""
        from ..notes.journal import Journal

        journal = Journal(self.root)
        if not journal.folder.is_dir() or not any(journal.folder.iterdir()):
            return []  # the common case; opening a vault to read creates no lock file
        with self._write_turn().hold(self.config.index.busy_timeout):  # no writer edits meanwhile
            touched = journal.recover()
        if touched:
            self.sync(paths=touched)
        return touched

    def _write_turn(self) -> OwnerLock:
        """The vault's write lock (``.mdstore/write.lock``), shared by every mdstore process."""
        return self._core.write_lock

    @contextmanager
    def _alone(self, reads_index: bool = False) -> Iterator[VaultBatch]:
        """A batch of one under the write lock, from reading the note to replacing it.
        ``reads_index``: the write looks up the index before it writes (a move finds the links to
        rewrite), so the index is opened read-write for the whole batch (``_index_for_writing``)."""
        with self._write_turn().hold(self.config.index.busy_timeout), ExitStack() as stack:
            if reads_index:
                self._index_for_writing(stack)
            with self.batch() as b:
                yield b

    def _index_for_writing(self, stack: ExitStack) -> None:
        """Open the index read-write now, under the owner lock, and keep it until ``stack``
        closes: the write's lookups then share the connection its sync writes through, instead of
        opening the file read-only first and again read-write (~20 ms each). Not when a daemon
        owns the index, nor when there is none yet or it is of another schema version (the first
        lookup builds it, as always)."""
        from ..index import schema

        core = self._core
        if core.client() is not None or not core.store.exists:
            return
        stack.enter_context(core.lock.hold(self.config.index.busy_timeout))
        stack.enter_context(core.store.holding())
        with core.store.write() as con:
            current = schema.is_current(schema.stored_meta(con, schema.RULES_KEYS), self.config)
        if not current:
            stack.close()

    def _commit_batch(self, batch: VaultBatch) -> list[str]:
        with self._write_turn().hold(self.config.index.busy_timeout):
            self._recover_journal()
            touched = batch.commit()
        if touched:
            # Autocommit first (in "write" mode), so one sync records the files and the new commit.
            self._history_before_sync(touched)
            self.sync(paths=touched)
        return touched

    def _written(self, rel: str) -> Note:
        """The note as it is now on disk (links are resolved by ``get``, not here)."""
        from ..notes.parse import parse_note

        full = self.root / rel
        return parse_note(
            rel,
            full.read_bytes(),
            mtime=full.stat().st_mtime,
            max_bytes=self.config.vault.max_note_bytes,
            link_style=self.config.vault.link_style,
        )
