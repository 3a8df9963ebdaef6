"""The job queue: background work for the vault, and a general queue for programs using mdstore.

>>> from mdstore.queue import SpoolQueue, Worker
>>> q = SpoolQueue(".mdstore/queue", "default")
>>> q.enqueue("send", {"to": "ann"}, key="ann")          # same key while waiting: same job
>>> worker = Worker(q)
>>> @worker.handler("send")
... def send(job): ...
>>> worker.run(burst=True)

The backend is chosen once from the config (``open_queue``); every backend follows ``QueueBackend``.
See docs/queue.md.
"""

from __future__ import annotations

from ..config import Config
from .job import Job, JobState, QueueStats, job_id
from .jobs import VAULT_JOB_KINDS, check_kind, enqueue_index
from .postgres import PostgresQueue
from .protocol import MessageHandler, QueueBackend, Subscription
from .spool import SpoolQueue
from .worker import Handler, Worker, WorkerReport, handler, load_handlers


def open_queue(config: Config, name: str = "default", *, fsync: bool | None = None) -> QueueBackend:
    """The queue ``name`` of a vault, on the backend its config chooses (see ``mdstore.tiers``)."""
    from ..tiers import open_queue as build

    return build(config, name, fsync=fsync)


__all__ = [
    "VAULT_JOB_KINDS",
    "Handler",
    "Job",
    "JobState",
    "MessageHandler",
    "PostgresQueue",
    "QueueBackend",
    "QueueStats",
    "SpoolQueue",
    "Subscription",
    "Worker",
    "WorkerReport",
    "check_kind",
    "enqueue_index",
    "handler",
    "job_id",
    "load_handlers",
    "open_queue",
]
