"""What changed in a set of memory notes since the last look, read from the index cheaply.

The memory's searches keep their notes (and vectors) in the process. To stay current they ask the
index, after each change of its generation, for a fingerprint of the set in 256 buckets (by a hash
of the path): count and XOR of the hashes of path and content. Only the buckets whose fingerprint
moved are listed, and only the notes in them whose content hash moved are read. A store or an
append so costs a few small queries, whatever the number of notes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..vault import Vault

_BUCKET = "substr(md5(path), 1, 2)"


def bucket(path: str) -> str:
    return hashlib.md5(path.encode("utf-8"), usedforsecurity=False).hexdigest()[:2]


@dataclass
class Changes:
    """Notes added or changed (path, hash, frontmatter, body) and paths gone, since the last look."""

    upserts: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.removed)


class NoteSet:
    """The notes of the index passing ``where`` (an SQL condition over ``notes``)."""

    def __init__(self, vault: Vault, where: str, params: Sequence[Any]) -> None:
        self._vault = vault
        self._where = where
        self._params = list(params)
        self._generation: Any = object()
        self._buckets: dict[str, tuple[int, int]] = {}
        self.hashes: dict[str, str] = {}  # path -> content hash, as last read

    def changes(self) -> Changes:
        generation = self._vault.sql("SELECT value FROM meta WHERE key = 'generation'").first()
        if generation == self._generation:
            return Changes()
        rows = self._vault.sql(
            f"SELECT {_BUCKET} AS b, count(*) AS n, bit_xor(hash(path || coalesce(hash, ''))) AS x "
            f"FROM notes WHERE {self._where} GROUP BY b",
            self._params,
        ).rows
        now = {str(b): (int(n), int(x)) for b, n, x in rows}
        moved = sorted(b for b in set(now) | set(self._buckets) if now.get(b) != self._buckets.get(b))
        out = Changes()
        if moved:
            listed = self._vault.sql(
                f"SELECT path, hash FROM notes WHERE {self._where} AND list_contains(?, {_BUCKET})",
                [*self._params, moved],
            ).rows
            present = {str(p): str(h or "") for p, h in listed}
            wanted = set(moved)
            out.removed = [p for p in self.hashes if p not in present and bucket(p) in wanted]
            fresh = [p for p, h in present.items() if self.hashes.get(p) != h]
            if fresh:
                wanted_paths = set(fresh)
                if len(fresh) <= 32:
                    condition, values = "list_contains(?, path)", fresh
                else:  # list_contains over thousands of paths is a quadratic scan: by bucket
                    condition, values = f"list_contains(?, {_BUCKET})", sorted({bucket(p) for p in fresh})
                rows = self._vault.sql(
                    f"SELECT path, hash, frontmatter, body FROM notes WHERE {self._where} AND {condition}",
                    [*self._params, values],
                ).rows
                for path, digest, front, body in rows:
                    if path not in wanted_paths:
                        continue
                    data = json.loads(front) if isinstance(front, str) else (front or {})
                    out.upserts.append(
                        (
                            str(path),
                            str(digest or ""),
                            data if isinstance(data, dict) else {},
                            str(body or ""),
                        )
                    )
                out.upserts.sort()
            for path in out.removed:
                del self.hashes[path]
            for path, digest, _, _ in out.upserts:
                self.hashes[path] = digest
        self._buckets = now
        self._generation = generation
        return out
