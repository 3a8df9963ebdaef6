"""Session logs: append-only lists of entries, one note per session,
``<folder>/sessions/<YYYY-MM-DD>/<session>.md`` (the day of its first entry).

Each entry is a readable block of the note::

    <!-- entry 3f2a9c1e0b7d4a55 -->
    **user** · 2026-12-05T14:03:24.120Z

    The text of the message.

Appends go to the session's durable journal (journal.py) and reach the note in batches: when
``flush_entries`` are waiting, or ``flush_seconds`` after the first of them, from a background
thread; ``flush()`` and ``close()`` write them at once. Readers (``range``, ``length``) merge the
note with the journal, so every acknowledged entry is visible to every process at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MdstoreError, NoteNotFound, ValidationError, WriteConflict
from .journal import SessionJournal
from .naming import digest, note_stem
from .records import Entry, as_utc, iso, utc_now
from .writebehind import WriteBehind

if TYPE_CHECKING:
    from ..config import MemorySettings
    from ..vault import Vault


_MARK = re.compile(r"^<!-- entry ([\w-]+) -->$", re.MULTILINE)
_ESCAPED = re.compile(r"^(\\*<!-- entry )", re.MULTILINE)
_UNESCAPE = re.compile(r"^\\(\\*<!-- entry )", re.MULTILINE)
_HEAD = re.compile(r"^\*\*(.+?)\*\* · (\S+)$")


def render(record: Mapping[str, Any]) -> str:
    content = _ESCAPED.sub(r"\\\1", str(record["content"]).rstrip("\n"))
    return f"<!-- entry {record['id']} -->\n**{record['role']}** · {record['time']}\n\n{content}\n"


def parse_entries(body: str) -> list[Entry]:
    """The entries of a session note's body, in order (text before the first mark is ignored)."""
    marks = list(_MARK.finditer(body))
    out = []
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(body)
        head, _, rest = body[mark.end() + 1 : end].partition("\n")
        found = _HEAD.match(head.strip())
        role, stamp = (found.group(1), found.group(2)) if found else ("unknown", "")
        try:
            moment = as_utc(stamp, "time")
        except MdstoreError:
            moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        content = _UNESCAPE.sub(r"\1", rest.removeprefix("\n").rstrip("\n"))
        out.append(Entry(mark.group(1), role, content, moment))
    return out


def _part_number(front: Any) -> int:
    try:
        return max(int(front.get("part") or 1), 1) if isinstance(front, Mapping) else 1
    except (TypeError, ValueError):
        return 1


def journal_folder(vault: Vault, session: str) -> Path:
    return vault.config.state_dir / "memory" / "sessions" / digest(session)[:20]


class SessionLog:
    """The log of one session. Get it with ``vault.memory.log(session)``."""

    def __init__(
        self,
        vault: Vault,
        folder: str,
        session: str,
        settings: MemorySettings,
        flush_turn: threading.Lock | None = None,
    ) -> None:
        note_stem(session, "session")  # validates the name
        self.session = session
        self._vault = vault
        self._folder = folder
        self._settings = settings
        self._journal = SessionJournal(journal_folder(vault, session), session, fsync=settings.fsync)
        self._parts: list[str] = []
        # ``flush_turn`` is shared by the logs of one Memory: their flushes take turns there rather
        # than time out waiting for the index, which only one writer at a time may hold.
        self._behind = WriteBehind(
            self._journal, settings, self._write, name=f"log-{session}", turn=flush_turn
        )
        self._remembered = False

    def __repr__(self) -> str:
        return f"<SessionLog {self.session!r}>"

    @property
    def waiting(self) -> int:
        """Entries this object appended that are not yet in the note."""
        return self._behind.waiting

    # -- writing -------------------------------------------------------------------------------

    def append(self, entry: str | Mapping[str, Any], *, role: str = "user") -> Entry:
        """Add an entry (text, or a mapping with ``content`` and optionally ``role`` and
        ``time``); durable once this returns."""
        if isinstance(entry, Mapping):
            content = entry.get("content")
            role = entry.get("role", role)
            moment = as_utc(entry["time"], "entry time") if entry.get("time") is not None else utc_now()
        else:
            content, moment = entry, utc_now()
        if not isinstance(content, str) or not content.strip():
            raise ValidationError(f"session {self.session!r}: an entry needs non-empty text content")
        if not isinstance(role, str) or not role.strip() or "\n" in role or "*" in role or len(role) > 40:
            raise ValidationError(
                f"session {self.session!r}: role {role!r} must be one short line without '*'"
            )
        record = {"id": uuid.uuid4().hex[:16], "role": role.strip(), "content": content, "time": iso(moment)}
        if not self._remembered:
            self._journal.remember_session()
            self._remembered = True
        self._journal.write(record)
        self._behind.acknowledged()
        return Entry(record["id"], record["role"], content, moment)

    def flush(self) -> int:
        """Write the waiting entries (of every process) to the note now; returns how many."""
        return self._behind.flush()

    def close(self) -> None:
        """Flush and stop the background flusher (``vault.close()`` does it)."""
        self._behind.close()

    # -- reading -------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        pending = self._journal.pending()  # first: a flush meanwhile only moves them into the note
        written = []
        for path in self.parts():
            indexed = self._indexed(path)
            if indexed is not None:
                written += parse_entries(indexed[1])
        seen = {e.id for e in written}
        for r in pending:
            if r["id"] not in seen:
                seen.add(r["id"])
                written.append(Entry(r["id"], r["role"], r["content"], as_utc(r["time"], "time")))
        return written

    def range(self, start: int = 0, end: int | None = None) -> list[Entry]:
        """Entries ``start`` to ``end`` (exclusive), with Python's slice rules: ``range(-10)``
        is the last ten."""
        for name, value in (("start", start), ("end", end)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValidationError(f"range {name} must be an integer, not {value!r}")
        return self.entries()[start:end]

    def length(self) -> int:
        return len(self.entries())

    def path(self) -> str | None:
        """The vault path of the session's note (its first part; None before the first flush);
        follows Dream's moves."""
        parts = self.parts()
        return parts[0] if parts else None

    def parts(self) -> list[str]:
        """The paths of the session's notes, in order: a session grows by notes of at most
        ``[memory] part_entries`` entries, so an append never rewrites a long note."""
        if self._parts and self._vault.sql("SELECT 1 FROM notes WHERE path = ?", [self._parts[-1]]).rows:
            return list(self._parts)
        found = self._vault.find(
            where={"type": "session", "session": self.session}, folder=self._folder, limit=None
        )
        numbered = sorted(
            (_part_number(row.get("frontmatter")), str(row["path"])) for row in found.to_dicts()
        )
        self._parts = [path for _, path in numbered]
        return list(self._parts)

    # -- internals -----------------------------------------------------------------------------

    def _write(self, records: list[dict[str, Any]]) -> int:
        unique = list({r["id"]: r for r in records}.values())
        parts = self.parts()
        if not parts:  # the first flush creates the note with its entries
            with self._vault.batch() as b:
                self._parts = self._new_parts(b, unique, 1, 0, None)
            return len(unique)
        try:
            return self._append(parts, unique)
        except WriteConflict:  # edited by hand since the last sync: index the file, then retry
            self._vault.sync(paths=parts[-2:])
            self._parts = []
            return self._append(self.parts(), unique)

    def _append(self, parts: list[str], records: list[dict[str, Any]]) -> int:
        """Add ``records`` to the last part, and new parts when it is full. Reads and writes only
        the last part (and the one before it, for the ids a crashed flush may have written): the
        cost does not grow with the session."""
        path = parts[-1]
        indexed = self._indexed(path)
        if indexed is None:
            raise NoteNotFound(f"session note {path} disappeared")
        digest_, body = indexed
        known = {m.group(1) for m in _MARK.finditer(body)}
        for before in parts[-2:-1]:
            earlier = self._indexed(before)
            if earlier is not None:
                known |= {m.group(1) for m in _MARK.finditer(earlier[1])}
        fresh = [r for r in records if r["id"] not in known]
        if not fresh:
            return 0
        front = self._front(path)
        held = sum(1 for _ in _MARK.finditer(body))
        room = max(self._settings.part_entries - held, 0)
        here, rest = fresh[:room], fresh[room:]
        with self._vault.batch() as b:
            if here:
                b.append(path, "\n" + "\n".join(render(r) for r in here), if_hash=digest_)
                b.update(path, set={"entries": held + len(here), "last": here[-1]["time"]})
            if rest:
                number = _part_number(front) + 1
                offset = int(front.get("offset") or 0) + held + len(here)
                added = self._new_parts(b, rest, number, offset, path)
        if rest:
            self._parts = parts + added
        return len(fresh)

    def _new_parts(
        self,
        batch: Any,
        records: list[dict[str, Any]],
        number: int,
        offset: int,
        after: str | None,
    ) -> list[str]:
        """Create the notes for ``records`` from part ``number`` on, in ``batch``, beside the part
        ``after``. Each part's ``started`` is its own first entry's time, so Dream's window sees
        each part for the time it covers."""
        size = self._settings.part_entries
        # The first part goes under the day of its first entry; later ones beside the part before.
        folder = (
            f"{self._folder}/sessions/{str(records[0]['time'])[:10]}"
            if after is None
            else after.rsplit("/", 1)[0]
        )
        stem = note_stem(self.session, "session")
        paths = []
        for start in range(0, len(records), size):
            chunk = records[start : start + size]
            name = stem if number == 1 else f"{stem} ({number})"
            path = f"{folder}/{name}.md"
            front: dict[str, Any] = {
                "type": "session",
                "session": self.session,
                "started": chunk[0]["time"],
                "entries": len(chunk),
                "last": chunk[-1]["time"],
            }
            if number > 1:
                front |= {"part": number, "offset": offset}
                title = f"# Session {self.session} (part {number})\n\n"
            else:
                title = f"# Session {self.session}\n\n"
            batch.create(path, front, title + "\n".join(render(r) for r in chunk))
            paths.append(path)
            number += 1
            offset += len(chunk)
        return paths

    def _front(self, path: str) -> dict[str, Any]:
        row = self._vault.sql("SELECT frontmatter FROM notes WHERE path = ?", [path]).first()
        data = json.loads(row["frontmatter"]) if row and isinstance(row["frontmatter"], str) else None
        return data if isinstance(data, dict) else {}

    def _indexed(self, path: str) -> tuple[str, str] | None:
        """The note's hash and body as indexed. Cheaper than ``get`` (which parses the whole
        Markdown of a long session); writes made through mdstore are indexed before they return,
        and a hand edit not yet indexed fails the write's hash check instead of being lost."""
        row = self._vault.sql("SELECT hash, body FROM notes WHERE path = ?", [path]).first()
        return (str(row["hash"]), str(row["body"] or "")) if row else None
