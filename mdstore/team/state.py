"""What a clone remembers between syncs, in ``.mdstore/team/state.bin`` and ``state.log``.

- ``bases``: per path, the revision and hash this clone last agreed on with the server (a tombstone
  has the hash ``""``). A file whose hash differs from its base is a local change to push.
- ``cursor``: every revision up to it has been pulled.
- ``seen``: per path, the (mtime, size, hash) last read, so a sync re-reads only files whose stat
  changed (or that changed within the last 2 s, when a same-size rewrite can keep its stat).
- ``withheld``: per server path this clone did not write (a name a clone on Windows could not
  hold, say), why; reported by every sync and ``team status`` until the server deletes or moves it.

``state.bin`` holds the whole state (Python's ``marshal`` format: plain data only, loads no code,
and encodes 10k entries in milliseconds where JSON takes tens). A sync that changed a few entries
appends just those to ``state.log`` (one length-prefixed record) instead of rewriting every entry;
when the log grows past half the size of ``state.bin`` the whole state is written again and the log
starts over. Both carry an *epoch*: a log record applies only to the ``state.bin`` it was written
after, so a crash between the two writes of a rewrite never replays an old record. A record cut
short by a crash is ignored, which is the same as a sync whose state write never happened.

The state is a cache of what the server and the files say. If it is lost or belongs to another
database or space, the next sync starts from cursor 0 and rebuilds every base by comparing hashes,
which never produces a conflict copy or overwrites a file; a lost record leaves older bases, which
the next sync settles the same way (the server already holds those bytes). A state loaded for
another database or space starts empty and is not written over the other's until its sync has
pulled or pushed something: a mistyped URL that never reaches a server changes nothing.
"""

from __future__ import annotations

import marshal
import os
import secrets
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..notes.fileio import RACY_SECONDS

if TYPE_CHECKING:
    from .local import Listing

STATE_FILE = "team/state.bin"
LOG_FILE = "team/state.log"
_FORMAT = 2
_READS = (1, _FORMAT)  # format 1: the whole state in state.bin, no log
_LOG_MIN = 256 * 1024  # the log is folded into state.bin past max(this, half of state.bin)
_HEADER = struct.Struct("<I")

V = TypeVar("V")


class Base(NamedTuple):  # a tuple: 10k of them are made when the state is read
    revision: int
    hash: str  # "" for a tombstone


class Tracked(dict[str, V]):
    """A dict that remembers which keys changed since the state was last saved (so a save
    writes only those)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dirty: set[str] = set()

    def __setitem__(self, key: str, value: V) -> None:
        if self.get(key, _MISSING) != value:
            self.dirty.add(key)
            super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.dirty.add(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.dirty.add(key)
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple[str, V]:
        key, value = super().popitem()
        self.dirty.add(key)
        return key, value

    def clear(self) -> None:
        self.dirty.update(self)
        super().clear()


_MISSING = object()


class Bases(Tracked[Base]):
    """The bases, which also keep ``live``: path → hash of every base that is not a tombstone. A
    sync finds the files that differ from their base by comparing that with the files' hashes,
    two dicts compared in C, instead of a loop over every path (local.LocalFiles keeps the
    other side)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.live: dict[str, str] = {p: b.hash for p, b in self.items() if b.hash}

    def __setitem__(self, key: str, value: Base) -> None:
        super().__setitem__(key, value)
        if value.hash:
            self.live[key] = value.hash
        else:
            self.live.pop(key, None)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.live.pop(key, None)

    def pop(self, key: str, *default: Any) -> Any:
        self.live.pop(key, None)
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Base]:
        key, value = super().popitem()
        self.live.pop(key, None)
        return key, value

    def clear(self) -> None:
        super().clear()
        self.live.clear()


@dataclass
class ClientState:
    server: str = ""  # describe(url) + space: the state belongs to one space of one database
    cursor: int = 0
    bases: Bases = field(default_factory=Bases)
    seen: Tracked[tuple[float, int, str]] = field(default_factory=Tracked)
    seen_at: float = 0.0
    withheld: Tracked[str] = field(default_factory=Tracked)
    last_sync: float | None = None
    last_error: str | None = None
    _epoch: str = field(default="", repr=False, compare=False)  # of state.bin; "" until written
    _saved: tuple[int, str | None] | None = field(default=None, repr=False, compare=False)
    _sizes: tuple[int, int] = field(default=(0, 0), repr=False, compare=False)  # state.bin, log
    # state.bin holds another server's (or space's) state: a mistyped URL must not wipe it, so it is
    # written over only once this state has agreed on something with its own server.
    _replaces: bool = field(default=False, repr=False, compare=False)
    # The last full look at the files, kept in memory only (local.scan_files).
    listing: Listing | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.bases, Bases):
            self.bases = Bases(self.bases)
        if not isinstance(self.seen, Tracked):
            self.seen = Tracked(self.seen)
        if not isinstance(self.withheld, Tracked):
            self.withheld = Tracked(self.withheld)

    @classmethod
    def load(cls, state_dir: Path, server: str) -> ClientState:
        try:
            whole = (state_dir / STATE_FILE).read_bytes()
            raw = marshal.loads(whole)
        except (OSError, ValueError, EOFError, TypeError):
            return cls(server=server)
        if not isinstance(raw, dict) or raw.get("format") not in _READS:
            return cls(server=server)
        if raw.get("server") != server:
            return cls(server=server, _replaces=True)
        try:
            state = cls(
                server=server,
                cursor=int(raw["cursor"]),
                bases=Bases({p: Base(r, h) for p, (r, h) in raw["bases"].items()}),
                seen=Tracked(raw["seen"]),
                seen_at=float(raw["seen_at"]),
                withheld=Tracked(raw.get("withheld", {})),
                last_sync=raw.get("last_sync"),
                last_error=raw.get("last_error"),
            )
            # Format 1 (before the log) has no epoch: its state is read, and rewritten at the next save.
            state._epoch = str(raw.get("epoch", ""))
            logged = state._replay(state_dir / LOG_FILE) if state._epoch else 0
        except (KeyError, TypeError, ValueError):
            return cls(server=server)
        state._saved = (state.cursor, state.last_error)
        state._sizes = (len(whole), logged)
        return state

    def _replay(self, log: Path) -> int:
        """Apply the log's records written after this state.bin; the log's usable length."""
        try:
            data = log.read_bytes()
        except OSError:
            return 0
        at = 0
        while at + _HEADER.size <= len(data):
            (length,) = _HEADER.unpack_from(data, at)
            end = at + _HEADER.size + length
            if end > len(data):
                break  # cut short by a crash
            try:
                record = marshal.loads(data[at + _HEADER.size : end])
            except (ValueError, EOFError, TypeError):
                break
            if not isinstance(record, dict) or record.get("epoch") != self._epoch:
                break  # written after an older state.bin
            self.cursor = int(record["cursor"])
            self.last_error = record["last_error"]
            self.last_sync = record["last_sync"]
            self.seen_at = float(record["seen_at"])
            _apply(self.bases, ((p, None if v is None else Base(*v)) for p, v in record["bases"].items()))
            _apply(self.seen, record["seen"].items())
            _apply(self.withheld, record.get("withheld", {}).items())
            at = end
        self.bases.dirty.clear()
        self.seen.dirty.clear()
        self.withheld.dirty.clear()
        return at

    def save(self, state_dir: Path) -> None:
        """Write what changed since the last save or load (nothing if only the scan time did)."""
        bases, seen, withheld = self.bases, self.seen, self.withheld
        if (self.cursor, self.last_error) == self._saved and not (
            bases.dirty or seen.dirty or withheld.dirty
        ):
            return
        if self._replaces and not self.cursor and not bases:
            return  # nothing learnt from this server yet (it was never reached, say)
        whole, logged = self._sizes
        if self._epoch and logged <= max(_LOG_MIN, whole // 2):
            record = marshal.dumps(
                {
                    "epoch": self._epoch,
                    "cursor": self.cursor,
                    "last_error": self.last_error,
                    "last_sync": self.last_sync,
                    "seen_at": self.seen_at,
                    "bases": {p: _plain(bases.get(p)) for p in bases.dirty},
                    "seen": {p: seen.get(p) for p in seen.dirty},
                    "withheld": {p: withheld.get(p) for p in withheld.dirty},
                }
            )
            self._append(state_dir / LOG_FILE, logged, _HEADER.pack(len(record)) + record)
        else:
            self._rewrite(state_dir)
        bases.dirty.clear()
        seen.dirty.clear()
        withheld.dirty.clear()
        self._saved = (self.cursor, self.last_error)

    def _append(self, log: Path, logged: int, record: bytes) -> None:
        # No fsync: the state is a cache; losing a record costs a hash comparison, never an edit.
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.ftruncate(fd, logged)  # drop a record a crash cut short, so this one is read
            os.pwrite(fd, record, logged)
        finally:
            os.close(fd)
        self._sizes = (self._sizes[0], logged + len(record))

    def _rewrite(self, state_dir: Path) -> None:
        from ..notes.fileio import atomic_write

        self._epoch = secrets.token_hex(8)
        data = marshal.dumps(
            {
                "format": _FORMAT,
                "epoch": self._epoch,
                "server": self.server,
                "cursor": self.cursor,
                "bases": {p: (b.revision, b.hash) for p, b in self.bases.items()},
                "seen": dict(self.seen),
                "withheld": dict(self.withheld),
                "seen_at": self.seen_at,
                "last_sync": self.last_sync,
                "last_error": self.last_error,
            }
        )
        atomic_write(state_dir / STATE_FILE, data, fsync=False)
        try:
            os.unlink(state_dir / LOG_FILE)  # its records belong to the old epoch anyway
        except FileNotFoundError:
            pass
        self._sizes = (len(data), 0)

    def cached_hash(self, rel: str, mtime: float, size: int) -> str | None:
        """The hash last read for ``rel`` if its stat is unchanged and old enough to trust."""
        seen = self.seen.get(rel)
        if seen is None or seen[0] != mtime or seen[1] != size or mtime >= self.seen_at - RACY_SECONDS:
            return None
        return seen[2]

    def remember(self, rel: str, mtime: float, size: int, digest: str) -> None:
        self.seen[rel] = (mtime, size, digest)

    def stamp(self) -> None:
        self.seen_at = time.time()


def _plain(base: Base | None) -> tuple[int, str] | None:
    return None if base is None else (base.revision, base.hash)  # marshal takes plain tuples only


def _apply(target: dict[str, Any], changes: Iterable[tuple[str, Any]]) -> None:
    for key, value in changes:
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
