"""Moving a vault from the local tier to the team tier in one command (``vault.team.upgrade``,
``mdstore team upgrade``).

The steps, in order; each one can be run again without harm:

1. ``backup``: an archive of the vault (files, config, waiting jobs) under ``.mdstore/backups/``;
2. ``schema``: the team tables and the space on the server;
3. ``push``: every note and attachment, through the team sync (one transaction, COPY). Run again,
   the sync agrees by hashes with what the server already holds: no second revision of the same bytes;
4. ``jobs``: the spool's waiting jobs into the team queue under their ids (each is enqueued there
   before it leaves the spool, and an id already waiting there is not added twice);
5. ``verify``: every shared file is on the server with the same bytes (the hash is recomputed by the
   server), nothing else is live in the space, no job waits in the spool and every moved id is in
   the team queue;
6. ``switch``: mdstore.toml is set to the team tier (other settings and comments kept).

The progress record ``.mdstore/team/upgrade.json`` is written before the first change on the server,
so a second run after an interruption (kill, server down) knows the space is its own and carries on
from the start; a space this vault did not start is refused unless ``resume``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, ConfigError, UpgradeError

if TYPE_CHECKING:
    import psycopg

    from ..config import Config
    from ..vault import Vault

RECORD = "team/upgrade.json"
BACKUPS = "backups"
STEPS = ("backup", "schema", "push", "jobs", "verify", "switch")


@dataclass(frozen=True)
class UpgradeReport:
    """What an upgrade did (or, with ``dry_run``, would do)."""

    space: str
    server: str
    dry_run: bool
    resumed: bool  # an earlier interrupted upgrade (or an existing space, with resume) was continued
    notes: int  # notes and attachments shared
    attachments: int
    bytes: int
    not_shared: tuple[str, ...]  # files that stay local (too large, unreadable): "path: why"
    backup: str  # the archive written (or to be written)
    pushed: int
    pulled: int  # notes of an existing space brought into this vault (resume)
    jobs: dict[str, int] = field(default_factory=dict)  # queue -> waiting jobs moved (or to move)
    dead_jobs: int = 0  # dead jobs left in the spool (retry or purge them there)
    config: tuple[str, ...] = ()  # the settings written to mdstore.toml
    seconds: float = 0.0


def upgrade(
    vault: Vault,
    space: str,
    *,
    url: str,
    dry_run: bool = False,
    resume: bool = False,
    backup_to: str | os.PathLike[str] | None = None,
) -> UpgradeReport:
    import time

    from ..pg import describe, refuse_password

    started = time.perf_counter()
    refuse_password(url)
    config = _team_config(vault, url, space)
    server = describe(config.team.url)
    record = _Record.load(vault.config.state_dir)
    ours = record is not None and record.server == server and record.space == space
    if record is not None and not ours and not dry_run:
        raise UpgradeError(
            f"an upgrade to space {record.space!r} on {record.server} is unfinished in this vault: "
            f"run it again to finish it, or delete {vault.config.state_dir / RECORD} to start another"
        )
    if vault.config.tier.name == "team" and not ours:
        raise UpgradeError(
            f"this vault is on the team tier already (space {vault.config.team.space!r}); nothing to upgrade"
        )
    settings = _new_settings(vault.config, url, space)
    conn = _connect(config)
    try:
        exists = _space_exists(conn, space)
        if exists and not ours and not resume:
            raise UpgradeError(
                f"space {space!r} already exists on {server}: pass --resume to add this vault's notes "
                f"to it (they are merged with the space's), or choose another name"
            )
        listing = _listing(config)
        queues = _waiting_jobs(vault.config)
        target = _backup_target(vault.config, backup_to, record)
        base = {
            "space": space,
            "server": server,
            "resumed": ours or exists,
            "notes": listing["notes"],
            "attachments": listing["attachments"],
            "bytes": listing["bytes"],
            "not_shared": tuple(listing["not_shared"]),
            "backup": str(target),
            "config": tuple(f"{s}.{k} = {v!r}" for s, values in settings.items() for k, v in values.items()),
        }
        if dry_run:
            return UpgradeReport(
                dry_run=True, pushed=0, pulled=0, jobs={n: len(ids) for n, ids in queues.items()}, **base
            )
        if record is None:
            record = _Record(server=server, space=space)
        record.save(vault.config.state_dir, "backup")
        if not record.backup or not Path(record.backup).is_file():
            from ..backup import backup

            record.backup = str(backup(vault.root, target).archive)
        base["backup"] = record.backup
        record.save(vault.config.state_dir, "schema")
        _create_space(conn, config, space)
    finally:
        conn.close()
    record.save(vault.config.state_dir, "push")
    report = _push(vault, config)
    record.save(vault.config.state_dir, "jobs")
    moved, dead = _move_jobs(vault.config, config, queues, record)
    record.save(vault.config.state_dir, "verify")
    _verify(config, record)
    record.save(vault.config.state_dir, "switch")
    from .settings_file import write_settings

    write_settings(vault.root, settings)
    record.finish(vault.config.state_dir)
    return UpgradeReport(
        dry_run=False,
        pushed=len(report.pushed),
        pulled=len(report.pulled) + len(report.merged),
        jobs=moved,
        dead_jobs=dead,
        seconds=time.perf_counter() - started,
        **base,
    )


# -- the progress record -----------------------------------------------------------------------------


@dataclass
class _Record:
    server: str
    space: str
    step: str = ""
    backup: str = ""
    jobs: dict[str, list[str]] = field(default_factory=dict)  # queue -> ids moved (to verify)

    @classmethod
    def load(cls, state_dir: Path) -> _Record | None:
        path = state_dir / RECORD
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                server=str(raw["server"]),
                space=str(raw["space"]),
                step=str(raw.get("step", "")),
                backup=str(raw.get("backup", "")),
                jobs={str(k): [str(i) for i in v] for k, v in dict(raw.get("jobs", {})).items()},
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UpgradeError(
                f"{path}: unreadable upgrade record ({exc}): delete it to start afresh"
            ) from None

    def save(self, state_dir: Path, step: str) -> None:
        from ..notes.fileio import atomic_write

        self.step = step
        data = {
            "server": self.server,
            "space": self.space,
            "step": step,
            "backup": self.backup,
            "jobs": self.jobs,
        }
        atomic_write(state_dir / RECORD, json.dumps(data, indent=1).encode())

    def finish(self, state_dir: Path) -> None:
        (state_dir / RECORD).unlink(missing_ok=True)


# -- the steps -----------------------------------------------------------------------------------


def _team_config(vault: Vault, url: str, space: str) -> Config:
    """The vault's config as it will be on the team tier (the URL's ``${ENV}`` references expanded)."""
    from ..config import load_config
    from .client import _SPACE_NAME

    if not _SPACE_NAME.match(space):
        raise ConfigError(f"space {space!r}: use letters, digits, '_', '.' or '-' (at most 63)")
    built = load_config(vault.root, overrides={"team": {"url": url, "space": space}})
    expanded = built.team.database_url()
    if not expanded:
        raise ConfigError("no team database URL: set MDSTORE_TEAM_URL (or pass --url)")
    return replace(
        vault.config,
        tier=replace(vault.config.tier, name="team"),
        team=replace(vault.config.team, url=expanded, space=space),
    )


def _new_settings(config: Config, url: str, space: str) -> dict[str, dict[str, Any]]:
    """What the switch writes to mdstore.toml: the tier, the team, and the queue when it was pinned
    to the spool (its waiting jobs are in the team queue now)."""
    out: dict[str, dict[str, Any]] = {"tier": {"name": "team"}, "team": {"url": url, "space": space}}
    if config.queue.backend == "spool":
        out["queue"] = {"backend": "auto"}
    return out


def _connect(config: Config) -> psycopg.Connection[Any]:
    from ..pg import connect

    return connect(config.team.url)


def _space_exists(conn: psycopg.Connection[Any], space: str) -> bool:
    from ..pg.migrations import check_version
    from .schema import COMPONENT, MIGRATIONS

    if check_version(conn, COMPONENT, MIGRATIONS) == 0:
        return False
    row = conn.execute("SELECT 1 FROM team_spaces WHERE name = %s", (space,)).fetchone()
    conn.commit()
    return row is not None


def _create_space(conn: psycopg.Connection[Any], config: Config, space: str) -> None:
    import psycopg

    from ..pg import describe
    from .client import _migrate

    try:
        _migrate(conn)
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s) ON CONFLICT DO NOTHING", (space,))
        conn.commit()
    except psycopg.errors.InsufficientPrivilege:
        raise BackendUnavailable(
            f"this role cannot create space {space!r} on {describe(config.team.url)}: an administrator "
            f"runs `mdstore team init --space {space}` and `mdstore team members add ROLE --space {space}`, "
            "then `mdstore team upgrade --resume`"
        ) from None
    except psycopg.OperationalError as exc:
        raise BackendUnavailable(f"lost the team database {describe(config.team.url)}: {exc}") from None


def _listing(config: Config) -> dict[str, Any]:
    """What the push will share, from the files' stat (the push itself reads them)."""
    from ..index.scan import IgnoreRules, scan
    from .local import name_issue

    listing = scan(config.root, IgnoreRules(config.root, config.vault.ignore), config.vault.extensions)
    limit = config.team.max_attachment_bytes
    names = [i for i in map(name_issue, [*listing.notes, *listing.attachments]) if i is not None]
    left = {i.path for i in names}
    large = {rel for rel, (_, size) in listing.attachments.items() if size > limit and rel not in left}
    notes = {rel: size for rel, (_, size) in listing.notes.items() if rel not in left}
    attachments = {
        rel: size for rel, (_, size) in listing.attachments.items() if rel not in left and rel not in large
    }
    out: dict[str, Any] = {
        "notes": len(notes),
        "attachments": len(attachments),
        "bytes": sum(notes.values()) + sum(attachments.values()),
    }
    out["not_shared"] = [f"{i.path}: {i.message}" for i in [*listing.issues, *names]]
    out["not_shared"] += [f"{rel}: attachment over the team limit of {limit} bytes" for rel in sorted(large)]
    return out


def _backup_target(config: Config, backup_to: str | os.PathLike[str] | None, record: _Record | None) -> Path:
    if record is not None and record.backup:
        return Path(record.backup)
    if backup_to is not None:
        return Path(backup_to)
    folder = config.state_dir / BACKUPS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _push(vault: Vault, config: Config) -> Any:
    from .client import Team

    team = Team(vault, config=config)
    try:
        return team.sync()
    finally:
        team.close()


def _spool_names(config: Config) -> list[str]:
    from ..tiers import QUEUE_DIR

    folder = config.state_dir / QUEUE_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "new").is_dir())


def _spool(config: Config, name: str) -> Any:
    from ..tiers import open_queue

    return open_queue(replace(config, queue=replace(config.queue, backend="spool")), name)


def _waiting_jobs(config: Config) -> dict[str, list[str]]:
    from ..queue import JobState

    out: dict[str, list[str]] = {}
    for name in _spool_names(config):
        with _spool(config, name) as q:
            ids = [j.id for state in (JobState.NEW, JobState.DELAYED) for j in q.jobs(state)]
        if ids:
            out[name] = ids
    return out


def _move_jobs(
    local: Config, team: Config, queues: dict[str, list[str]], record: _Record
) -> tuple[dict[str, int], int]:
    from ..queue import JobState
    from ..queue.moves import move_jobs
    from ..tiers import open_queue

    moved: dict[str, int] = {}
    dead = 0
    for name in _spool_names(local):
        with _spool(local, name) as source:
            ids = [j.id for state in (JobState.NEW, JobState.DELAYED) for j in source.jobs(state)]
            if ids:
                known = record.jobs.setdefault(name, [])
                known.extend(i for i in ids if i not in known)
                record.save(local.state_dir, "jobs")  # before they leave the spool: verified later
            team_queue = replace(team.queue, backend="postgres")
            with open_queue(replace(team, queue=team_queue), name) as dest:
                report = move_jobs(source, dest)
        if report.running:
            raise UpgradeError(
                f"{report.running} job(s) of queue {name!r} are running in the spool: stop the vault's "
                "workers (`mdstore worker`) and run the upgrade again"
            )
        moved[name] = report.moved
        dead += report.dead
    return moved, dead


def _verify(config: Config, record: _Record) -> None:
    """Both sides hold the same files and jobs; an ``UpgradeError`` naming the first differences."""
    from ..tiers import open_queue
    from .local import scan_files
    from .state import ClientState

    view = scan_files(config, ClientState())
    local = {rel: f.hash for rel, f in view.files.items()}
    conn = _connect(config)
    try:
        rows = conn.execute(
            "SELECT path, content_hash, encode(sha256(content), 'hex') FROM team_notes "
            "WHERE space = %s AND NOT deleted",
            (config.team.space,),
        ).fetchall()
        conn.commit()
    finally:
        conn.close()
    server = {path: (claimed, actual) for path, claimed, actual in rows}
    problems = [f"{p}: not on the server" for p in sorted(local.keys() - server.keys())]
    problems += [f"{p}: on the server, not in the vault" for p in sorted(server.keys() - local.keys())]
    for path in sorted(local.keys() & server.keys()):
        claimed, actual = server[path]
        if not (local[path] == claimed == actual):
            problems.append(f"{path}: differs between the vault and the server")
    for name, ids in sorted(record.jobs.items()):
        with _spool(config, name) as source:
            if source.stats().waiting:
                problems.append(f"queue {name!r}: {source.stats().waiting} job(s) still wait in the spool")
        with open_queue(replace(config, queue=replace(config.queue, backend="postgres")), name) as dest:
            problems += [
                f"queue {name!r}: job {i} is missing from the team queue" for i in ids if dest.get(i) is None
            ]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise UpgradeError(
            "verification failed, the vault stays on the local tier: "
            + "; ".join(problems[:3])
            + more
            + ". Run the upgrade again (it syncs the difference)"
        )
