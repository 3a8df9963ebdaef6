"""The job: a frozen record of one unit of background work, its states, ids and retry delays.

A job is stored as a small JSON object; the fields that decide its place in the queue (state,
priority, sequence number, due time) live in the spool's file names, so ordering never needs a
file read. Times are seconds since the epoch (``time.time()``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import QueueError

MIN_PRIORITY = -999
MAX_PRIORITY = 999
_ID = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
_SLUG = re.compile(r"[^a-z0-9]+")


class JobState(enum.StrEnum):
    """Where a job is: waiting (``new``, or ``delayed`` until ``not_before``), running, or finished."""

    NEW = "new"
    DELAYED = "delayed"
    CLAIMED = "claimed"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class Job:
    """One job. ``attempts`` counts the runs that failed or lost their lease so far; a job becomes
    dead once ``attempts`` reaches ``max_attempts``. ``token`` identifies a claim (set only on a
    job returned by ``claim``) and is what ``ack``/``fail``/``release``/``extend`` check."""

    id: str
    kind: str
    payload: Any = None
    priority: int = 0
    attempts: int = 0
    max_attempts: int = 5
    not_before: float | None = None
    created_at: float = 0.0
    last_error: str | None = None
    seq: int = 0
    state: JobState = JobState.NEW
    token: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The job as plain data (what ``mdstore queue show`` prints)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": str(self.state),
            "payload": self.payload,
            "priority": self.priority,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "not_before": self.not_before,
            "created_at": self.created_at,
            "last_error": self.last_error,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class QueueStats:
    """How many jobs are in each state (``corrupt``: files moved aside because they did not parse)."""

    queue: str
    new: int = 0
    delayed: int = 0
    claimed: int = 0
    done: int = 0
    dead: int = 0
    corrupt: int = 0

    @property
    def waiting(self) -> int:
        return self.new + self.delayed

    def to_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "new": self.new,
            "delayed": self.delayed,
            "claimed": self.claimed,
            "done": self.done,
            "dead": self.dead,
            "corrupt": self.corrupt,
        }


def job_id(kind: str, key: str | None = None) -> str:
    """The id of a job: deterministic from ``kind`` and ``key`` (so enqueueing the same work twice
    gives one job), random without a key. The kind's slug leads so ids read well in listings."""
    slug = _SLUG.sub("-", kind.lower()).strip("-")[:24] or "job"
    if key is None:
        return f"{slug}-{uuid.uuid4().hex[:20]}"
    digest = hashlib.blake2b(f"{kind}\0{key}".encode(), digest_size=10).hexdigest()
    return f"{slug}-{digest}"


def check_id(value: str) -> str:
    if not _ID.match(value):
        raise QueueError(f"job id {value!r} must be 1-120 letters, digits, '-' or '_'")
    return value


def check_priority(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise QueueError(f"priority {value!r} must be an integer from {MIN_PRIORITY} to {MAX_PRIORITY}")
    return value


def check_limit(value: int) -> int:
    """A batch size: an integer of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QueueError(f"batch size {value!r} must be an integer of at least 1")
    return value


def backoff(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempts`` (1 = after the first failure): exponential,
    capped, with "equal jitter" (half fixed, half random) so failed jobs do not retry in lockstep."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def encode(job: Job) -> bytes:
    """The JSON of a job file. State and sequence are not stored: the file's folder and name hold them."""
    data = {
        "id": job.id,
        "kind": job.kind,
        "payload": job.payload,
        "priority": job.priority,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "not_before": job.not_before,
        "created_at": job.created_at,
        "last_error": job.last_error,
    }
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise QueueError(f"job {job.kind!r}: payload is not JSON-serialisable: {exc}") from exc


def to_json(what: str, value: Any) -> str:
    """``value`` as strict JSON (no NaN), or one ``QueueError`` naming ``what`` (a job kind, a channel)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise QueueError(f"{what}: payload is not JSON-serialisable: {exc}") from exc


def decode(raw: bytes, *, seq: int, state: JobState, token: str | None = None) -> Job:
    """A job from its file's bytes; ``ValueError`` if they are not a job (the caller moves the file aside)."""
    data = json.loads(raw)
    if not isinstance(data, Mapping):
        raise ValueError("not a JSON object")
    try:
        return Job(
            id=str(data["id"]),
            kind=str(data["kind"]),
            payload=data.get("payload"),
            priority=int(data.get("priority", 0)),
            attempts=int(data.get("attempts", 0)),
            max_attempts=int(data.get("max_attempts", 5)),
            not_before=_opt_float(data.get("not_before")),
            created_at=float(data.get("created_at", 0.0)),
            last_error=data.get("last_error"),
            seq=seq,
            state=state,
            token=token,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing or mistyped field: {exc}") from exc


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
