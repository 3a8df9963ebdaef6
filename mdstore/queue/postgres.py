"""The Postgres backend: the team tier's job queue, in the team database (tables in
``postgres_schema``), for workers on any machine that reaches it.

Same semantics as the spool (``QueueBackend``): deterministic ids, priorities, delayed jobs, leases,
retries with backoff, a dead letter. Claims are one ``UPDATE ... FOR UPDATE SKIP LOCKED`` statement
(for one job or a batch; a batch of acks or lease extensions is one ``UPDATE ... FROM unnest``);
each claim bumps the row's ``claims`` counter, which is the claim's token, so a worker that lost its
lease (stopped, partitioned, slow) can no longer ack, fail, release or extend the job. Idle workers
sleep on ``LISTEN`` and wake on the ``NOTIFY`` of an enqueue, not on a poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import QueueError
from ..pg.link import Link
from .job import Job, JobState, QueueStats, backoff, check_id, check_limit, check_priority, to_json
from .job import job_id as make_job_id
from .postgres_pubsub import PgChannels, PgSubscription
from .postgres_schema import COMPONENT, JOB_CHANNEL, MIGRATIONS
from .protocol import MessageHandler
from .spool import _MAX_ERROR, _NAME

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("mdstore.queue")

NOW = "extract(epoch FROM clock_timestamp())::float8"
# The state a caller sees: a waiting row is "delayed" while its not_before is ahead.
_STATE = (
    f"CASE WHEN state = 'waiting' AND not_before > {NOW} THEN 'delayed' "
    "WHEN state = 'waiting' THEN 'new' ELSE state END"
)
_COLS = (
    "seq, id, kind, payload, priority, attempts, max_attempts, not_before, created_at, last_error, "
    f"claims, {_STATE}"
)
_RANK = "CASE state WHEN 'waiting' THEN 0 WHEN 'claimed' THEN 1 WHEN 'done' THEN 2 ELSE 3 END"
_ORDER = f"{_RANK}, CASE WHEN state = 'waiting' THEN -priority ELSE 0 END, seq"


class PostgresQueue:
    """The queue ``name`` in the database at ``url``; safe to share between threads. Every process
    (or each ``PostgresQueue``) holds one connection, plus one for ``LISTEN`` once it waits."""

    def __init__(
        self,
        url: str,
        name: str = "default",
        *,
        lease: float = 60.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 300.0,
        retention: float = 24 * 3600.0,
        message_retention: float = 3600.0,
        poll_interval: float = 0.02,
        timeout: float = 5.0,
        reconnect_seconds: float = 30.0,
        migrate: bool = True,
        fsync: bool = True,
    ) -> None:
        if not _NAME.match(name):
            raise QueueError(f"queue name {name!r} must be 1-64 letters, digits, '-' or '_'")
        if lease <= 0 or max_attempts < 1:
            raise QueueError("lease must be positive and max_attempts at least 1")
        self.name = name
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retention = retention
        self.message_retention = message_retention
        self.poll_interval = poll_interval
        # Durability is the server's (synchronous_commit); ``fsync`` is accepted for the spool's signature.
        self.durable = fsync
        self._link = Link(
            url, timeout=timeout, reconnect_seconds=reconnect_seconds, application_name="mdstore-queue"
        )
        if migrate:
            try:
                self._link.call(self._migrate)
            except BaseException:
                self._link.close()  # nobody else will: the queue was never made
                raise
        self._listener: psycopg.Connection[Any] | None = None
        self._listen_lock = threading.Lock()
        self._next_reap = 0.0
        self._channels = PgChannels(self._link, name, poll_interval)

    def __repr__(self) -> str:
        return f"PostgresQueue({self._link.label!r}, {self.name!r})"

    def __enter__(self) -> PostgresQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _migrate(conn: psycopg.Connection[Any]) -> None:
        from ..pg import apply_migrations

        apply_migrations(conn, COMPONENT, MIGRATIONS)

    # -- producing -----------------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        payload: Any = None,
        *,
        key: str | None = None,
        job_id: str | None = None,
        priority: int = 0,
        delay: float | None = None,
        max_attempts: int | None = None,
        replace: bool = False,
    ) -> Job:
        return self.enqueue_many(
            [(kind, payload, key, job_id)],
            priority=priority,
            delay=delay,
            max_attempts=max_attempts,
            replace=replace,
        )[0]

    def enqueue_many(
        self,
        items: Iterable[tuple[str, Any, str | None, str | None]],
        *,
        priority: int = 0,
        delay: float | None = None,
        max_attempts: int | None = None,
        replace: bool = False,
    ) -> list[Job]:
        """Enqueue ``(kind, payload, key, job_id)`` items in one transaction (one statement for the
        new ones, one commit, one wake-up); the jobs in order, as ``enqueue`` would give each."""
        check_priority(priority)
        rows = []
        for kind, payload, key, jid in items:
            if not isinstance(kind, str) or not kind:
                raise QueueError("a job needs a kind (a non-empty string)")
            ident = check_id(jid) if jid is not None else make_job_id(kind, key)
            rows.append((ident, kind, to_json(f"job {kind!r}", payload)))
        wait = delay if delay is not None and delay > 0 else None
        conflict = (
            "DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload, priority = EXCLUDED.priority, "
            "max_attempts = EXCLUDED.max_attempts, not_before = EXCLUDED.not_before, "
            "created_at = EXCLUDED.created_at, seq = DEFAULT, attempts = 0, last_error = NULL"
            if replace
            else "DO NOTHING"
        )
        insert = (
            "INSERT INTO mdstore_jobs "
            "(queue, id, kind, payload, priority, max_attempts, not_before, created_at) "
            f"VALUES (%s, %s, %s, %s::jsonb, %s, %s, {NOW} + %s, {NOW}) "
            f"ON CONFLICT (queue, id) WHERE state = 'waiting' AND claims = 0 {conflict} RETURNING {_COLS}"
        )
        select = (
            f"SELECT {_COLS} FROM mdstore_jobs "
            "WHERE queue = %s AND id = %s AND state = 'waiting' AND claims = 0"
        )
        bulk = (
            "INSERT INTO mdstore_jobs "
            "(queue, id, kind, payload, priority, max_attempts, not_before, created_at) "
            f"SELECT %s, i, k, p::jsonb, %s, %s, {NOW} + %s, {NOW} "
            "FROM unnest(%s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS u(i, k, p, o) ORDER BY o "
            f"ON CONFLICT (queue, id) WHERE state = 'waiting' AND claims = 0 DO NOTHING RETURNING {_COLS}"
        )
        attempts = max_attempts or self.max_attempts

        def one(cur: psycopg.Cursor[Any], ident: str, kind: str, data: str) -> Job:
            while True:
                cur.execute(insert, (self.name, ident, kind, data, priority, attempts, wait))
                row = cur.fetchone()
                if row is None:  # a waiting job with this id: return it
                    cur.execute(select, (self.name, ident))
                    row = cur.fetchone()
                if row is not None:
                    return _job(row)
                # else it was claimed in between: insert again

        def run(conn: psycopg.Connection[Any]) -> list[Job]:
            import psycopg

            try:
                with conn.transaction(), conn.cursor() as cur:
                    made: dict[str, Job | None] = {}
                    if len(rows) > 1 and not replace:
                        # One statement for the batch; ids already waiting (or repeated in the
                        # batch) come back through the one-by-one path below.
                        cur.execute(
                            bulk, (self.name, priority, attempts, wait, *map(list, zip(*rows, strict=True)))
                        )
                        made = {job.id: job for job in map(_job, cur.fetchall())}
                    out = [made.pop(ident, None) or one(cur, ident, kind, data) for ident, kind, data in rows]
                    cur.execute("SELECT pg_notify(%s, %s)", (JOB_CHANNEL, self.name))
            except psycopg.DataError as exc:
                raise QueueError(f"job {rows[0][1]!r}: payload rejected by the database: {exc}") from None
            return out

        return self._link.call(run)

    def adopt(self, job: Job) -> Job | None:
        """Add a job moved from another queue, waiting, keeping its id, kind, payload, priority,
        attempt limit, remaining delay and enqueue time (or the job with its id that waits for its
        first run, if there is one). None when this queue already holds that very job (same id and
        enqueue time) in any state, waiting included: an earlier move that was cut short added it,
        and it may have run since. Checked and inserted in one transaction."""
        ident = check_id(job.id)
        check_priority(job.priority)
        data = to_json(f"job {job.kind!r}", job.payload)
        insert = (
            "INSERT INTO mdstore_jobs "
            "(queue, id, kind, payload, priority, max_attempts, not_before, created_at) "
            f"VALUES (%s, %s, %s, %s::jsonb, %s, %s, {NOW} + %s, %s) "
            f"ON CONFLICT (queue, id) WHERE state = 'waiting' AND claims = 0 DO NOTHING RETURNING {_COLS}"
        )
        # The remaining delay by this machine's clock (as the source reported it), from the server's now.
        delay = None if job.not_before is None else job.not_before - time.time()
        params = (
            self.name, ident, job.kind, data, job.priority, job.max_attempts,
            delay if delay is not None and delay > 0 else None, job.created_at,
        )  # fmt: skip

        def run(conn: psycopg.Connection[Any]) -> Job | None:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM mdstore_jobs WHERE queue = %s AND id = %s AND created_at = %s LIMIT 1",
                    (self.name, ident, job.created_at),
                )
                if cur.fetchone() is not None:
                    return None
                cur.execute(insert, params)
                row = cur.fetchone()
                if row is None:  # a waiting job with this id: that one stands
                    cur.execute(
                        f"SELECT {_COLS} FROM mdstore_jobs "
                        "WHERE queue = %s AND id = %s AND state = 'waiting' AND claims = 0",
                        (self.name, ident),
                    )
                    row = cur.fetchone()
                cur.execute("SELECT pg_notify(%s, %s)", (JOB_CHANNEL, self.name))
            return None if row is None else _job(row)

        return self._link.call(run)

    # -- consuming -----------------------------------------------------------------------------

    def claim(self, *, lease: float | None = None) -> Job | None:
        jobs = self.claim_many(1, lease=lease)
        return jobs[0] if jobs else None

    def claim_many(self, limit: int, *, lease: float | None = None) -> list[Job]:
        """Up to ``limit`` ready jobs in one statement, each claim bumping its own row's ``claims``
        (its own fence); claim order (priority, then sequence)."""
        limit = check_limit(limit)
        if time.time() >= self._next_reap:
            self._next_reap = time.time() + min(1.0, self.lease / 4)
            self.reap()
        rows = self._all(
            "UPDATE mdstore_jobs SET state = 'claimed', claims = claims + 1, "
            f"lease_until = {NOW} + %s WHERE seq IN ("
            "SELECT seq FROM mdstore_jobs WHERE queue = %s AND state = 'waiting' "
            f"AND (not_before IS NULL OR not_before <= {NOW}) ORDER BY priority DESC, seq "
            f"LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING {_COLS}",
            (lease or self.lease, self.name, limit),
        )
        # RETURNING has no order of its own.
        return sorted(map(_job, rows), key=lambda job: (-job.priority, job.seq))

    def ack(self, job: Job) -> None:
        self._finish(
            job,
            "done",
            f"UPDATE mdstore_jobs SET state = 'done', lease_until = NULL, finished_at = {NOW}",
            (),
            "ack",
        )

    def ack_many(self, jobs: Sequence[Job]) -> list[Job]:
        """Mark claimed jobs done in one statement, each only under its own current claim; the
        jobs whose claim was lost (not acked: they will run again)."""
        return self._finish_many(jobs, "done", f"state = 'done', lease_until = NULL, finished_at = {NOW}", ())

    def extend_many(self, jobs: Sequence[Job], lease: float | None = None) -> list[Job]:
        """Push the leases of claimed jobs ``lease`` seconds from now in one statement; the jobs
        whose claim was lost."""
        return self._finish_many(jobs, "claimed", f"lease_until = {NOW} + %s", (lease or self.lease,))

    def fail(self, job: Job, error: str, *, retry: bool = True) -> Job:
        error = error if len(error) <= _MAX_ERROR else error[: _MAX_ERROR - 1] + "…"
        again = retry and job.attempts + 1 < job.max_attempts
        delay = backoff(job.attempts + 1, self.backoff, self.backoff_max) if again else None
        row = self._finish(
            job,
            "waiting" if again else "dead",
            "UPDATE mdstore_jobs SET attempts = attempts + 1, last_error = %s, lease_until = NULL, "
            f"state = %s, not_before = {NOW} + %s, finished_at = CASE WHEN %s THEN NULL ELSE {NOW} END",
            (error, "waiting" if again else "dead", delay, again),
            "fail",
        )
        return row if row is not None else job

    def release(self, job: Job) -> None:
        self._finish(
            job, "waiting", "UPDATE mdstore_jobs SET state = 'waiting', lease_until = NULL", (), "release"
        )

    def extend(self, job: Job, lease: float | None = None) -> None:
        self._finish(
            job,
            "claimed",
            f"UPDATE mdstore_jobs SET lease_until = {NOW} + %s",
            (lease or self.lease,),
            "extend",
        )

    def reap(self) -> int:
        """Take back claims whose lease ended; each counts as a failed attempt. How many."""
        rows = self._all(
            "UPDATE mdstore_jobs SET attempts = attempts + 1, lease_until = NULL, "
            "last_error = 'its lease expired while it ran (claim ' || claims || ')', "
            "state = CASE WHEN attempts + 1 < max_attempts THEN 'waiting' ELSE 'dead' END, "
            f"finished_at = CASE WHEN attempts + 1 < max_attempts THEN NULL ELSE {NOW} END, "
            f"not_before = {NOW} + least(%s, %s * power(2, attempts)) * (0.5 + random() / 2) "
            "WHERE seq IN (SELECT seq FROM mdstore_jobs WHERE queue = %s AND state = 'claimed' "
            f"AND lease_until < {NOW} FOR UPDATE SKIP LOCKED) RETURNING id, kind",
            (self.backoff_max, self.backoff, self.name),
        )
        for jid, kind in rows:
            log.warning("queue %s: job %s (%s) taken back: its lease expired", self.name, jid, kind)
        return len(rows)

    def wait(self, timeout: float) -> bool:
        """Sleep on LISTEN until an enqueue is announced, a delayed job or a lease is due, or ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._listen_lock:
            try:
                listener = self._listening()
                if any(True for _ in listener.notifies(timeout=0)):
                    return True
                row = self._one(
                    "SELECT min(CASE WHEN state = 'waiting' THEN coalesce(not_before, 0) "
                    f"ELSE lease_until END) - {NOW} "
                    "FROM mdstore_jobs WHERE queue = %s AND state IN ('waiting', 'claimed')",
                    (self.name,),
                )
                due = None if row is None or row[0] is None else float(row[0])
                if due is not None and due <= 0:
                    return True
                remaining = deadline - time.monotonic()
                pause = remaining if due is None else min(remaining, due)
                for notice in listener.notifies(timeout=max(0.0, pause), stop_after=1):
                    if notice.payload == self.name:
                        return True
                return due is not None and due <= timeout
            except Exception as exc:  # noqa: BLE001 - a broken LISTEN connection is reopened next time
                if not _connection_error(exc):
                    raise
                self._drop_listener()
                time.sleep(max(0.0, min(0.2, deadline - time.monotonic())))
                return False

    # -- inspecting and maintenance ------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        row = self._one(
            f"SELECT {_COLS} FROM mdstore_jobs WHERE queue = %s AND id = %s ORDER BY seq DESC LIMIT 1",
            (self.name, job_id),
        )
        return None if row is None else _job(row)

    def jobs(self, state: JobState | None = None, *, limit: int | None = None) -> list[Job]:
        where = "" if state is None else f" AND {_STATE} = %s"
        params: tuple[Any, ...] = (self.name,) if state is None else (self.name, str(JobState(state)))
        rows = self._all(
            f"SELECT {_COLS} FROM mdstore_jobs WHERE queue = %s{where} ORDER BY {_ORDER} LIMIT %s",
            (*params, limit),
        )
        return [_job(r) for r in rows]

    def length(self) -> int:
        row = self._one(
            "SELECT count(*) FROM mdstore_jobs WHERE queue = %s AND state = 'waiting'", (self.name,)
        )
        return int(row[0]) if row else 0

    def stats(self) -> QueueStats:
        rows = self._all(
            f"SELECT {_STATE}, count(*) FROM mdstore_jobs WHERE queue = %s GROUP BY 1", (self.name,)
        )
        return QueueStats(queue=self.name, **{str(s): int(n) for s, n in rows})

    def lag(self) -> float:
        """Seconds the oldest ready job has waited (0 when none waits)."""
        row = self._one(
            f"SELECT coalesce(max({NOW} - greatest(created_at, coalesce(not_before, 0))), 0) "
            "FROM mdstore_jobs "
            f"WHERE queue = %s AND state = 'waiting' AND (not_before IS NULL OR not_before <= {NOW})",
            (self.name,),
        )
        return max(0.0, float(row[0])) if row else 0.0

    def retry(self, job_id: str | None = None) -> int:
        only = "" if job_id is None else " AND id = %s"
        params = (self.name,) if job_id is None else (self.name, job_id)

        def run(conn: psycopg.Connection[Any]) -> int:
            with conn.transaction():
                cur = conn.execute(
                    "UPDATE mdstore_jobs SET state = 'waiting', attempts = 0, not_before = NULL, "
                    "finished_at = NULL "
                    f"WHERE queue = %s AND state = 'dead'{only}",
                    params,
                )
                conn.execute("SELECT pg_notify(%s, %s)", (JOB_CHANNEL, self.name))
                return cur.rowcount

        count: int = self._link.call(run)
        if job_id is not None and count == 0:
            raise QueueError(f"no dead job {job_id!r} in queue {self.name!r}")
        return count

    def purge(self, state: JobState = JobState.DEAD, *, job_id: str | None = None) -> int:
        state = JobState(state)
        if state is JobState.CLAIMED:
            raise QueueError("running jobs cannot be purged; stop their workers (leases then expire)")
        only = "" if job_id is None else " AND id = %s"
        params = (self.name, str(state)) if job_id is None else (self.name, str(state), job_id)
        return self._changed(f"DELETE FROM mdstore_jobs WHERE queue = %s AND {_STATE} = %s{only}", params)

    def prune(self) -> int:
        removed = self._changed(
            f"DELETE FROM mdstore_jobs WHERE queue = %s AND state = 'done' AND finished_at < {NOW} - %s",
            (self.name, self.retention),
        )
        return removed + self._channels.prune(self.message_retention)

    # -- pub/sub -------------------------------------------------------------------------------

    def publish(self, channel: str, message: Any) -> None:
        self._channels.publish(channel, message)

    def subscribe(
        self, channel: str, handler: MessageHandler, *, durable: str | None = None
    ) -> PgSubscription:
        return self._channels.subscribe(channel, handler, durable=durable)

    def close(self) -> None:
        self._channels.close()
        with self._listen_lock:
            self._drop_listener()
        self._link.close()

    # -- internals -----------------------------------------------------------------------------

    def _finish(self, job: Job, target: str, update: str, params: tuple[Any, ...], verb: str) -> Job | None:
        """Run ``update`` on the job's row if the claim ``job.token`` is still the current one.

        A repeat after a lost connection finds the row already moved by this same claim (same
        ``claims``, state ``target``): that is success, not a lost claim."""
        if job.token is None:
            raise QueueError(f"job {job.id} was not claimed (only a job returned by claim can be)")
        claim = int(job.token)
        tries = []

        def run(conn: psycopg.Connection[Any]) -> Job | None:
            tries.append(1)
            cur = conn.execute(
                f"{update} WHERE seq = %s AND state = 'claimed' AND claims = %s RETURNING {_COLS}",
                (*params, job.seq, claim),
            )
            row = cur.fetchone()
            if row is not None:
                return _job(row)
            cur = conn.execute("SELECT state, claims FROM mdstore_jobs WHERE seq = %s", (job.seq,))
            now = cur.fetchone()
            repeat = len(tries) > 1 and verb != "extend"
            if repeat and now is not None and now[1] == claim and now[0] == target:
                return None
            raise QueueError(
                f"job {job.id}: lost its claim (lease expired; it will run again); cannot {verb}"
            )

        return self._link.call(run)

    def _finish_many(
        self, jobs: Sequence[Job], target: str, assign: str, params: tuple[Any, ...]
    ) -> list[Job]:
        """``UPDATE ... SET assign`` on every job's row whose claim is still the one the job holds,
        in one statement; the jobs that lost their claim. As in ``_finish``, a repeat after a lost
        connection counts rows already moved to ``target`` by the same claim as done."""
        if not jobs:
            return []
        for job in jobs:
            if job.token is None:
                raise QueueError(f"job {job.id} was not claimed (only a job returned by claim can be)")
        seqs = [job.seq for job in jobs]
        claims = [int(job.token or 0) for job in jobs]
        tries = []

        def run(conn: psycopg.Connection[Any]) -> set[int]:
            tries.append(1)
            cur = conn.execute(
                f"UPDATE mdstore_jobs AS j SET {assign} "
                "FROM unnest(%s::bigint[], %s::integer[]) AS u(seq, claims) "
                "WHERE j.seq = u.seq AND j.state = 'claimed' AND j.claims = u.claims RETURNING j.seq",
                (*params, seqs, claims),
            )
            changed = {int(r[0]) for r in cur.fetchall()}
            if len(tries) > 1 and target != "claimed" and len(changed) < len(seqs):
                cur = conn.execute(
                    "SELECT j.seq FROM mdstore_jobs AS j "
                    "JOIN unnest(%s::bigint[], %s::integer[]) AS u(seq, claims) "
                    "ON j.seq = u.seq AND j.claims = u.claims WHERE j.state = %s",
                    (seqs, claims, target),
                )
                changed |= {int(r[0]) for r in cur.fetchall()}
            return changed

        changed = self._link.call(run)
        return [job for job in jobs if job.seq not in changed]

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self._link.call(lambda conn: conn.execute(sql, params).fetchone())

    def _changed(self, sql: str, params: tuple[Any, ...]) -> int:
        """How many rows ``sql`` changed."""
        return int(self._link.call(lambda conn: conn.execute(sql, params).rowcount))

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._link.call(lambda conn: conn.execute(sql, params).fetchall())

    def _listening(self) -> psycopg.Connection[Any]:
        if self._listener is None or self._listener.closed:
            self._listener = self._link.open()
            self._listener.execute(f"LISTEN {JOB_CHANNEL}")
        return self._listener

    def _drop_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:  # noqa: BLE001 - closing a broken connection is best effort
                pass
            self._listener = None


def _connection_error(exc: Exception) -> bool:
    import psycopg

    from ..errors import BackendUnavailable

    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError, BackendUnavailable))


def _job(row: tuple[Any, ...]) -> Job:
    seq, jid, kind, payload, priority, attempts, max_attempts, not_before, created, error, claims, state = row
    state = JobState(state)
    return Job(
        id=jid,
        kind=kind,
        payload=payload,
        priority=priority,
        attempts=attempts,
        max_attempts=max_attempts,
        not_before=not_before,
        created_at=created,
        last_error=error,
        seq=seq,
        state=state,
        token=str(claims) if state is JobState.CLAIMED else None,
    )
