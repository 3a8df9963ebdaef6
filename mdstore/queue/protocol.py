"""The ``QueueBackend`` protocol: what a job queue must do, whatever stores it.

The spool (files in the vault's state folder) is the local tier's backend; ``PostgresQueue`` (the
team database) the team tier's. Both pass ``tests/queue/test_contract.py``. Guarantees every backend gives:

- a claim is exclusive: two consumers never hold the same job at once; a batch (``claim_many``) is
  that many claims, each with its own lease and token, acked, failed or lost on its own;
- ``ack``/``ack_many`` are durable when they return (a ``Worker`` buffers acks briefly: see worker.py);
- a claimed job whose lease ends (its consumer died or stopped extending) goes back to waiting,
  counted as a failed attempt, so a job runs at least once and a crash-looping job ends dead;
- within one priority, jobs are claimed in enqueue order (a sequence, not the wall clock);
- an enqueue with the id of a job still waiting for its first run returns that job (no duplicate)
  unless ``replace=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from .job import Job, JobState, QueueStats

MessageHandler = Callable[[Any], None]


@runtime_checkable
class Subscription(Protocol):
    """A live subscription to a channel; messages go to its handler until ``close``."""

    channel: str

    def close(self) -> None: ...


@runtime_checkable
class QueueBackend(Protocol):
    name: str

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
        """Add a job (or return the waiting job with the same id). ``key`` makes the id deterministic;
        ``delay`` seconds before it may run; higher ``priority`` runs first."""
        ...

    def adopt(self, job: Job) -> Job | None:
        """Add a job moved from another queue under its id and enqueue time (the waiting job with
        that id if there is one); None when this queue already holds that very job (same id and
        enqueue time) in any state, so an interrupted move run again never adds a job twice."""
        ...

    def claim(self, *, lease: float | None = None) -> Job | None:
        """Take the next ready job for ``lease`` seconds, or None when none is ready."""
        ...

    def claim_many(self, limit: int, *, lease: float | None = None) -> list[Job]:
        """Take up to ``limit`` ready jobs for ``lease`` seconds each, in claim order. Each is its
        own claim (its own token): acked, failed, released or extended on its own, and taken back
        on its own when its lease ends."""
        ...

    def ack(self, job: Job) -> None:
        """Mark a claimed job done; durable when it returns. ``QueueError`` if the claim was lost
        (lease expired)."""
        ...

    def ack_many(self, jobs: Sequence[Job]) -> list[Job]:
        """Mark claimed jobs done, each only under its own claim; durable when it returns. The jobs
        whose claim was lost (not done: they run again), empty when all were acked."""
        ...

    def fail(self, job: Job, error: str, *, retry: bool = True) -> Job:
        """Record a failed run: retry after a backoff, or dead once out of attempts (or ``retry=False``)."""
        ...

    def release(self, job: Job) -> None:
        """Give a claimed job back unchanged (not counted as an attempt), e.g. on shutdown."""
        ...

    def extend(self, job: Job, lease: float | None = None) -> None:
        """Push a claimed job's lease ``lease`` seconds from now. ``QueueError`` if it was lost."""
        ...

    def extend_many(self, jobs: Sequence[Job], lease: float | None = None) -> list[Job]:
        """Push the leases of claimed jobs; the jobs whose claim was lost."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The most recent job with this id, in whatever state."""
        ...

    def jobs(self, state: JobState | None = None, *, limit: int | None = None) -> list[Job]:
        """Jobs in one state (or all), waiting ones in claim order."""
        ...

    def length(self) -> int:
        """How many jobs wait (new + delayed)."""
        ...

    def stats(self) -> QueueStats: ...

    def retry(self, job_id: str | None = None) -> int:
        """Put dead jobs (one, or all) back to waiting with their attempts reset; how many.
        ``QueueError`` when ``job_id`` names no dead job."""
        ...

    def purge(self, state: JobState = JobState.DEAD, *, job_id: str | None = None) -> int:
        """Delete the jobs in a finished or waiting state (one, or all); how many."""
        ...

    def prune(self) -> int:
        """Delete finished jobs and messages older than the retention; how many files went."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until a job may be ready; True if one may be."""
        ...

    def publish(self, channel: str, message: Any) -> None:
        """Send a JSON-serialisable message to every subscriber of ``channel``."""
        ...

    def subscribe(self, channel: str, handler: MessageHandler, *, durable: str | None = None) -> Subscription:
        """Call ``handler(message)`` for each message published on ``channel`` from now on."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> QueueBackend: ...

    def __exit__(self, *exc: object) -> None: ...
