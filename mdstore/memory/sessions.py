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
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import MdstoreError, NoteNotFound, ValidationError, WriteConflict
from ..notes.frontmatter import read_frontmatter
from .journal import SessionJournal
from .naming import digest, encodable, note_stem
from .records import Entry, as_utc, iso, utc_now
from .writebehind import WriteBehind

if TYPE_CHECKING:
    from ..config import MemorySettings
    from ..vault import Vault


_MARK = re.compile(r"^<!-- entry ([\w-]+) -->$", re.MULTILINE)
_ESCAPED = re.compile(r"^(\\*<!-- entry )", re.MULTILINE)
_UNESCAPE = re.compile(r"^\\(\\*<!-- entry )", re.MULTILINE)
_HEAD = re.compile(r"^\*\*(.+?)\*\* · (\S+)( · escaped)?$")
# A NUL byte makes the note a binary file (indexed by path only); a CR is read as a line end. An
# entry holding either is written "escaped": those and backslashes as JSON writes them.
_NOT_TEXT = re.compile(r"[\x00\r]")
_CHAR = re.compile(r"[\\\x00\r]")
_UNCHAR = re.compile(r"\\(\\|u[0-9a-f]{4})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Room for a part's frontmatter and title beside its entries, under [vault] max_note_bytes.
_PART_OVERHEAD = 1024


def render(record: Mapping[str, Any]) -> str:
    content = str(record["content"]).rstrip("\n")
    flag = ""
    if _NOT_TEXT.search(content):
        content = _CHAR.sub(lambda m: "\\\\" if m.group() == "\\" else f"\\u{ord(m.group()):04x}", content)
        flag = " · escaped"
    content = _ESCAPED.sub(r"\\\1", content)
    return f"<!-- entry {record['id']} -->\n**{record['role']}** · {record['time']}{flag}\n\n{content}\n"


def _unescape(text: str) -> str:
    return _UNCHAR.sub(lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), text)


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
        if found and found.group(3):
            content = _unescape(content)
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
        if not encodable(content):
            raise ValidationError(
                f"session {self.session!r}: the entry's content is not Unicode text (a lone surrogate)"
            )
        if (
            not isinstance(role, str)
            or not role.strip()
            or "*" in role
            or len(role) > 40
            or _CONTROL.search(role)
            or not encodable(role)
        ):
            raise ValidationError(
                f"session {self.session!r}: role {role!r} must be one short line without '*' "
                "or control characters"
            )
        record = {"id": uuid.uuid4().hex[:16], "role": role.strip(), "content": content, "time": iso(moment)}
        size = len(render(record).encode("utf-8"))
        if size > self._part_limit():
            raise ValidationError(
                f"session {self.session!r}: the entry ({size} bytes) does not fit in a session note "
                f"([vault] max_note_bytes is {self._vault.config.vault.max_note_bytes})"
            )
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
            part = self._part(path)
            if part is not None:
                written += parse_entries(part.body)
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
        numbered = {str(row["path"]): _part_number(row.get("frontmatter")) for row in found.to_dicts()}
        for path in self._unindexed():
            front = self._part(path)
            if front is not None and front.front.get("session") == self.session:
                numbered[path] = _part_number(front.front)
        self._parts = [path for path, _ in sorted(numbered.items(), key=lambda item: (item[1], item[0]))]
        return list(self._parts)

    # -- internals -----------------------------------------------------------------------------

    def _part_limit(self) -> int:
        """The bytes a part's body may take: past ``[vault] max_note_bytes`` a note is indexed by
        path only, and its entries could no longer be read from the index."""
        name = len(self.session.encode("utf-8"))
        return self._vault.config.vault.max_note_bytes - _PART_OVERHEAD - 4 * name

    def _write(self, records: list[dict[str, Any]]) -> int:
        unique = list({r["id"]: r for r in records}.values())
        parts = self.parts()
        if not parts:  # the first flush creates the note with its entries
            with self._vault.batch() as b:
                self._parts = self._new_parts(b, self._chunks(unique, 0, 0), 1, 0, None)
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
        last = self._part(path)
        if last is None:
            raise NoteNotFound(f"session note {path} disappeared")
        known = {m.group(1) for m in _MARK.finditer(last.body)}
        for before in parts[-2:-1]:
            earlier = self._part(before)
            if earlier is not None:
                known |= {m.group(1) for m in _MARK.finditer(earlier.body)}
        fresh = [r for r in records if r["id"] not in known]
        if not fresh:
            return 0
        held = sum(1 for _ in _MARK.finditer(last.body))
        # A part Dream archived is consolidated, and one the index cannot read (a NUL byte written
        # by hand or by an older version, over the size limit) would stay unread: either is left
        # as it is, and the session goes on in a new part (under sessions/, for the next Dream).
        archived = path.startswith(f"{self._folder}/archive/")
        full = self._settings.part_entries if archived or not last.indexed else held
        here, *rest = self._chunks(fresh, full, len(last.body.encode("utf-8")))
        with self._vault.batch() as b:
            if here:
                b.append(path, "\n" + "\n".join(render(r) for r in here), if_hash=last.hash)
                b.update(path, set={"entries": held + len(here), "last": here[-1]["time"]})
            if rest:
                number = _part_number(last.front) + 1
                try:
                    offset = int(last.front.get("offset") or 0) + held + len(here)
                except (TypeError, ValueError):
                    offset = held + len(here)
                added = self._new_parts(b, rest, number, offset, None if archived else path)
        if rest:
            self._parts = parts + added
        return len(fresh)

    def _chunks(self, records: list[dict[str, Any]], count: int, size: int) -> list[list[dict[str, Any]]]:
        """``records`` cut into parts: the first continues a part of ``count`` entries and ``size``
        bytes (it may get none), each further one is a new part. A part holds at most
        ``part_entries`` entries and ``_part_limit()`` bytes (but always one entry)."""
        limit = self._part_limit()
        chunks: list[list[dict[str, Any]]] = [[]]
        for record in records:
            more = len(render(record).encode("utf-8")) + 1
            if count >= self._settings.part_entries or (count and size + more > limit):
                chunks.append([])
                count = size = 0
            chunks[-1].append(record)
            count += 1
            size += more
        return chunks

    def _new_parts(
        self,
        batch: Any,
        chunks: list[list[dict[str, Any]]],
        number: int,
        offset: int,
        after: str | None,
    ) -> list[str]:
        """Create a note for each of ``chunks`` from part ``number`` on, in ``batch``, beside the
        part ``after`` (None: under ``sessions/``). Each part's ``started`` is its own first
        entry's time, so Dream's window sees each part for the time it covers."""
        # A first part (or one after an archived part) goes under the day of its first entry;
        # later ones beside the part before.
        folder = (
            f"{self._folder}/sessions/{str(chunks[0][0]['time'])[:10]}"
            if after is None
            else after.rsplit("/", 1)[0]
        )
        stem = note_stem(self.session, "session")
        paths = []
        for chunk in chunks:
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

    def _part(self, path: str) -> _Part | None:
        """A part's hash, frontmatter and body as indexed. Cheaper than ``get`` (which parses the
        whole Markdown of a long session); writes made through mdstore are indexed before they
        return, and a hand edit not yet indexed fails the write's hash check instead of being
        lost. A part the index holds by path only (a NUL byte, over the size limit) is read from
        its file."""
        row = self._vault.sql(
            "SELECT hash, frontmatter, body, error FROM notes WHERE path = ?", [path]
        ).first()
        if row is None:
            return None
        if row["error"] and not row["body"]:
            try:
                raw = (self._vault.root / path).read_bytes()
            except OSError:
                return None
            text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
            found = read_frontmatter(text.replace("\r\n", "\n"))
            return _Part(str(row["hash"]), found.data, found.body, indexed=False)
        data = json.loads(row["frontmatter"]) if isinstance(row["frontmatter"], str) else None
        front = data if isinstance(data, dict) else {}
        return _Part(str(row["hash"]), front, str(row["body"] or ""), indexed=True)

    def _unindexed(self) -> list[str]:
        """Notes named like this session's parts that the index holds by path only."""
        stem = note_stem(self.session, "session")
        rows = self._vault.sql(
            "SELECT path FROM notes WHERE error IS NOT NULL AND coalesce(body, '') = '' "
            "AND starts_with(path, ?) AND (name = ? OR starts_with(name, ?))",
            [f"{self._folder}/", stem, f"{stem} ("],
        )
        return [str(r["path"]) for r in rows.to_dicts()]


class _Part(NamedTuple):
    hash: str
    front: dict[str, Any]
    body: str
    indexed: bool  # False: read from the file (the index holds the note by path only)
