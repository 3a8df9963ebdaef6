"""The vault's own jobs: ``index`` (paths), ``rebuild``, ``search-reindex``, ``commit`` and ``check``.

``vault_handlers(root)`` gives the handlers a worker runs for them; they open the vault once, on the
first job, and run one at a time (the index has one writer anyway). ``enqueue_index`` is how the
watcher (or anyone) hands changed paths to the queue, so indexing survives a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import QueueError
from .job import Job
from .protocol import QueueBackend
from .worker import Handler

log = logging.getLogger("mdstore.queue")

VAULT_JOB_KINDS = ("index", "rebuild", "search-reindex", "commit", "check")


def enqueue_index(queue: QueueBackend, paths: Iterable[str], *, priority: int = 0) -> Job:
    """One ``index`` job for these vault-relative paths; the same set enqueued again while it
    waits is the same job."""
    unique = sorted(set(paths))
    if not unique:
        raise QueueError("an index job needs at least one path")
    return queue.enqueue("index", {"paths": unique}, key="\n".join(unique), priority=priority)


def check_kind(kind: str, handler_specs: Iterable[str]) -> None:
    """Refuse a job ``kind`` that no worker of this vault can run: neither one of the vault's kinds
    nor the kind of a ``[queue] handlers`` entry (given as ``handler_specs``). Such a job would only
    fail every attempt and end dead."""
    from .worker import load_handlers

    if kind in VAULT_JOB_KINDS:
        return
    known = set(VAULT_JOB_KINDS) | set(load_handlers(handler_specs))
    if kind not in known:
        raise QueueError(
            f"unknown job kind {kind!r}: no handler runs it (known: {', '.join(sorted(known))}); "
            "register its handler in [queue] handlers, or enqueue it anyway for a worker of your own"
        )


def vault_handlers(root: str | os.PathLike[str]) -> dict[str, Handler]:
    """The handlers of the vault's job kinds, for the vault at ``root``."""
    jobs = _VaultJobs(Path(root))
    return {
        "index": jobs.index,
        "rebuild": jobs.rebuild,
        "search-reindex": jobs.search_reindex,
        "commit": jobs.commit,
        "check": jobs.check,
    }


class _VaultJobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._vault: Any = None
        self._lock = threading.Lock()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._vault is None:
                from ..vault import open_vault

                self._vault = open_vault(self.root)
            fn = getattr(self._vault, method, None)
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
