"""The handlers of the vault's own jobs: ``index`` (paths), ``rebuild``, ``search-reindex``,
``commit``, ``check`` and ``memory-dream``.

``vault_handlers(root)`` gives them to a worker; they open the vault once, on the first job, and
run one at a time (the index has one writer anyway). They open a vault, so they sit above
``vault.py`` (docs/architecture.md), not in the queue package.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from .errors import QueueError
from .queue import Job
from .queue.worker import Handler

log = logging.getLogger("mdstore.queue")


def vault_handlers(root: str | os.PathLike[str]) -> dict[str, Handler]:
    """The handlers of the vault's job kinds, for the vault at ``root``."""
    jobs = _VaultJobs(Path(root))
    return {
        "index": jobs.index,
        "rebuild": jobs.rebuild,
        "search-reindex": jobs.search_reindex,
        "commit": jobs.commit,
        "check": jobs.check,
        "memory-dream": jobs.memory_dream,
    }


class _VaultJobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._vault: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        """The vault, opened on the first job (call with ``_lock`` held)."""
        if self._vault is None:
            from .vault import open_vault

            self._vault = open_vault(self.root)
        return self._vault

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            fn = getattr(self._open(), method, None)
            if fn is None:
                raise QueueError(f"this version of mdstore has no Vault.{method}()")
            return fn(*args, **kwargs)

    def index(self, job: Job) -> None:
        paths = (job.payload or {}).get("paths")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise QueueError(f"index job {job.id}: payload needs 'paths', a list of vault-relative paths")
        report = self._call("sync", paths=paths)
        log.info("index job %s: %d changed", job.id, report.changed_count)

    def rebuild(self, job: Job) -> None:
        report = self._call("sync", rebuild=True)
        log.info("rebuild job %s: %d notes scanned", job.id, report.scanned)

    def search_reindex(self, job: Job) -> None:
        self._call("reindex_search")

    def commit(self, job: Job) -> None:
        message = (job.payload or {}).get("message") or "mdstore: commit from the job queue"
        self._call("commit", str(message))

    def check(self, job: Job) -> None:
        issues = self._call("check")
        log.info("check job %s: %d issues", job.id, len(issues))

    def memory_dream(self, job: Job) -> None:
        """Dream when at least ``dream_min_sessions`` sessions happened since the last one (Dream
        archives the sessions it consolidates, so those left in the sessions folder are new), then
        schedule the next run."""
        from .memory.dream import schedule

        with self._lock:
            vault = self._open()
            settings = vault.config.memory
            folder = f"{settings.folder.strip('/')}/sessions"
            sessions = vault.find(where={"type": "session"}, folder=folder)
            if len(sessions) >= settings.dream_min_sessions:
                report = vault.memory.dream()
                log.info("dream: %d sessions, %d merged", report.sessions, report.insights_merged)
            else:
                log.info("dream skipped: %d sessions (< %d)", len(sessions), settings.dream_min_sessions)
            schedule(vault)
