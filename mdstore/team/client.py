"""``vault.team``: the team tier's methods, one namespace on the vault (each is also a
``mdstore team`` command of the same words).

A sync holds ``.mdstore/team.lock`` so the watcher and a command never sync one clone at once.
When the server cannot be reached the vault keeps working: changes stay in the files (the outbox
is the difference between each file and its base), ``status`` says the server is unreachable, and
the next sync sends them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, ConfigError, SyncConflict
from ..result import Result
from ..search.protocol import SearchResults
from .report import TeamSyncReport

if TYPE_CHECKING:
    import psycopg

    from ..config import Config, TeamSettings
    from ..vault import Vault
    from .state import ClientState
    from .upgrade import UpgradeReport

URL_REFERENCE = "${MDSTORE_TEAM_URL}"
_SPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # the schema's CHECK on team_spaces.name
_LOCK = "team.lock"


class Team:
    """The team tier of one vault: ``vault.team.sync()``, ``.status()``, ``.conflicts()``, ``.log()``."""

    def __init__(self, vault: Vault, *, config: Config | None = None) -> None:
        self._vault = vault
        self._config: Config = config or vault.config  # another config: an upgrade's first sync
        # Kept between syncs (a watcher syncs often): the checked connection and the loaded state.
        self._conn: psycopg.Connection[Any] | None = None
        self._loaded: tuple[tuple[tuple[int, int], ...], ClientState] | None = None
        self._name = ""
        self._schema: tuple[psycopg.Connection[Any], int] | None = None  # (connection, its version)

    def close(self) -> None:
        """Close the team database connection (``Vault.close`` does it)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection is closed anyway
                pass

    @property
    def settings(self) -> TeamSettings:
        return self._config.team

    # -- setting up ------------------------------------------------------------------------------

    def init(self, space: str, *, url: str | None = None) -> dict[str, Any]:
        """Share this vault as ``space``: write ``[team]`` to mdstore.toml (the URL as a
        ``${MDSTORE_TEAM_URL}`` reference unless ``url`` is given; never a password), apply the
        schema migrations and create the space. Returns what was done."""
        from ..config import load_config
        from ..pg import connect, describe, refuse_password
        from .settings_file import write_team_settings

        if url is not None:
            refuse_password(url)
        if not _SPACE_NAME.match(space):
            raise ConfigError(f"space {space!r}: use letters, digits, '_', '.' or '-' (at most 63)")
        stored = url or URL_REFERENCE
        # mdstore.toml is written only once the connection works: a failed init leaves it as it was.
        expanded = load_config(self._vault.root, overrides={"team": {"url": stored}}).team.database_url()
        if not expanded:
            raise ConfigError("no team database URL: set MDSTORE_TEAM_URL (or pass --url)")
        server = describe(expanded)
        with connect(expanded) as conn:
            import psycopg  # installed: connect() said so

            try:
                applied = _migrate(conn)
                known = conn.execute("SELECT 1 FROM team_spaces WHERE name = %s", (space,)).fetchone()
                if known is None:
                    conn.execute(
                        "INSERT INTO team_spaces (name) VALUES (%s) ON CONFLICT DO NOTHING", (space,)
                    )
                conn.commit()
            except psycopg.errors.InsufficientPrivilege:
                raise BackendUnavailable(
                    f"this role cannot set up space {space!r} on {server}: an administrator runs "
                    f"`mdstore team init --space {space}` and `mdstore team members add ROLE --space {space}`"
                ) from None
        write_team_settings(self._vault.root, stored, space)
        self._config = load_config(self._vault.root)
        return {"space": space, "server": server, "migrations": applied}

    def upgrade(
        self,
        space: str,
        *,
        url: str | None = None,
        dry_run: bool = False,
        resume: bool = False,
        backup_to: str | os.PathLike[str] | None = None,
    ) -> UpgradeReport:
        """Move this local vault to the team tier as ``space``: back it up (to ``backup_to``, default
        ``.mdstore/backups/``), create the schema and the space, push every note and attachment,
        move the spool's waiting jobs into the team queue under their ids, verify both sides, and
        only then set ``[tier]`` and ``[team]`` in mdstore.toml. ``url`` is stored as given
        (default: the ``${MDSTORE_TEAM_URL}`` reference; never a password). An interrupted upgrade
        finishes when run again; a space that exists already is refused unless ``resume`` (this
        vault's notes are then merged into it). ``dry_run`` only says what would be done."""
        from .upgrade import upgrade

        return upgrade(
            self._vault, space, url=url or URL_REFERENCE, dry_run=dry_run, resume=resume, backup_to=backup_to
        )

    def members_add(
        self, role: str, *, space: str | None = None, display_name: str = "", email: str = ""
    ) -> dict[str, Any]:
        """Let the PostgreSQL role ``role`` use ``space`` (default: this vault's): creates the
        login role if missing (its password is set by the administrator, never by mdstore), grants
        it the member group and adds its member record. Needs an administrator's connection."""
        from .members import add_member

        target = space or self.settings.space
        if not target:
            raise ConfigError("which space? pass --space or run `mdstore team init --space NAME`")
        with self._connect(check=False) as conn:
            return add_member(conn, target, role, display_name=display_name, email=email)

    # -- syncing ---------------------------------------------------------------------------------

    def sync(self, *, policy: str | None = None, paths: Iterable[str] | None = None) -> TeamSyncReport:
        """Pull everyone else's changes, merge, push this clone's. ``policy`` overrides
        ``[team] policy`` for this sync (keep-both, mine, theirs, fail). ``paths`` says that only
        those files may have changed here since the last sync (the watcher knows; otherwise every
        file's stat is checked)."""
        from ..index.lock import OwnerLock
        from .conflicts import POLICIES
        from .exchange import Exchange
        from .remote import Stager
        from .schema import MERGED_SEARCH_SINCE, STAGED_SEARCH_SINCE

        settings = self.settings
        if policy is not None:
            if policy not in POLICIES:
                raise ConfigError(f"policy {policy!r} is not one of {', '.join(POLICIES)}")
            settings = replace(settings, policy=policy)
        lock = OwnerLock(
            self._config.state_dir, role="mdstore team sync", name=_LOCK, subject="the team state"
        )
        with lock.hold(self._config.index.busy_timeout):
            for attempt in (1, 2):
                state = self._state()
                kept = self._conn is not None
                try:
                    conn = self._session()
                    # A large push has a second session beside it where the schema can use one.
                    version = self._schema_version(conn)
                    stager = None
                    if version >= STAGED_SEARCH_SINCE:
                        side = partial(self._connect, check=False)
                        merge = version >= MERGED_SEARCH_SINCE
                        stager = partial(Stager, side, settings.space, merge=merge)
                    author = partial(self._author, conn)
                    exchange = Exchange(self._vault, conn, settings, state, author, stager)
                    report = exchange.run(None if paths is None else set(paths))
                except BaseException as exc:
                    self.close()  # a failed sync may leave the connection in any state: start afresh
                    self._loaded = None  # and re-read the state that was last saved
                    if isinstance(exc, Exception):
                        state.last_error = _translated(exc)
                        state.save(self._config.state_dir)
                    if _is_connection_loss(exc):
                        if kept and attempt == 1:
                            continue  # the kept connection died (server restarted): once more, afresh
                        raise BackendUnavailable(
                            f"lost the team database {self._server()}: {state.last_error}"
                        ) from None
                    raise
                break
            self._save(state)
        if settings.policy == "fail" and report.conflicts:
            raise SyncConflict(
                "edits overlap in "
                + ", ".join(report.conflicts)
                + " (policy fail): nothing was changed there"
            )
        return report

    def status(self) -> dict[str, Any]:
        """The space, how many local changes wait to be pushed, how far behind the server this clone
        is, when it last synced and whether the server can be reached now."""
        from . import remote
        from .local import not_shared, scan_files

        state = self._state()
        view = scan_files(self._config, state)
        waiting = sum(
            1 for p, f in view.files.items() if (b := state.bases.get(p)) is None or b.hash != f.hash
        )
        waiting += sum(1 for p, b in state.bases.items() if b.hash and p not in view.files)
        out: dict[str, Any] = {
            "space": self.settings.space,
            "server": self._server(),
            "revision": state.cursor,
            "waiting": waiting,
            "not_shared": not_shared(view, state),
            "last_sync": state.last_sync,
            "last_error": state.last_error,
        }
        try:
            with self._connect() as conn:
                out["server_revision"] = remote.space_revision(conn, self.settings.space)
                out["reachable"] = True
        except BackendUnavailable as exc:
            out["reachable"] = False
            out["last_error"] = str(exc)
        return out

    def conflicts(self) -> Result:
        """The conflict copies in the vault: path, original, date, author."""
        from ..index.scan import IgnoreRules, scan
        from .conflicts import parse_copy

        listing = scan(
            self._config.root,
            IgnoreRules(self._config.root, self._config.vault.ignore),
            self._config.vault.extensions,
        )
        rows = []
        for path in sorted([*listing.notes, *listing.attachments]):
            found = parse_copy(path)
            if found is not None:
                rows.append((path, *found))
        return Result(["path", "original", "date", "author"], rows)

    def log(self, path: str | None = None, *, limit: int = 50) -> Result:
        """The space's revisions, newest first (of one path, when given, including moves to it)."""
        from . import remote

        with self._connect() as conn:
            rows = remote.history(conn, self.settings.space, path, limit)
        out = []
        for rev, p, role, name, at, deleted, moved_from, digest, base in rows:
            action = (
                "delete" if deleted else ("move" if moved_from else ("create" if base is None else "edit"))
            )
            out.append((rev, p, action, name, role, at, moved_from, digest[:12]))
        return Result(["revision", "path", "action", "author", "role", "at", "moved_from", "hash"], out)

    # -- team queries ----------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 10, offset: int = 0) -> SearchResults:
        """Full-text search over the whole space on the server (web-search syntax: words,
        ``"a phrase"``, ``-word``, ``or``), ranked title > headings > body, with snippets."""
        from .search import search

        return search(self._session(), self.settings.space, text, limit=limit, offset=offset)

    def find(self, *filters: Any, **options: Any) -> Result:
        """Notes of the whole space on the server matching every filter, in the local ``find``'s
        language (``"status = active"``, ``"#project"``, ``where=``, ``tag=``, ``folder=``,
        ``modified_after=``/``_before``, ``modified_by=`` (the member who last changed it), ``sort=``,
        ``limit=``, ``offset=``): path, title, folder, modified, updated_by, revision, size, tags,
        frontmatter."""
        from .query import find

        conn = self._session()
        return find(conn, self.settings.space, *filters, schema=self._schema_version(conn), **options)

    # -- internals -------------------------------------------------------------------------------

    def _state(self) -> ClientState:
        """The client state, from memory unless the file changed since this object read or wrote it."""
        from .state import ClientState

        key = self._state_key()
        if self._loaded is not None and self._loaded[0] == key:
            return self._loaded[1]
        state = ClientState.load(self._config.state_dir, f"{self._server()}#{self.settings.space}")
        self._loaded = (key, state)
        return state

    def _save(self, state: ClientState) -> None:
        state.save(self._config.state_dir)
        self._loaded = (self._state_key(), state)

    def _state_key(self) -> tuple[tuple[int, int], ...]:
        """Changes whenever any process writes the state (a rewrite or an appended record)."""
        from .state import LOG_FILE, STATE_FILE

        return (_stat_key(self._config.state_dir / STATE_FILE), _stat_key(self._config.state_dir / LOG_FILE))

    def _session(self) -> psycopg.Connection[Any]:
        """The kept connection (checked once when opened), or a new one."""
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _schema_version(self, conn: psycopg.Connection[Any]) -> int:
        """The team schema version of the database behind ``conn`` (read once per connection)."""
        from ..pg.migrations import check_version
        from .schema import COMPONENT, MIGRATIONS

        if self._schema is None or self._schema[0] is not conn:
            version = check_version(conn, COMPONENT, MIGRATIONS)
            conn.commit()
            self._schema = (conn, version)
        return self._schema[1]

    def _server(self) -> str:
        from ..pg import describe

        url = self.settings.database_url()
        return describe(url) if url else "(no [team] url)"

    def _connect(self, *, check: bool = True) -> psycopg.Connection[Any]:
        from ..pg import connect
        from .remote import open_space

        url = self.settings.database_url()
        if not url:
            raise ConfigError("no team database: set [team] url (run `mdstore team init --space NAME`)")
        return open_space(url, self.settings.space) if check else connect(url)

    def _author(self, conn: psycopg.Connection[Any]) -> str:
        """The name conflict copies carry: the member record's, else git's, else the role."""
        from . import remote

        if not self._name:
            self._name = (
                remote.display_name(conn, self.settings.space)
                or self._config.git.author_name
                or _git_user(self._config.root)
                or remote.role_name(conn)
            )
        return self._name


def _stat_key(path: Any) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def _migrate(conn: psycopg.Connection[Any]) -> int:
    """Bring the team database up to date: the team's tables, then the job queue's (whose rights go
    to the member group the team's migrations make). How many migrations ran; none, and no DDL, when
    it is current (as a member's ``team init`` finds it)."""
    import psycopg

    from ..pg import apply_migrations
    from ..queue import postgres_schema as queue
    from . import schema as team

    applied = apply_migrations(conn, team.COMPONENT, team.MIGRATIONS)
    try:
        applied += apply_migrations(conn, queue.COMPONENT, queue.MIGRATIONS)
    except psycopg.errors.InsufficientPrivilege:
        # A member joining before the administrator updated the queue: syncing works meanwhile,
        # and the team queue says in one line what to do when it is used.
        conn.rollback()
    return len(applied)


def _git_user(root: Any) -> str:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "config", "user.name"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip()


def _is_connection_loss(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def _translated(exc: Exception) -> str:
    from ..pg.connect import first_line

    return first_line(exc)
