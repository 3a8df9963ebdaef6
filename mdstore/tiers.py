"""Tiers: the one place that reads ``[tier]``, ``[team]`` and ``[queue]`` and builds the backends.

- **local** (the default): notes are files, the queue is the spool in ``.mdstore/queue/``, nothing
  is shared.
- **team**: the same files, plus the team database at ``[team] url``: the queue lives there, so a
  team's workers share it, and notes sync through it.

``[queue] backend = "auto"`` follows the tier; ``"spool"`` or ``"postgres"`` picks one explicitly.
Nothing else in mdstore chooses a backend: ask ``open_queue`` (or ``plan``) here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import Config
    from .queue.protocol import QueueBackend

QUEUE_DIR = "queue"
QueueBuilder = Callable[["Config", str, "bool | None"], "QueueBackend"]


@dataclass(frozen=True)
class Plan:
    """Which backends a vault's config asks for."""

    tier: str  # "local" | "team"
    queue: str  # a key of QUEUE_BACKENDS
    sync: str  # "none" | "postgres"
    team_url: str  # "" on the local tier

    @property
    def needs_database(self) -> bool:
        return self.queue == "postgres" or self.sync == "postgres"


def plan(config: Config) -> Plan:
    """The backends of ``config``; a ``ConfigError`` naming the setting when they cannot work."""
    tier = config.tier.name
    queue = config.queue.backend
    if queue == "auto":
        queue = "postgres" if tier == "team" else "spool"
    if queue not in QUEUE_BACKENDS:
        known = ", ".join(sorted(QUEUE_BACKENDS))
        raise ConfigError(f"setting queue.backend: unknown queue backend {queue!r} (known: auto, {known})")
    sync = "postgres" if tier == "team" else "none"
    needs_database = queue == "postgres" or sync == "postgres"
    url = config.team.database_url().strip() if needs_database else ""
    if needs_database and not url:
        why = "tier.name = 'team'" if tier == "team" else "queue.backend = 'postgres'"
        raise ConfigError(
            f'setting team.url: {why} needs the team database\'s URL (e.g. "${{MDSTORE_TEAM_URL}}")'
        )
    return Plan(tier=tier, queue=queue, sync=sync, team_url=url)


def open_queue(config: Config, name: str = "default", *, fsync: bool | None = None) -> QueueBackend:
    """The queue ``name`` of a vault, on the backend its config chooses."""
    return QUEUE_BACKENDS[plan(config).queue](config, name, fsync)


def _spool(config: Config, name: str, fsync: bool | None) -> QueueBackend:
    from .queue.spool import SpoolQueue

    settings = config.queue
    return SpoolQueue(
        config.state_dir / QUEUE_DIR,
        name,
        fsync=settings.fsync if fsync is None else fsync,
        **_common(config),
    )


def _postgres(config: Config, name: str, fsync: bool | None) -> QueueBackend:
    from .queue.postgres import PostgresQueue

    return PostgresQueue(plan(config).team_url, name, **_common(config))


def _common(config: Config) -> dict[str, Any]:
    settings = config.queue
    return {
        "lease": settings.lease_seconds,
        "max_attempts": settings.max_attempts,
        "backoff": settings.backoff_seconds,
        "backoff_max": settings.backoff_max_seconds,
        "retention": settings.retention_hours * 3600,
        "message_retention": settings.message_retention_hours * 3600,
        "poll_interval": settings.poll_seconds,
    }


# The queue backends by their [queue] backend name.
QUEUE_BACKENDS: dict[str, QueueBuilder] = {"spool": _spool, "postgres": _postgres}
