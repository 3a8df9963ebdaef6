"""Moving waiting jobs from one queue backend to another (the spool to the team database when a
vault moves up a tier, or back), under the same ids.

Each job is enqueued in the destination under its own id first and only then deleted from the
source, so an interruption at any point loses nothing, and running the move again is harmless: the
destination already holds a job with that id waiting, and returns it instead of adding another.
Stop the workers of the source first: a running job stays where it is (reported as ``running``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .job import JobState
from .protocol import QueueBackend


@dataclass(frozen=True)
class MoveReport:
    moved: int  # waiting jobs now in the destination (and gone from the source)
    running: int  # claimed jobs left in the source (their workers still hold them)
    dead: int  # dead jobs left in the source (retry them there, or purge them)


def move_jobs(source: QueueBackend, dest: QueueBackend) -> MoveReport:
    """Move every waiting (new or delayed) job of ``source`` into ``dest``, keeping ids, kinds,
    payloads, priorities, attempt limits and the remaining delay."""
    moved = 0
    for state in (JobState.NEW, JobState.DELAYED):
        for job in source.jobs(state):
            delay = None if job.not_before is None else max(0.0, job.not_before - time.time())
            dest.enqueue(
                job.kind,
                job.payload,
                job_id=job.id,
                priority=job.priority,
                delay=delay or None,
                max_attempts=job.max_attempts,
            )
            source.purge(state, job_id=job.id)
            moved += 1
    stats = source.stats()
    return MoveReport(moved=moved, running=stats.claimed, dead=stats.dead)
