"""Keeps the search engine and the TF-IDF model in step with the DuckDB index.

The sync pipeline (index/sync.py) calls ``on_synced`` after every DuckDB commit, with the owner lock
held. Each *part* (the engine, the related-notes model) stores the DuckDB generation as its stamp in
the same commit as its data, so a part whose stamp differs from the generation missed something — a
crash between the two writes, a vault synced with ``engine = "none"``, a deleted folder — and is
repaired by comparing its ``path → hash`` with DuckDB's and applying only the difference.

Small syncs hold their changes back (``backlog.py``): the parts catch up in one commit when this
process searches, after a quiet moment, or at close, so a one-note write does not pay for an
engine commit.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mdstore.config import Config
from mdstore.errors import BackendUnavailable, IndexBusy, MdstoreError
from mdstore.index.lock import OwnerLock
from mdstore.notes.model import Note
from mdstore.search.backlog import DEFER_LIMIT, FLUSH_MAX_LAG, FLUSH_QUIET, Backlog
from mdstore.search.coldfeed import ColdFeed

if TYPE_CHECKING:  # loaded when a part is first used: a one-note write only notes what to catch up
    from mdstore.search.protocol import SearchBackend
    from mdstore.search.tfidf import TfidfModel

log = logging.getLogger("mdstore.search")

SEARCH_DIR = "search"
TFIDF_DIR = "tfidf"
BUILDING_FILE = "building.json"
LOAD_CHUNK = 2000  # notes read at a time when a part is rebuilt from the files
MODEL_SAVE_INTERVAL = 2.0  # seconds between saves of the related-notes model (and at close)

Rows = Callable[[str], list[tuple[Any, ...]]]
"""Runs a read-only SQL query on the DuckDB index and returns its rows."""


class _Part(Protocol):
    """What the keeper needs of the engine and of the model: a stamp, hashes, two ways to write."""

    label: str

    def stamp(self) -> int | None: ...
    def hashes(self) -> dict[str, str]: ...
    def apply(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int) -> None: ...
    def builder(self, stamp: int, total: int, hold: bool = False) -> Any: ...


class _EnginePart:
    label = "search"

    def __init__(self, engine: SearchBackend) -> None:
        self.engine = engine

    def stamp(self) -> int | None:
        return self.engine.stamp()

    def hashes(self) -> dict[str, str]:
        return self.engine.hashes()

    def apply(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int) -> None:
        self.engine.apply(upserts, deletes, stamp)

    def builder(self, stamp: int, total: int, hold: bool = False) -> Any:
        return self.engine.builder(stamp, total, hold)


class _ModelPart:
    label = "related"

    def __init__(self, model: TfidfModel) -> None:
        self.model = model

    def stamp(self) -> int | None:
        return self.model.stamp() if self.model.fitted else None

    def hashes(self) -> dict[str, str]:
        return self.model.hashes() if self.model.fitted else {}

    def apply(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int) -> None:
        self.model.update(upserts, deletes, stamp)

    def builder(self, stamp: int, total: int, hold: bool = False) -> Any:
        return self.model.builder(stamp)


class SearchIndex:
    """The search side of one vault: engine and TF-IDF model under ``.mdstore/search/``.

    ``rows`` reads DuckDB directly (inside a sync the Vault's own read path would re-enter it);
    ``lock`` is the vault's owner lock, which every write to a part happens under.
    Opening is lazy: nothing heavy is imported until a part is used.
    """

    def __init__(self, config: Config, rows: Rows, lock: OwnerLock) -> None:
        self.config = config
        self.settings = config.search
        self.folder = config.state_dir / SEARCH_DIR
        self.rows = rows
        self.lock = lock
        self._backlogs: dict[str, Backlog] = {}  # part label → changes held back from it
        self._timer: threading.Timer | None = None
        self._last_hold = 0.0  # time.monotonic() of the last sync held back
        self._pid = os.getpid()
        self._engine: SearchBackend | None = None
        self._model: TfidfModel | None = None
        self._mutex = threading.RLock()
        self._errors: list[str] = []
        # set for the length of one sync that reports its phases (Vault.sync(on_phase=...))
        self.on_phase: Callable[[str, int, int], None] | None = None
        self.last_error: str | None = None  # why the last sync could not update a part
        # label → (signature of the DuckDB files, stamp) last seen equal to the generation
        self.verified: dict[str, tuple[Any, int]] = {}
        # label -> why the part served by the last read is behind the notes (None: it is current)
        self.stale: dict[str, str | None] = {}

    # -- the parts ------------------------------------------------------------------------------

    @property
    def engine_name(self) -> str:
        return self.settings.engine

    def engine(self) -> SearchBackend:
        """The configured engine; ``BackendUnavailable`` when ``[search] engine = "none"``."""
        with self._mutex:
            if self._engine is None:
                if self.engine_name == "none":
                    raise BackendUnavailable(
                        'full-text search is off in this vault ([search] engine = "none" in mdstore.toml); '
                        'set engine = "whoosh" (or "tantivy") and run `mdstore reindex-search`'
                    )
                from mdstore.search import open_backend

                self._engine = open_backend(self.engine_name, self.folder / self.engine_name)
            return self._engine

    def model(self) -> TfidfModel:
        """The related-notes model; ``BackendUnavailable`` when ``[search] related = false``."""
        with self._mutex:
            if self._model is None:
                if not self.settings.related:
                    raise BackendUnavailable(
                        "related notes are off in this vault ([search] related = false in mdstore.toml); "
                        "set related = true and run `mdstore reindex-search`"
                    )
                from mdstore.search.tfidf import TfidfModel

                self._model = TfidfModel(
                    self.folder / TFIDF_DIR,
                    refit_ratio=self.settings.refit_ratio,
                    refit_min=self.settings.refit_min,
                    save_interval=MODEL_SAVE_INTERVAL,
                )
            return self._model

    def _parts(self) -> list[_Part]:
        parts: list[_Part] = []
        if self.engine_name != "none":
            parts.append(_EnginePart(self.engine()))
        if self.settings.related:
            parts.append(_ModelPart(self.model()))
        return parts

    def part(self, label: str) -> _Part:
        if label == "search":
            return _EnginePart(self.engine())
        return _ModelPart(self.model())

    def close(self) -> None:
        # Without flush_at_close (or when another process keeps the index), the parts' stamps stay
        # behind and the next search, the daemon or an index job repairs them from DuckDB.
        applied = self.settings.flush_at_close and self.flush(timeout=self.config.index.busy_timeout)
        with self._mutex:
            if not applied:
                self._backlogs.clear()
                _with_backlog.discard(self)
            self._cancel_timer()
            if self._model is not None:
                self._model.flush()
            if self._engine is not None:
                self._engine.close()
            self._engine = None
            self._model = None

    # -- the sync listener ----------------------------------------------------------------------

    def on_synced(
        self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        """Apply one sync's changes to every part, or hold a small one back (``backlog.py``).
        A part that fails is logged and left behind (its stamp says so): the sync that already
        committed DuckDB does not fail for it, and the next sync or search repairs it or raises
        the error where it can be acted on."""
        with self._mutex:
            if self._defer(upserts, removed, generation, fresh):
                return
            try:
                parts = self._parts()
            except MdstoreError as exc:  # e.g. tantivy configured but not installed
                self._failed("search", exc)
                return
            if fresh and parts:
                upserts = list(upserts)  # a streamed cold build reads its notes again: once for all parts
            for part in parts:
                try:
                    if self._hold_back(part, upserts, removed, generation, fresh):
                        continue
                    if self._backlogs.get(part.label) is not None:
                        self._catch_up(part, upserts, removed, generation, fresh)
                    else:
                        self._follow(part, upserts, removed, generation, fresh)
                except Exception as exc:  # noqa: BLE001 - see the docstring
                    self._backlogs.pop(part.label, None)
                    self._failed(part.label, exc)
            self.last_error = None if not self._errors else "; ".join(self._errors)
            self._errors.clear()
        if self.last_error:  # every part had its turn; the sync reports this in its errors
            raise MdstoreError(self.last_error)

    def _defer(self, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool) -> bool:
        """In a process that leaves catching up to readers (``flush_at_close`` off: the CLI), hold
        a small sync back without opening the parts at all (their stamps cost a model load). No
        timer is armed: the changes are applied if this process searches, else the parts stay
        behind and the next search, the daemon or an index job repairs them (``_apply_backlog``
        checks the stamps then)."""
        if self.settings.flush_at_close or fresh:
            return False
        labels = [
            label
            for label, on in (("search", self.engine_name != "none"), ("related", self.settings.related))
            if on
        ]
        size = len(upserts) + len(removed)
        for label in labels:
            backlog = self._backlogs.get(label)
            held = 0 if backlog is None else len(backlog)
            if held + size > DEFER_LIMIT or (backlog is not None and not backlog.follows(generation)):
                return False
        for label in labels:
            backlog = self._backlogs.setdefault(label, Backlog(generation, generation, time.monotonic()))
            backlog.add(upserts, removed, generation)
        return True

    def begin_build(self, generation: int, total: int) -> ColdFeed | None:
        """The sink of a streamed cold build of ``total`` notes (``coldfeed.py``); None when the
        search side is off or cannot be written (the reason goes to ``last_error``; the parts'
        stamps then make the next search repair them)."""
        with self._mutex:
            self._backlogs.clear()
            try:
                parts = self._parts()
                if not parts:
                    return None
                feed = self._feed(parts, generation, total, hold=True)
            except Exception as exc:  # noqa: BLE001 - see the docstring
                self._failed("search", exc)
                self.last_error = "; ".join(self._errors)
                self._errors.clear()
                return None
            self.last_error = None
            return feed

    def _hold_back(
        self, part: _Part, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> bool:
        """Add a small sync to the part's backlog instead of applying it; False when it must be
        applied now (a rebuild, a big change, a part that another writer moved meanwhile)."""
        if fresh:
            return False
        backlog = self._backlogs.get(part.label)
        size = len(upserts) + len(removed)
        if backlog is None:
            if size > DEFER_LIMIT:
                return False
            if part.stamp() != generation - 1:
                return False
            backlog = self._backlogs[part.label] = Backlog(generation, generation, time.monotonic())
        elif (
            not backlog.follows(generation)
            or len(backlog) + size > DEFER_LIMIT
            or time.monotonic() - backlog.since > FLUSH_MAX_LAG  # writes never paused for the timer
        ):
            return False
        backlog.add(upserts, removed, generation)
        self._schedule_flush()
        return True

    def _catch_up(
        self, part: _Part, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        """A sync that cannot be held back while a backlog exists: both go in one write."""
        backlog = self._backlogs[part.label]
        if fresh:
            del self._backlogs[part.label]
            self._follow(part, upserts, removed, generation, fresh)
            return
        if backlog.follows(generation):
            backlog.add(upserts, removed, generation)
        self._apply_backlog(part)  # a broken chain is repaired from DuckDB, this sync included

    def pending(self, label: str | None = None) -> int:
        """Changes held back from one part (or from all parts)."""
        with self._mutex:
            if label is not None:
                backlog = self._backlogs.get(label)
                return 0 if backlog is None else len(backlog)
            return sum(len(backlog) for backlog in self._backlogs.values())

    def flush(self, labels: Sequence[str] | None = None, timeout: float = 0.0) -> bool:
        """Apply the held-back changes of ``labels`` (all parts by default) under the owner lock,
        waiting for it at most ``timeout`` seconds. False if the lock could not be had (the
        backlog stays; the timer, or a repair anywhere, catches up later)."""
        if os.getpid() != self._pid:
            return True  # a forked child: the backlog belongs to the parent
        wanted = list(self._backlogs) if labels is None else [lb for lb in labels if lb in self._backlogs]
        if not wanted:
            return True
        try:
            self.lock.acquire(timeout)
        except IndexBusy:
            return False
        try:
            with self._mutex:
                for label in wanted:
                    if label not in self._backlogs:
                        continue  # a sync of another thread applied it meanwhile
                    try:
                        self._apply_backlog(self.part(label))
                    except Exception as exc:  # noqa: BLE001 - the stamp makes it repaired later
                        self._backlogs.pop(label, None)
                        self._failed(label, exc)
                self.last_error = None if not self._errors else "; ".join(self._errors)
                self._errors.clear()
        finally:
            self.lock.release()
        return True

    def _apply_backlog(self, part: _Part) -> None:
        """Bring ``part`` to DuckDB's generation: the backlog in one write when nothing came
        between, else a repair by hashes (which reuses the backlog's parsed notes). Owner lock held."""
        backlog = self._backlogs.pop(part.label)
        generation = self.generation()
        stamp = part.stamp()
        if stamp == generation:
            return  # another process repaired it meanwhile
        if stamp == backlog.first - 1 and backlog.last == generation:
            part.apply(backlog.upserts(), backlog.removed(), generation)
        else:
            self.repair(part, generation, given=backlog.upserts())
        if isinstance(part, _ModelPart):
            self._maybe_refit(part.model, generation)

    def _schedule_flush(self) -> None:
        """Arm the timer that applies the backlogs once syncs pause (``FLUSH_QUIET``)."""
        self._last_hold = time.monotonic()
        if self._timer is None:
            self._start_timer(FLUSH_QUIET)
        if self not in _with_backlog:
            # The exit flush may be the first to load scikit-learn, whose joblib imports these; at
            # exit their import fails ("can't register atexit after shutdown"), so load them now.
            import concurrent.futures.process  # noqa: F401
            import concurrent.futures.thread  # noqa: F401
        _with_backlog.add(self)

    def _start_timer(self, delay: float) -> None:
        timer = threading.Timer(delay, self._on_timer)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        with self._mutex:
            self._timer = None
            if not self._backlogs:
                return
            now = time.monotonic()
            oldest = min(backlog.since for backlog in self._backlogs.values())
            quiet = now - self._last_hold
            if quiet < FLUSH_QUIET and now - oldest < FLUSH_MAX_LAG:
                self._start_timer(min(FLUSH_QUIET - quiet, FLUSH_MAX_LAG - (now - oldest)))
                return
        if not self.flush(timeout=0.0):  # a write is going on: try again after the next pause
            with self._mutex:
                if self._timer is None and self._backlogs:
                    self._start_timer(FLUSH_QUIET)

    def _failed(self, label: str, exc: Exception) -> None:
        log.debug("the %s index was not updated by this sync (repaired later): %s", label, exc)
        self._errors.append(f"{label}: {exc}")

    def _follow(
        self, part: _Part, upserts: Sequence[Note], removed: Sequence[str], generation: int, fresh: bool
    ) -> None:
        if fresh:
            self._rebuild([part], list(upserts), generation)
            return
        stamp = part.stamp()
        if stamp == generation and not (upserts or removed):
            return  # a no-op sync on a current part
        if (stamp == generation - 1 and (upserts or removed)) or stamp == generation:
            part.apply(upserts, removed, generation)
        else:
            # Behind (a crash, engine "none" before, a deleted folder) or a sync that only touched
            # mtimes: compare hashes and apply what differs.
            self.repair(part, generation, given=upserts)
        if isinstance(part, _ModelPart):
            self._maybe_refit(part.model, generation)

    def _maybe_refit(self, model: TfidfModel, generation: int) -> None:
        """Refit the TF-IDF model in the sync that makes the drift large enough (docs/search.md)."""
        if model.fitted and model.refit_due and model.stamp() == generation:
            self._rebuild_from([_ModelPart(model)], self._indexed(), (), generation)

    def _feed(self, parts: Sequence[_Part], generation: int, total: int, hold: bool = False) -> ColdFeed:
        """One build for ``parts`` (``coldfeed.py``), fed by the caller and finished by it; ``hold``
        for a cold build, whose engine should leave the CPU to the structured index until then."""
        builds: dict[str, Any] = {}
        try:
            for part in parts:
                builds[part.label] = part.builder(generation, total, hold)
        except BaseException:
            for build in builds.values():
                if hasattr(build, "cancel"):
                    build.cancel()
            raise
        self.folder.mkdir(parents=True, exist_ok=True)
        info = {"pid": os.getpid(), "started": time.time(), "notes": total, "generation": generation}
        return ColdFeed(builds.get("search"), builds.get("related"), self.folder / BUILDING_FILE, info)

    def _rebuild(self, parts: Sequence[_Part], notes: Sequence[Note], generation: int) -> None:
        for part in parts if self.on_phase is not None else ():
            self.on_phase(part.label, 0, len(notes))  # type: ignore[misc]
        feed = self._feed(parts, generation, len(notes))
        try:
            feed.add(notes, [None] * len(notes))
        except BaseException:
            feed.abort()
            raise
        feed.finish()
        for part in parts if self.on_phase is not None else ():
            self.on_phase(part.label, len(notes), len(notes))  # type: ignore[misc]

    def _rebuild_from(
        self,
        parts: Sequence[_Part],
        wanted: dict[str, tuple[str, float]],
        given: Sequence[Note],
        generation: int,
    ) -> int:
        """Rebuild ``parts`` from the files of ``wanted``, read a chunk at a time: the notes of a
        big vault are never all held. Returns the notes written."""
        feed = self._feed(parts, generation, len(wanted))
        written = 0
        try:
            paths = sorted(wanted)
            for start in range(0, len(paths), LOAD_CHUNK):
                notes = self.load({p: wanted[p] for p in paths[start : start + LOAD_CHUNK]}, given)
                feed.add(notes, [None] * len(notes))
                written += len(notes)
        except BaseException:
            feed.abort()
            raise
        feed.finish()
        return written

    # -- repair ---------------------------------------------------------------------------------

    def _indexed(self) -> dict[str, tuple[str, float]]:
        """DuckDB's ``path → (hash, mtime)``."""
        return {
            path: (hash_, mtime) for path, hash_, mtime in self.rows("SELECT path, hash, mtime FROM notes")
        }

    def generation(self) -> int:
        found = self.rows("SELECT value FROM meta WHERE key = 'generation'")
        return int(found[0][0]) if found else 0

    def repair(self, part: _Part, generation: int, given: Sequence[Note] = ()) -> int:
        """Bring ``part`` to DuckDB's notes and stamp it ``generation``; returns the notes written.
        The caller holds the owner lock."""
        indexed = self._indexed()
        have = part.hashes() if part.stamp() is not None else {}
        if not have and indexed:
            return self._rebuild_from([part], indexed, given, generation)
        stale = {path: info for path, info in indexed.items() if have.get(path) != info[0]}
        gone = sorted(path for path in have if path not in indexed)
        notes = self.load(stale, given)
        part.apply(notes, gone, generation)
        return len(notes) + len(gone)

    def rebuild_all(self, generation: int) -> int:
        """Rebuild every part from the indexed notes' files (``reindex_search``); owner lock held."""
        with self._mutex:
            self._backlogs.clear()
            for name in ("whoosh", "tantivy"):  # an index of an engine no longer chosen is dead weight
                if name != self.engine_name:
                    shutil.rmtree(self.folder / name, ignore_errors=True)
            return self._rebuild_from(self._parts(), self._indexed(), (), generation)

    def load(self, wanted: dict[str, tuple[str, float]], given: Sequence[Note] = ()) -> list[Note]:
        """The notes at ``wanted`` (path → (hash, mtime)), parsed from their files; notes of
        ``given`` with the same hash are reused. A file that vanished or cannot be read is left
        out: the next sync removes or reports it."""
        from mdstore.index.workers import load_notes

        reuse = {
            note.path: note for note in given if note.path in wanted and note.hash == wanted[note.path][0]
        }
        items = [(path, info[1]) for path, info in sorted(wanted.items()) if path not in reuse]
        loaded = load_notes(self.config, items).results
        notes = [note for note in loaded if isinstance(note, Note)]
        return sorted([*reuse.values(), *notes], key=lambda n: n.path)

    # -- status ---------------------------------------------------------------------------------

    def building(self) -> dict[str, Any] | None:
        """What the marker of a cold build in progress says (pid, started, notes), if any."""
        try:
            return dict(json.loads((self.folder / BUILDING_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None


_with_backlog: weakref.WeakSet[SearchIndex] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """A program that never closed its vault still leaves the search side current (else the next
    search there would repair it). Registered after the index store's own exit hook, so it runs
    while the DuckDB connection can still be opened."""
    for keeper in list(_with_backlog):
        try:
            keeper.flush(timeout=keeper.config.index.busy_timeout)
        except Exception as exc:  # noqa: BLE001 - at exit: the stamp repairs it next time
            log.warning("search changes not applied at exit (repaired at next search): %s", exc)


def folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total
