"""Moving waiting jobs from one queue backend to another (the spool to the team database when a
vault moves up a tier, or back), under the same ids.

Each job is added to the destination under its own id and enqueue time first and only then deleted
from the source, so an interruption at any point loses nothing, and running the move again is
harmless: the destination recognises the jobs it already holds (``adopt``), whether they still wait
or a worker there has run them since (a job finished in between is not added again, so it never
runs twice). A finished job is recognised until the destination prunes it (``retention``): run an
interrupted move again within that time. Stop the workers of the source first: a running job stays
where it is (reported as ``running``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .job import JobState
from .protocol import QueueBackend


@dataclass(frozen=True)
class MoveReport:
    moved: int  # waiting jobs now in the destination (and gone from the source)
    running: int  # claimed jobs left in the source (their workers still hold them)
    dead: int  # dead jobs left in the source (retry them there, or purge them)
    already: int = 0  # jobs an earlier, interrupted move had added (and that may have run): not added again


def move_jobs(source: QueueBackend, dest: QueueBackend) -> MoveReport:
    """Move every waiting (new or delayed) job of ``source`` into ``dest``, keeping ids, kinds,
    payloads, priorities, attempt limits and the remaining delay."""
    moved = already = 0
    for state in (JobState.NEW, JobState.DELAYED):
        for job in source.jobs(state):
            if dest.adopt(job) is None:
                already += 1
            else:
                moved += 1
            source.purge(state, job_id=job.id)
    stats = source.stats()
    return MoveReport(moved=moved, running=stats.claimed, dead=stats.dead, already=already)
