"""The vault's own job kinds, and ``enqueue_index``: how the watcher (or anyone) hands changed paths
to the queue, so indexing survives a restart. Their handlers open a vault, so they live above it,
in ``mdstore.handlers``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ..errors import QueueError
from .job import Job
from .protocol import QueueBackend

log = logging.getLogger("mdstore.queue")

VAULT_JOB_KINDS = ("index", "rebuild", "search-reindex", "commit", "check", "memory-dream")


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
