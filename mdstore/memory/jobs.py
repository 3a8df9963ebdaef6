"""The scheduled Dream as a queue job. Load it in the worker with
``[queue] handlers = ["mdstore.memory.jobs"]``; start the cycle once with ``mdstore memory
schedule`` (``Memory.schedule_dream``): each run enqueues the next one."""

from __future__ import annotations

import logging

from ..queue import Job, handler
from .dream import JOB_KIND, schedule

log = logging.getLogger("mdstore.memory")


@handler(JOB_KIND)
def memory_dream(job: Job) -> None:
    """Dream when at least ``dream_min_sessions`` sessions happened since the last one (Dream
    archives the sessions it consolidates, so those left in the sessions folder are new)."""
    from ..vault import open_vault

    with open_vault((job.payload or {}).get("vault")) as vault:
        settings = vault.config.memory
        sessions = vault.find(where={"type": "session"}, folder=f"{settings.folder.strip('/')}/sessions")
        if len(sessions) >= settings.dream_min_sessions:
            report = vault.memory.dream()
            log.info("dream: %d sessions, %d merged", report.sessions, report.insights_merged)
        else:
            log.info("dream skipped: %d sessions (fewer than %d)", len(sessions), settings.dream_min_sessions)
        schedule(vault)
