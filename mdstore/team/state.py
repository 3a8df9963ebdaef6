"""What a clone remembers between syncs, in ``.mdstore/team/state.bin``.

- ``bases``: per path, the revision and hash this clone last agreed on with the server (a tombstone
  has the hash ``""``). A file whose hash differs from its base is a local change to push.
- ``cursor``: every revision up to it has been pulled.
- ``seen``: per path, the (mtime, size, hash) last read, so a sync re-reads only files whose stat
  changed (or that changed within the last 2 s, when a same-size rewrite can keep its stat).

The file is written atomically (Python's ``marshal`` format: plain data only, loads no code, and
encodes 10k entries in milliseconds where JSON takes tens); it is a cache of what the server and
the files say. If it is lost or belongs to another database or space, the next sync starts from
cursor 0 and rebuilds every base by comparing hashes, which never produces a conflict copy or
overwrites a file.
"""

from __future__ import annotations

import marshal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "team/state.bin"
_FORMAT = 1
RACY_SECONDS = 2.0


@dataclass(frozen=True)
class Base:
    revision: int
    hash: str  # "" for a tombstone


@dataclass
class ClientState:
    server: str = ""  # describe(url) + space: the state belongs to one space of one database
    cursor: int = 0
    bases: dict[str, Base] = field(default_factory=dict)
    seen: dict[str, tuple[float, int, str]] = field(default_factory=dict)
    seen_at: float = 0.0
    last_sync: float | None = None
    last_error: str | None = None
    _saved: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, state_dir: Path, server: str) -> ClientState:
        try:
            raw = marshal.loads((state_dir / STATE_FILE).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return cls(server=server)
        if not isinstance(raw, dict) or raw.get("format") != _FORMAT or raw.get("server") != server:
            return cls(server=server)
        try:
            state = cls(
                server=server,
                cursor=int(raw["cursor"]),
                bases={p: Base(r, h) for p, (r, h) in raw["bases"].items()},
                seen=dict(raw["seen"]),
                seen_at=float(raw["seen_at"]),
                last_sync=raw.get("last_sync"),
                last_error=raw.get("last_error"),
            )
        except (KeyError, TypeError, ValueError):
            return cls(server=server)
        state._saved = (state.cursor, state.last_error, dict(state.bases), dict(state.seen))
        return state

    def save(self, state_dir: Path) -> None:
        """Write the state, unless nothing but the scan time changed since the last save or load."""
        from ..notes.fileio import atomic_write

        snapshot = (self.cursor, self.last_error, dict(self.bases), dict(self.seen))
        if snapshot == self._saved:
            return
        data = {
            "format": _FORMAT,
            "server": self.server,
            "cursor": self.cursor,
            "bases": {p: (b.revision, b.hash) for p, b in self.bases.items()},
            "seen": self.seen,
            "seen_at": self.seen_at,
            "last_sync": self.last_sync,
            "last_error": self.last_error,
        }
        # No fsync: the state is a cache; losing it costs a hash comparison, never an edit.
        atomic_write(state_dir / STATE_FILE, marshal.dumps(data), fsync=False)
        self._saved = snapshot

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
