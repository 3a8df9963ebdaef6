"""The team database as one clone sees it: one space, read and written through SQL.

Writers serialise on the space's row in ``team_spaces``: a push locks it (``FOR UPDATE``), takes the
next revision numbers from it and commits while holding it, so revision order is commit order and a
reader that has seen revision n has seen every revision below n. A push is a compare-and-swap per
path: it is accepted only when the server's revision of the path is still the clone's base.
After the commit a ``NOTIFY mdstore_team`` carries ``space:revision`` and nothing else (NOTIFY has no
access control).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, ConfigError
from ..notes.paths import _fold  # the vault's own test for two names that cannot live side by side

if TYPE_CHECKING:
    import psycopg

CHANNEL = "mdstore_team"
_ROW = "path, revision, kind, content_hash, deleted, moved_from, updated_by, updated_at"


@dataclass(frozen=True)
class RemoteNote:
    """The server's current state of one path (``content`` is fetched only when needed)."""

    path: str
    revision: int
    kind: str
    hash: str
    deleted: bool
    moved_from: str | None
    updated_by: str
    updated_at: datetime


@dataclass
class Change:
    """One path a clone pushes: new content, or a tombstone; ``base`` is the revision it edits."""

    path: str
    base: int | None
    kind: str = "note"
    content: bytes = b""
    hash: str = ""
    deleted: bool = False
    moved_from: str | None = None
    # body, frontmatter (or frontmatter_json, its JSON text), title, headings, tags, links
    meta: dict[str, Any] = field(default_factory=dict)


# Reads the bytes (and the description) of the changes it is given, leaving out the files it
# cannot read any more; a change's ``hash`` becomes the one of the bytes read.
Fill = Callable[[list[Change]], list[Change]]


@dataclass
class PushResult:
    accepted: dict[str, int] = field(default_factory=dict)  # path -> its new revision
    adopted: dict[str, int] = field(default_factory=dict)  # the server already had these bytes
    rejected: list[str] = field(default_factory=list)  # the server moved on: pull and merge first
    clashes: list[str] = field(default_factory=list)  # the name differs only in case from another
    revision: int = 0  # the space's revision after the push
    contiguous: bool = False  # nothing of others was committed between the clone's cursor and this push


def open_space(url: str, space: str) -> psycopg.Connection[Any]:
    """A connection to ``url`` checked to hold the team schema and to let this role use ``space``."""
    import psycopg

    from ..pg import connect, describe, not_allowed
    from ..pg.migrations import check_version
    from .schema import COMPONENT, MIGRATIONS

    if not url:
        raise ConfigError("no team database: set [team] url (run `mdstore team init --space NAME`)")
    if not space:
        raise ConfigError("no team space: set [team] space (run `mdstore team init --space NAME`)")
    conn = connect(url)
    try:
        if check_version(conn, COMPONENT, MIGRATIONS) == 0:
            raise BackendUnavailable(
                f"the team database {describe(url)} has no mdstore schema: run `mdstore team init`"
            )
        row = conn.execute("SELECT 1 FROM team_spaces WHERE name = %s", (space,)).fetchone()
        conn.commit()
        if row is None:
            raise BackendUnavailable(
                f"team space {space!r} on {describe(url)} does not exist or this role is not a member of it"
            )
    except psycopg.errors.InsufficientPrivilege as exc:  # a login role outside mdstore_member
        conn.close()
        remedy = f"an administrator makes it a member with `mdstore team members add ROLE --space {space}`"
        raise not_allowed(describe(url), exc, "the team database", remedy) from None
    except BaseException:
        conn.close()
        raise
    return conn


def space_revision(conn: psycopg.Connection[Any], space: str) -> int:
    row = conn.execute("SELECT revision FROM team_spaces WHERE name = %s", (space,)).fetchone()
    conn.commit()
    return int(row[0]) if row else 0


def changes_since(conn: psycopg.Connection[Any], space: str, cursor: int) -> list[RemoteNote]:
    """Every path whose current revision is above ``cursor``, in revision order."""
    rows = conn.execute(
        f"SELECT {_ROW} FROM team_notes WHERE space = %s AND revision > %s ORDER BY revision",
        (space, cursor),
    ).fetchall()
    conn.commit()
    return [RemoteNote(*row) for row in rows]


def notes_at(conn: psycopg.Connection[Any], space: str, paths: Sequence[str]) -> list[RemoteNote]:
    rows = conn.execute(
        f"SELECT {_ROW} FROM team_notes WHERE space = %s AND path = ANY(%s) ORDER BY revision",
        (space, list(paths)),
    ).fetchall()
    conn.commit()
    return [RemoteNote(*row) for row in rows]


def contents(conn: psycopg.Connection[Any], space: str, revisions: Iterable[int]) -> dict[int, bytes]:
    """The bytes of each revision (current or historical)."""
    wanted = sorted(set(revisions))
    if not wanted:
        return {}
    rows = conn.execute(
        "SELECT revision, content FROM team_revisions WHERE space = %s AND revision = ANY(%s)",
        (space, wanted),
    ).fetchall()
    conn.commit()
    return {int(rev): bytes(data) for rev, data in rows}


def revision_with_hash(conn: psycopg.Connection[Any], space: str, path: str, digest: str) -> int | None:
    """The latest revision of ``path`` whose bytes hash to ``digest`` (rebuilding a lost base)."""
    row = conn.execute(
        "SELECT max(revision) FROM team_revisions WHERE space = %s AND path = %s AND content_hash = %s "
        "AND NOT deleted",
        (space, path, digest),
    ).fetchone()
    conn.commit()
    return int(row[0]) if row and row[0] is not None else None


def revisions_by_hash(
    conn: psycopg.Connection[Any], space: str, paths: Sequence[str]
) -> dict[str, dict[str, int]]:
    """For each path, the latest revision of each distinct content it ever had (``revision_with_hash``
    for many paths in one query)."""
    rows = conn.execute(
        "SELECT path, content_hash, max(revision) FROM team_revisions WHERE space = %s "
        "AND path = ANY(%s) AND NOT deleted GROUP BY path, content_hash",
        (space, list(paths)),
    ).fetchall()
    conn.commit()
    out: dict[str, dict[str, int]] = {p: {} for p in paths}
    for path, digest, revision in rows:
        out[path][digest] = int(revision)
    return out


def moves_from(
    conn: psycopg.Connection[Any], space: str, paths: Sequence[str], after: int
) -> list[tuple[str, str, int]]:
    """Where each of ``paths`` was last moved to by a revision above ``after``, as (old path, new
    path, revision): a move is a revision whose ``moved_from`` names the old path."""
    rows = conn.execute(
        "SELECT DISTINCT ON (moved_from) moved_from, path, revision FROM team_revisions "
        "WHERE space = %s AND revision > %s AND moved_from = ANY(%s) AND NOT deleted "
        "ORDER BY moved_from, revision DESC",
        (space, after, list(paths)),
    ).fetchall()
    conn.commit()
    return [(str(old), str(new), int(rev)) for old, new, rev in rows]


def push(
    conn: psycopg.Connection[Any],
    space: str,
    changes: Sequence[Change],
    cursor: int,
    fill: Fill | None = None,
    stage: Stager | None = None,
) -> PushResult:
    """Commit ``changes`` whose base is still the server's revision; one transaction.

    With ``fill``, the changes arrive without their bytes: a small push reads them first, a large
    one while the server writes (the files of the next chunk are read while it writes this one).
    With ``stage``, a large push has the search vectors of each chunk computed in another session
    while this one writes the chunk before (and the search index's new entries merged there)."""
    result = PushResult()
    if fill is not None and len(changes) < COPY_AT:
        changes, fill = fill(list(changes)), None
    if not changes:
        return result
    # A small push is pipelined: the locking read is one round trip, and the writes, the
    # counter's bump and the commit another (COPY, for a large one, cannot be pipelined).
    with conn.pipeline() if len(changes) < COPY_AT else nullcontext(), conn.transaction():
        paths = [c.path for c in changes]
        # Names that differ only in case or in Unicode form (NFC "café", NFD "café" as macOS
        # writes it) cannot live side by side in a vault: their lower-cased forms in both Unicode
        # forms find the server's twins of a name through the index on lower(path).
        lowered = sorted({unicodedata.normalize(form, p).lower() for p in paths for form in ("NFC", "NFD")})
        # Lock the space's row, then read the server's rows of these paths in a second statement:
        # under READ COMMITTED each statement reads from a snapshot taken when it starts, so a read
        # joined into the locking statement would see the rows from before the lock was granted
        # and accept a push based on a revision another writer has just replaced (a lost edit).
        # Pipelined, the two statements are still one round trip.
        locked = conn.execute("SELECT revision FROM team_spaces WHERE name = %s FOR UPDATE", (space,))
        found = conn.execute(
            "SELECT path, revision, content_hash, deleted FROM team_notes WHERE space = %s "
            "AND (path = ANY(%s) OR (lower(path) = ANY(%s) AND NOT deleted))",
            (space, paths, lowered),
        )
        row = locked.fetchone()
        if row is None:
            raise BackendUnavailable(f"team space {space!r} is gone or no longer shared with this role")
        current = int(row[0])
        server: dict[str, tuple[int, str, bool]] = {}
        live_twins: set[str] = set()
        wanted = set(paths)
        for path, rev, digest, deleted in found.fetchall():
            if path in wanted:
                server[path] = (int(rev), digest, bool(deleted))
            else:
                live_twins.add(_fold(path))
        # A name created now that differs only in case or Unicode form from another live name.
        taken = {
            c.path
            for c in changes
            if not c.deleted and (c.path not in server or server[c.path][2]) and _fold(c.path) in live_twins
        }
        accepted: list[Change] = []
        for change in changes:
            have = server.get(change.path)
            if have is not None and have[1] == change.hash and have[2] == change.deleted:
                result.adopted[change.path] = have[0]
            elif change.path in taken:
                result.clashes.append(change.path)
            elif have is None and change.deleted:
                continue  # never shared: nothing to delete
            elif (have[0] if have else None) == change.base:
                accepted.append(change)
            else:
                result.rejected.append(change.path)
        written = _write_rows(conn, space, accepted, current, fill, stage) if accepted else []
        result.accepted.update((change.path, rev) for change, rev in written)
        revision = written[-1][1] if written else current
        if written:
            conn.execute(
                "WITH bump AS (UPDATE team_spaces SET revision = %s WHERE name = %s RETURNING name) "
                "SELECT pg_notify(%s, %s) FROM bump",
                (revision, space, CHANNEL, f"{space}:{revision}"),
            )
        result.revision = revision
        result.contiguous = current == cursor
    return result


COPY_AT = 64  # pushes of at least this many paths go through COPY
_COLS = (
    "path, kind, content, content_hash, body, frontmatter, title, headings, tags, links, revision, "
    "deleted, moved_from, base_revision"
)
_NOTE_COLS = _COLS.removesuffix(", base_revision")
_REVISION_COLS = (
    "path, kind, content, content_hash, frontmatter, revision, deleted, moved_from, base_revision"
)
_UPSERT = (
    " ON CONFLICT (space, path) DO UPDATE SET kind = EXCLUDED.kind, content = EXCLUDED.content, "
    "content_hash = EXCLUDED.content_hash, body = EXCLUDED.body, frontmatter = EXCLUDED.frontmatter, "
    "title = EXCLUDED.title, headings = EXCLUDED.headings, tags = EXCLUDED.tags, links = EXCLUDED.links, "
    "revision = EXCLUDED.revision, deleted = EXCLUDED.deleted, moved_from = EXCLUDED.moved_from"
)


def _write_rows(
    conn: psycopg.Connection[Any],
    space: str,
    changes: list[Change],
    after: int,
    fill: Fill | None,
    stage: Stager | None = None,
) -> list[tuple[Change, int]]:
    """Insert the revisions and upsert the current rows of ``changes``, numbered from ``after`` + 1
    in order; returns each change written with its revision. A small push is two pipelined
    ``executemany``. A large one is COPY'd into a temporary table and inserted from there
    (PostgreSQL refuses COPY FROM into a table under row-level security), chunk by chunk, so that
    reading the files of the next chunk (and the search vectors of a chunk staged in another
    session, ``stage``) overlaps the server's work on this one."""
    if len(changes) < COPY_AT:
        rows = _numbered(fill(changes) if fill else changes, after)
        values = _values(rows)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO team_revisions (space, {_REVISION_COLS}) VALUES (%s, %s, %s, %s, %s, %s, "
                "%s, %s, %s, %s)",
                [(space, v[0], v[1], v[2], v[3], v[5], v[10], v[11], v[12], v[13]) for v in values],
            )
            cur.executemany(
                f"INSERT INTO team_notes (space, {_NOTE_COLS}) VALUES ({', '.join(['%s'] * 14)})" + _UPSERT,
                [(space, *v[:13]) for v in values],
            )
        return rows
    # The first and the last chunk are short: before the first, the server has nothing to do; during
    # the last, the second session has nothing left to stage.
    last = max(FIRST_CHUNK, len(changes) - FIRST_CHUNK)
    chunks = [changes[:FIRST_CHUNK]]
    chunks += [changes[i : min(i + CHUNK, last)] for i in range(FIRST_CHUNK, last, CHUNK)]
    chunks += [changes[last:]] if last < len(changes) else []
    written: list[tuple[Change, int]] = []
    staging = stage if len(changes) >= STAGE_AT else None

    def prepared(i: int) -> Future[list[Change]]:
        """Chunk ``i`` with its bytes read (on the reader's thread) and, when staging, its search
        vectors staged (on the stager's, so that reading the next chunk goes on meanwhile)."""
        read = reader.submit(fill, chunks[i]) if fill else _done(chunks[i])
        if staging is None:
            return read

        def staged() -> list[Change]:
            ready = read.result()
            staging(ready)
            return ready

        return stager.submit(staged)

    with (
        ThreadPoolExecutor(1, thread_name_prefix="mdstore-push-read") as reader,
        ThreadPoolExecutor(1, thread_name_prefix="mdstore-push-stage") as stager,
        conn.cursor() as cur,
    ):
        # The staging rows are compressed too (a few KB each): with lz4 where the server has it.
        # No JIT: these statements are estimated costly enough to be compiled, each chunk, and
        # compiling costs more than it saves on a thousand rows.
        cur.execute(_LZ4_HERE)
        cur.execute("SET LOCAL jit = off")
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS mdstore_push_rows (path text, kind text, content bytea, "
            "content_hash text, body text, frontmatter text, title text, headings text, tags text[], "
            "links text[], revision bigint, deleted boolean, moved_from text, base_revision bigint) "
            "ON COMMIT DELETE ROWS"
        )
        # Two chunks ahead: while the server writes chunk i, chunk i + 1 is staged and i + 2 read.
        ahead = [prepared(i) for i in range(min(2, len(chunks)))]
        for i in range(len(chunks)):
            ready = ahead[i].result()
            if i == 0 and staging is not None and staging.merging:
                # The search index's new entries wait in its pending list, merged into the index by
                # the stager's session between chunks, instead of by this transaction's inserts.
                cur.execute("SELECT set_config('gin_pending_list_limit', %s, true)", (str(PENDING_KB),))
            if i + 2 < len(chunks):
                ahead.append(prepared(i + 2))
            rows = _numbered(ready, after + len(written))
            if not rows:
                continue
            if written:
                cur.execute("TRUNCATE mdstore_push_rows")
            # Binary COPY: bytes travel as they are (text COPY doubles them in hex), and the client
            # spends less of the CPU the server needs. The frontmatter is JSON text until the INSERT.
            with cur.copy(f"COPY mdstore_push_rows ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_COPY_TYPES)
                for value in _values(rows):
                    copy.write_row(value)
            cur.execute(
                f"INSERT INTO team_revisions (space, {_REVISION_COLS}) "
                f"SELECT %s, {_as_jsonb(_REVISION_COLS)} FROM mdstore_push_rows",
                (space,),
            )
            cur.execute(
                f"INSERT INTO team_notes (space, {_NOTE_COLS}) SELECT %s, {_as_jsonb(_NOTE_COLS)} "
                "FROM mdstore_push_rows" + _UPSERT,
                (space,),
            )
            written += rows
    return written


FIRST_CHUNK = 250  # the size of the first chunk and of the last
CHUNK = 1000
STAGE_AT = 1000  # a push of fewer notes computes its search vectors in its own transaction
PENDING_KB = 65536  # a staged push's pending search index entries (a 10k push makes ~60 MB)


class Stager:
    """The second session beside a large push (autocommit: what it stages is visible to the push's
    transaction at once), opened at the first chunk and closed by ``close``. Each call stages the
    search vectors of a chunk that the push will write next; with ``merge`` (schema 8), it then
    merges the search index entries the push has written so far (GIN's pending list) into the
    index, and ``close`` merges what the push left after its commit. If the session fails (a second
    connection refused, say), the push computes the vectors and merges its entries itself, as a
    small push does: the second session only saves time."""

    def __init__(
        self, connect: Callable[[], psycopg.Connection[Any]], space: str, *, merge: bool = False
    ) -> None:
        self._connect = connect
        self._space = space
        self._merge = merge
        self._conn: psycopg.Connection[Any] | None = None
        self._failed = False

    @property
    def merging(self) -> bool:
        """Whether this session merges the search index entries (so the push need not)."""
        return self._merge and self._conn is not None and not self._failed

    def __call__(self, changes: list[Change]) -> None:
        notes = [c for c in changes if c.kind == "note" and not c.deleted]
        if not notes:
            return
        self._run(
            "SELECT mdstore_stage_search(%s, %b, %b, %b)",  # arrays in binary: no text to parse
            (
                self._space,
                [c.meta.get("title", "") for c in notes],
                [c.meta.get("headings", "") for c in notes],
                [c.meta.get("body", "") for c in notes],
            ),
        )
        if self._merge:
            self._run("SELECT mdstore_merge_search_pending()", ())

    def _run(self, statement: str, params: tuple[Any, ...]) -> None:
        import psycopg

        from ..errors import MdstoreError

        if self._failed:
            return
        try:
            if self._conn is None:
                self._conn = self._connect()
                self._conn.autocommit = True
            self._conn.execute(statement, params)
        except (psycopg.Error, MdstoreError):  # (a second connection refused, say)
            self._failed = True

    def close(self) -> None:
        if self.merging:
            self._run("SELECT mdstore_merge_search_pending()", ())
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _done(value: list[Change]) -> Future[list[Change]]:
    future: Future[list[Change]] = Future()
    future.set_result(value)
    return future


def _numbered(changes: list[Change], after: int) -> list[tuple[Change, int]]:
    return [(change, after + i) for i, change in enumerate(changes, 1)]


def _values(rows: list[tuple[Change, int]]) -> list[tuple[Any, ...]]:
    return [
        (
            c.path, c.kind, c.content, c.hash, c.meta.get("body", ""), _frontmatter(c.meta),
            c.meta.get("title", ""), c.meta.get("headings", ""), list(c.meta.get("tags", ())),
            list(c.meta.get("links", ())), rev, c.deleted, c.moved_from, c.base,
        )
        for c, rev in rows
    ]  # fmt: skip


_LZ4_HERE = (
    "SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
    "WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)"
)
_COPY_TYPES = (
    "text", "text", "bytea", "text", "text", "text", "text", "text", "text[]", "text[]", "int8", "bool",
    "text", "int8",
)  # fmt: skip


def _as_jsonb(columns: str) -> str:
    return columns.replace("frontmatter", "frontmatter::jsonb")


def _frontmatter(meta: dict[str, Any]) -> str:
    text = meta.get("frontmatter_json")  # JSON text as the vault's index keeps it
    if text is None:
        return _json(meta.get("frontmatter"))
    if "NaN" in text or "Infinity" in text:  # maybe a YAML .nan / .inf, which JSON cannot hold
        return _json(json.loads(text))
    return text.replace("\\u0000", "")


def _json(value: Any) -> str:
    # Dates and other YAML types become strings as the vault's index writes them (ISO 8601), so a
    # note parsed here and one taken from the index store the same JSON; NUL cannot be in jsonb.
    from ..index.rows import json_default

    try:
        text = json.dumps(value or {}, default=json_default, ensure_ascii=False, allow_nan=False)
    except ValueError:  # .nan, .inf and -.inf: PostgreSQL's JSON has no such numbers
        text = json.dumps(_finite(value), default=json_default, ensure_ascii=False)
    return text.replace("\\u0000", "")


def _finite(value: Any) -> Any:
    """``value`` with each NaN or infinite float written as text ('nan', 'inf', '-inf')."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(v) for v in value]
    return value


def history(conn: psycopg.Connection[Any], space: str, path: str | None, limit: int) -> list[tuple[Any, ...]]:
    """Revisions, newest first, with the author's display name where the member record has one."""
    where = "r.space = %s" + (" AND (r.path = %s OR r.moved_from = %s)" if path else "")
    params: list[Any] = [space, *([path, path] if path else []), limit]
    rows = conn.execute(
        "SELECT r.revision, r.path, r.updated_by, coalesce(nullif(m.display_name, ''), r.updated_by), "
        "r.updated_at, r.deleted, r.moved_from, r.content_hash, r.base_revision "
        "FROM team_revisions r LEFT JOIN team_members m ON m.space = r.space AND m.role = r.updated_by "
        f"WHERE {where} ORDER BY r.revision DESC LIMIT %s",
        params,
    ).fetchall()
    conn.commit()
    return rows


def display_name(conn: psycopg.Connection[Any], space: str) -> str:
    """This role's display name in the space ('' if its member record has none)."""
    row = conn.execute(
        "SELECT display_name FROM team_members WHERE space = %s AND role = session_user", (space,)
    ).fetchone()
    conn.commit()
    return str(row[0]) if row and row[0] else ""


def role_name(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT session_user").fetchone()
    conn.commit()
    return str(row[0]) if row else ""
