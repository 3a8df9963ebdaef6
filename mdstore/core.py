"""The vault core: what every capability (search, writes, history, watch, and the layers to come)
is built on. It holds the configuration, the index store and the owner lock, answers index reads
(``query``), runs the one sync pipeline (``sync``), keeps the registry of sync listeners, and
closes what the capabilities registered. ``Vault`` is the facade over a core and its capabilities.

Ownership is explicit: the watcher calls ``become_owner(lock, sync)`` and ``stop_owning()``; while
a core owns the index it never forwards to a daemon, and its syncs go through the owner's ``sync``
(which publishes change events). Nothing below ``vault.py`` imports it; lower layers are typed
against the ``Core`` protocol.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from .config import Config
from .index.lock import Holdable, OwnerLock
from .index.store import IndexStore, store_for
from .notes.model import SyncReport
from .result import Result

if TYPE_CHECKING:
    from .index.sync import SyncListener

Params = Sequence[Any] | Mapping[str, Any] | None
Progress = Callable[[int, int], None]
OwnerSync = Callable[..., SyncReport]


class Core(Protocol):
    """What a capability may use of the vault it belongs to."""

    config: Config
    root: Path
    store: IndexStore
    write_lock: OwnerLock

    @property
    def lock(self) -> OwnerLock: ...
    @property
    def is_owner(self) -> bool: ...
    def query(self, sql: str, params: Params = None) -> Result: ...
    def sync(
        self, paths: Sequence[str] | None = None, *, rebuild: bool = False, progress: Progress | None = None
    ) -> SyncReport: ...
    def client(self) -> Any | None: ...
    def rel(self, path: str | os.PathLike[str]) -> str: ...
    def note_path(self, ref: str, *, unique: bool = False) -> str: ...
    def add_sync_listener(self, listener: SyncListener) -> Callable[[], None]: ...
    def add_closer(self, closer: Callable[[], None]) -> None: ...
    def ensure_index(self) -> None: ...


class VaultCore:
    """The one implementation of ``Core`` (see the module docstring)."""

    def __init__(self, config: Config, facade: Callable[[Config], Any] | None = None) -> None:
        self.config = config
        self._facade = facade  # the Vault class, for a daemon client's fallback in this process
        self.root: Path = config.root
        self.store = store_for(config.state_dir, config.index.busy_timeout)
        self._own_lock = OwnerLock(config.state_dir, role="mdstore")
        # Taken by every mdstore writer around its compare-and-swap and file replacements.
        self.write_lock = OwnerLock(
            config.state_dir, role="mdstore write", name="write.lock", subject="a note"
        )
        self._owner = False
        self._owner_lock: Holdable | None = None  # the daemon's shared lock while it owns the index
        self._owner_sync: OwnerSync | None = None
        self._listeners: list[SyncListener] = []
        self._listeners_lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []
        self._checked = False

    # -- ownership ---------------------------------------------------------------------------------

    @property
    def lock(self) -> OwnerLock:
        """The lock a sync takes: the owner's while this core owns the index, else the file lock."""
        return cast(OwnerLock, self._owner_lock or self._own_lock)

    @property
    def is_owner(self) -> bool:
        return self._owner

    def become_owner(self, lock: Holdable | None = None, sync: OwnerSync | None = None) -> None:
        """This core owns the index (the watcher daemon, or a client's fallback when the daemon is
        gone): reads never forward to a daemon; syncs take ``lock`` (else the owner lock file) and
        run through ``sync`` when given (the watcher's, which publishes change events)."""
        self._owner = True
        self._owner_lock = lock
        self._owner_sync = sync

    def stop_owning(self) -> None:
        self._owner = False
        self._owner_lock = None
        self._owner_sync = None

    # -- listeners and closers -----------------------------------------------------------------------

    def add_sync_listener(self, listener: SyncListener) -> Callable[[], None]:
        """Tell ``listener.on_synced(...)`` about every sync this core runs, after the index commit
        and under the owner lock, in registration order. Returns a function that unregisters it."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def sync_listeners(self) -> list[SyncListener]:
        with self._listeners_lock:
            return list(self._listeners)

    def add_closer(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` at ``close()``, the last registered first."""
        self._closers.append(closer)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()
        self.store.close()

    # -- syncing -------------------------------------------------------------------------------------

    def sync(
        self,
        paths: Sequence[str] | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Bring the index up to date: through the daemon when one owns the index, through the
        owner's sync when this core owns it, else here."""
        rels = None if paths is None else self.rels(paths)
        client = self.client()
        if client is not None:
            report: SyncReport = client.call("sync", (rels,), {"rebuild": rebuild})
            return report
        if self._owner_sync is not None:
            return self._owner_sync(rels, rebuild=rebuild)
        return self.sync_here(rels, rebuild=rebuild, progress=progress)

    def sync_here(
        self, rels: list[str] | None, *, rebuild: bool = False, progress: Progress | None = None
    ) -> SyncReport:
        """The sync pipeline in this process (the owner's side of ``sync``)."""
        from .index.sync import Syncer

        syncer = Syncer(self.config, self.store, self.lock, listeners=self.sync_listeners())
        report = syncer.sync(rels, rebuild=rebuild, progress=progress)
        self._checked = True
        return report

    # -- reading -------------------------------------------------------------------------------------

    def query(self, sql: str, params: Params = None) -> Result:
        """Every read of the index passes here: to the daemon when one owns the index, else to
        the DuckDB file directly."""
        client = self.client()
        if client is not None:
            result: Result = client.call("_query", (sql, params), {})
            return result
        self.ensure_index()
        with self.store.read() as cur:
            cur.execute(sql, params if params is not None else [])
            columns = [d[0] for d in cur.description] if cur.description else []
            return Result(columns, cur.fetchall())

    def client(self) -> Any | None:
        """The watcher daemon's client when another process owns the index, else None."""
        if self.is_owner:
            return None
        from .watch.ownership import SOCKET_NAME  # the socket module itself loads only with a daemon

        if not os.path.lexists(self.config.state_dir / SOCKET_NAME):
            return None  # no daemon ever ran here: a short command need not load the client
        from .watch.client import owner_client

        return owner_client(self.config, self._facade)

    def ensure_index(self) -> None:
        """Build the index on first use, and rebuild it when its schema is from another version or
        its parse rules from other settings."""
        if self._checked:
            return
        from .index import schema

        if self.store.exists:
            with self.store.read() as cur:
                meta = schema.stored_meta(cur, schema.RULES_KEYS)
            if schema.is_current(meta, self.config):
                self._checked = True
                return
        self.sync()

    # -- paths ---------------------------------------------------------------------------------------

    def rel(self, path: str | os.PathLike[str]) -> str:
        """A vault-relative POSIX path from user input, under the one path rule (notes/paths.py)."""
        from .notes.paths import vault_path

        return vault_path(self.root, path)

    def rels(self, paths: Sequence[str | os.PathLike[str]]) -> list[str]:
        """``rel`` of each path, the folders they share checked once (a pull names 1,000 notes)."""
        from .notes.paths import PathCache, vault_path

        cache = PathCache()
        return [vault_path(self.root, path, cache=cache) for path in paths]

    def note_path(self, ref: str, *, unique: bool = False) -> str:
        """A note path from a path or a name: the note file (``ref``, or ``ref`` + .md), else a
        name or alias, like a wikilink. Only a file with a note extension is a note: ``TODO`` is
        ``TODO.md`` even beside a file named ``TODO``. Names compare in NFC, as wikilinks do, so a
        name typed on Linux finds a note whose file name macOS stored decomposed. A name several
        notes share gives the one with the fewest folders, or with ``unique`` a ``QueryError``."""
        rel = self.rel(ref)
        exts = self.config.vault.extensions
        is_note = rel.lower().endswith(tuple(ext.lower() for ext in exts))
        candidates = [rel] if is_note else [rel + ext for ext in exts]
        for candidate in candidates:
            if (self.root / candidate).is_file():
                return self.rel(candidate)  # ``name`` may pass the rule while ``name.md`` leaves it
        found: list[str] = []
        if not unique:  # the fast comparison first; a uniqueness check needs every form
            found = self.query(
                "SELECT path FROM notes WHERE path = ? OR lower(name) = lower(?) "
                "UNION ALL SELECT path FROM aliases WHERE lower(alias) = lower(?)",
                [rel, rel.rsplit("/", 1)[-1], rel],
            ).column("path")
        if not found:
            nfc = unicodedata.normalize("NFC", rel)
            found = self.query(
                "SELECT path FROM notes WHERE list_contains(?, nfc_normalize(path)) "
                "OR lower(nfc_normalize(name)) = lower(?) "
                "UNION ALL SELECT path FROM aliases WHERE lower(nfc_normalize(alias)) = lower(?)",
                [[unicodedata.normalize("NFC", c) for c in candidates], nfc.rsplit("/", 1)[-1], nfc],
            ).column("path")
        found = sorted(set(found), key=lambda p: (p.count("/"), len(p), p))
        if unique and len(found) > 1:
            from .errors import QueryError

            listed = ", ".join(sorted(found))
            raise QueryError(f"{ref!r} names {len(found)} notes: {listed} (give the path of one)")
        if found:
            return found[0]
        from .notes.paths import no_such_note

        raise no_such_note(self.root, rel, exts, f"no note {ref!r} in {self.root}")
