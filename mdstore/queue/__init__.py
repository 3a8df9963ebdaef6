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
from ..errors import ConfigError
from .job import Job, JobState, QueueStats, job_id
from .jobs import VAULT_JOB_KINDS, enqueue_index, vault_handlers
from .postgres import PostgresQueue
from .protocol import MessageHandler, QueueBackend, Subscription
from .spool import SpoolQueue
from .worker import Handler, Worker, WorkerReport, handler, load_handlers

QUEUE_DIR = "queue"


def open_queue(config: Config, name: str = "default", *, fsync: bool | None = None) -> SpoolQueue:
    """The queue ``name`` of a vault, as its ``[queue]`` settings describe it."""
    settings = config.queue
    if settings.backend != "spool":
        raise ConfigError(f"setting queue.backend: unknown queue backend {settings.backend!r} (known: spool)")
    return SpoolQueue(
        config.state_dir / QUEUE_DIR,
        name,
        fsync=settings.fsync if fsync is None else fsync,
        lease=settings.lease_seconds,
        max_attempts=settings.max_attempts,
        backoff=settings.backoff_seconds,
        backoff_max=settings.backoff_max_seconds,
        retention=settings.retention_hours * 3600,
        message_retention=settings.message_retention_hours * 3600,
        poll_interval=settings.poll_seconds,
    )


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
    "enqueue_index",
    "handler",
    "job_id",
    "load_handlers",
    "open_queue",
    "vault_handlers",
]
