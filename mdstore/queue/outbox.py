"""The outbox: background work promised by a write, recorded before the write so a crash cannot
lose it, and handed to the queue afterwards (``.mdstore/outbox/``).

A writer calls ``record`` *before* it writes the note, then ``publish`` after. Each intent is one
small JSON file, put in place by one ``rename``::

    pending/<id>.json    promised, not yet in the queue (or its last publish failed: attempts, error)
    done/<id>.json       in the queue; kept ``retention`` seconds for inspection, then pruned
    tmp/                 files being written

``reconcile`` (run when a worker starts, and by anyone who wants the backlog out) publishes every
pending intent. The intent's id is the job's id, and a publish first asks the queue whether a job
with that id exists in any state: an intent whose job was enqueued just before a crash is marked
done, not enqueued again. So after any crash and any number of reconciles, each intent becomes
exactly one job. A publish that fails (queue unreachable) leaves the intent pending, with its
attempts and last error, for the next reconcile.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import MdstoreError, QueueError
from .files import fsync_dir
from .job import job_id, to_json
from .protocol import QueueBackend

log = logging.getLogger("mdstore.queue")

OUTBOX_DIR = "outbox"


@dataclass(frozen=True)
class Intent:
    id: str  # the job's id
    kind: str
    payload: Any = None
    priority: int = 0
    created_at: float = 0.0
    attempts: int = 0  # failed publishes
    last_error: str | None = None


@dataclass(frozen=True)
class ReconcileReport:
    published: int  # enqueued now
    already: int  # their job was in the queue already (a crash came between enqueue and done)
    failed: int  # still pending: the queue refused or could not be reached

    @property
    def pending(self) -> int:
        return self.failed


class Outbox:
    """The outbox of a vault (``state_dir`` is its ``.mdstore``)."""

    def __init__(
        self, state_dir: str | os.PathLike[str], *, durable: bool = True, retention: float = 86400.0
    ) -> None:
        self.dir = Path(state_dir) / OUTBOX_DIR
        self.durable = durable
        self.retention = retention
        try:
            for sub in ("pending", "done", "tmp"):
                (self.dir / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueueError(f"cannot create the outbox folder {self.dir}: {exc}") from exc

    def record(self, kind: str, payload: Any = None, *, priority: int = 0) -> Intent:
        """Promise a job; durable (with ``durable``) when this returns. Call it before the write."""
        if not isinstance(kind, str) or not kind:
            raise QueueError("an intent needs a kind (a non-empty string)")
        to_json(f"intent {kind!r}", payload)
        intent = Intent(job_id(kind, uuid.uuid4().hex), kind, payload, priority, time.time())
        self._put(intent)
        return intent

    def publish(self, queue: QueueBackend, intent: Intent) -> bool:
        """Hand one intent to ``queue`` and mark it done; False (intent kept, error recorded) when the
        queue fails."""
        return self._publish(queue, intent) != "failed"

    def reconcile(self, queue: QueueBackend) -> ReconcileReport:
        """Publish every pending intent, oldest first."""
        counts = {"published": 0, "already": 0, "failed": 0}
        for intent in sorted(self.pending(), key=lambda i: i.created_at):
            counts[self._publish(queue, intent)] += 1
        if counts["failed"]:
            log.warning("outbox: %d intents still pending (queue unavailable?)", counts["failed"])
        return ReconcileReport(**counts)

    def pending(self) -> list[Intent]:
        found = []
        for path in (self.dir / "pending").glob("*.json"):
            intent = self._read(path)
            if intent is not None:
                found.append(intent)
        return found

    def done(self) -> list[str]:
        """Ids of the intents handed to the queue (within the retention)."""
        return sorted(p.stem for p in (self.dir / "done").glob("*.json"))

    def prune(self) -> int:
        """Delete done records older than the retention and temp files left by crashed writers."""
        removed = 0
        cutoff = time.time() - self.retention
        for path in [*(self.dir / "done").glob("*.json"), *(self.dir / "tmp").iterdir()]:
            try:
                if path.parent.name == "tmp" or path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    # -- internals -----------------------------------------------------------------------------

    def _publish(self, queue: QueueBackend, intent: Intent) -> str:
        try:
            if queue.get(intent.id) is not None:
                outcome = "already"
            else:
                queue.enqueue(intent.kind, intent.payload, job_id=intent.id, priority=intent.priority)
                outcome = "published"
        except MdstoreError as exc:
            failed = replace(intent, attempts=intent.attempts + 1, last_error=str(exc))
            self._put(failed)
            log.warning("outbox: intent %s (%s) not published: %s", intent.id, intent.kind, exc)
            return "failed"
        src = self.dir / "pending" / f"{intent.id}.json"
        try:
            os.rename(src, self.dir / "done" / src.name)
        except FileNotFoundError:
            pass  # another reconcile marked it done first
        if self.durable:
            fsync_dir(self.dir / "done")
        return outcome

    def _put(self, intent: Intent) -> None:
        data = json.dumps(intent.__dict__, ensure_ascii=False).encode()
        tmp = self.dir / "tmp" / f"{intent.id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        with open(tmp, "wb") as fh:
            fh.write(data)
            if self.durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, self.dir / "pending" / f"{intent.id}.json")
        if self.durable:
            fsync_dir(self.dir / "pending")

    def _read(self, path: Path) -> Intent | None:
        try:
            data = json.loads(path.read_bytes())
            return Intent(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            log.error("outbox: %s is not an intent (%s); left in place", path, exc)
            return None
