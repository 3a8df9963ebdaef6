"""Health: what ``mdstore doctor`` and ``Vault.health()`` check, backend by backend.

Each check is a ``Check(name, status, detail, data)`` with status ``ok``, ``warn`` (worth knowing,
nothing broken) or ``fail`` (something is wrong: doctor exits non-zero). Nothing here waits longer
than a connect timeout, and an unreachable team database is a failed check, not an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import MdstoreError

if TYPE_CHECKING:
    from .config import Config
    from .queue.protocol import QueueBackend

HEALTH_TIMEOUT = 3.0  # seconds to reach the team database before it counts as unreachable
LAG_WARN = 60.0  # seconds the oldest ready job may wait before the queue looks stuck


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, **self.data}


@dataclass(frozen=True)
class HealthReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks]}


def health(config: Config) -> HealthReport:
    """Check the tier's configuration, the queue backend, the team database, the outbox and the
    watcher of the vault ``config`` describes."""
    from .tiers import plan

    checks: list[Check] = []
    try:
        chosen = plan(config)
    except MdstoreError as exc:
        return HealthReport([Check("config", "fail", str(exc))])
    checks.append(Check("tier", "ok", f"{chosen.tier} tier: queue on {chosen.queue}", {"tier": chosen.tier}))
    if chosen.needs_database:
        checks.append(_database(chosen.team_url))
    checks.append(_queue(config, reachable=checks[-1].status != "fail"))
    checks.append(_outbox(config))
    checks.append(_watcher(config))
    return HealthReport(checks)


def _database(url: str) -> Check:
    from .pg import connect, describe, schema_versions
    from .queue.postgres_schema import COMPONENT, MIGRATIONS

    label = describe(url)
    try:
        started = time.perf_counter()
        conn = connect(url, timeout=HEALTH_TIMEOUT, application_name="mdstore-doctor")
    except MdstoreError as exc:
        return Check(
            "team database", "fail", f"{exc}; work waits in the outbox and the spool", {"server": label}
        )
    try:
        connect_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        row = conn.execute("SELECT current_setting('server_version')").fetchone()
        latency_ms = (time.perf_counter() - started) * 1000
        versions = schema_versions(conn)
    finally:
        conn.close()
    data = {
        "server": label,
        "server_version": row[0] if row else None,
        "connect_ms": round(connect_ms, 1),
        "latency_ms": round(latency_ms, 2),
        "schema": versions,
    }
    known = len(MIGRATIONS)
    found = versions.get(COMPONENT, 0)
    if found > known:
        return Check(
            "team database", "fail", f"queue schema {found} is newer than this mdstore ({known})", data
        )
    note = "" if found == known else f"; queue schema {found}, {known} is created on first use"
    return Check("team database", "ok", f"{label} reachable in {data['connect_ms']} ms{note}", data)


def _queue(config: Config, *, reachable: bool) -> Check:
    from .tiers import open_queue, plan

    backend = plan(config).queue
    if not reachable:
        return Check("queue", "fail", f"{backend} queue unreachable", {"backend": backend})
    try:
        queue = open_queue(config)
    except MdstoreError as exc:
        return Check("queue", "fail", str(exc), {"backend": backend})
    try:
        stats = queue.stats()
        lag = _lag(queue)
    except MdstoreError as exc:
        return Check("queue", "fail", str(exc), {"backend": backend})
    finally:
        queue.close()
    data = {"backend": backend, **stats.to_dict(), "lag_seconds": round(lag, 1)}
    detail = (
        f"{backend}: {stats.waiting} waiting, {stats.claimed} running, {stats.dead} dead, lag {lag:.1f} s"
    )
    status = "warn" if stats.dead or lag > LAG_WARN else "ok"
    return Check("queue", status, detail, data)


def _lag(queue: QueueBackend) -> float:
    """Seconds the oldest ready job has waited."""
    lag = getattr(queue, "lag", None)
    if callable(lag):
        return float(lag())
    from .queue.job import JobState

    ready = queue.jobs(JobState.NEW)
    return max((time.time() - max(j.created_at, j.not_before or 0) for j in ready), default=0.0)


def _outbox(config: Config) -> Check:
    from .queue.outbox import OUTBOX_DIR, Outbox

    if not (config.state_dir / OUTBOX_DIR).is_dir():
        return Check("outbox", "ok", "empty", {"pending": 0})
    pending = Outbox(config.state_dir).pending()
    failed = [i for i in pending if i.attempts]
    data = {"pending": len(pending), "failed": len(failed)}
    if failed:
        last = failed[0].last_error or ""
        return Check(
            "outbox", "warn", f"{len(pending)} pending, {len(failed)} failed to publish: {last}", data
        )
    if pending:
        return Check("outbox", "warn", f"{len(pending)} pending (a worker start enqueues them)", data)
    return Check("outbox", "ok", "empty", data)


def _watcher(config: Config) -> Check:
    from .watch.status import daemon_status

    info = daemon_status(config)
    state = info.get("state")
    age = info.get("heartbeat_age_seconds")
    if state == "running":
        stale = age is not None and age > 3 * config.watch.heartbeat_interval + 5
        status = "warn" if stale else "ok"
        return Check("watcher", status, f"running, last heartbeat {age} s ago", info)
    if state == "stale":
        return Check("watcher", "warn", str(info.get("detail", "stale heartbeat file")), info)
    return Check("watcher", "ok", "not running (optional)", info)
