"""The spool backend: a job queue made of files in ``.mdstore/queue/<queue>/``, with no service.

One folder per state; a job is one JSON file whose *name* carries its order::

    new/<prio>.<seq>.<id>.json                 waiting, claimed in name order (priority, then sequence)
    delayed/<due-ms>.<prio>.<seq>.<id>.json    waiting until <due-ms> (epoch milliseconds)
    claimed/<prio>.<seq>.<id>.<owner>.json     running; the file's mtime is the lease deadline
    claimed/<prio>.<seq>.<id>.<owner>.w.json   being rewritten by its owner (fail, retry, replace)
    done/<prio>.<seq>.<id>.json                finished; pruned after the retention
    dead/<prio>.<seq>.<id>.json                out of attempts; keeps the last error
    corrupt/                                   files that did not parse, moved aside
    tmp/  owners/  ids/  channels/  lock       temp files, live owners, id index, pub/sub, sequence

Every state change is one ``rename``, so after a crash at any instant each job is in exactly one
state. A rename whose source is gone fails, which makes claims exclusive and tells a consumer it lost
its lease. Rewriting a job (attempts, error) happens only on a ``.w`` file that its live owner holds
alone; a dead owner's ``.w`` file is taken over like any other claim.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Sequence as Seq
from dataclasses import replace as _replace
from pathlib import Path
from typing import Any

from ..errors import QueueError
from . import names, owners
from .files import TMP, fsync_dir, temp_owner, write_temp
from .idindex import IDS, index_id, prune_ids, waiting_path
from .job import Job, JobState, QueueStats, backoff, check_id, check_limit, check_priority, decode, encode
from .job import job_id as make_job_id
from .protocol import MessageHandler
from .pubsub import Channels, ChannelSubscription
from .sequence import Sequence

log = logging.getLogger("mdstore.queue")

CORRUPT = "corrupt"
_FOLDERS = (*(s.value for s in JobState), CORRUPT, TMP, owners.OWNERS, IDS)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LISTING_TTL = 0.25  # seconds a sorted listing of new/ is reused before a fresh look for priorities
# Listing a folder holds its lock against renames into it, and costs more once the folder has seen
# many files (ext4 never shrinks a directory): a consumer that has caught up with its producers
# waits this long between listings instead of spinning on readdir and stalling them.
_MIN_RELIST = 0.002
_DELAYED_RECHECK = 0.25  # seconds between looks at delayed/ for jobs other processes added
_MAX_ERROR = 8000


_GET_LOOKS = 3  # listings of the folders before get() says a job does not exist


class SpoolQueue:
    """A queue in ``<path>/<name>/`` (for a vault, ``path`` is ``.mdstore/queue``); safe to share
    between threads and between processes on one machine."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        name: str = "default",
        *,
        fsync: bool = True,
        lease: float = 60.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 300.0,
        retention: float = 24 * 3600.0,
        message_retention: float = 3600.0,
        poll_interval: float = 0.02,
    ) -> None:
        if not _NAME.match(name):
            raise QueueError(f"queue name {name!r} must be 1-64 letters, digits, '-' or '_'")
        if lease <= 0 or max_attempts < 1:
            raise QueueError("lease must be positive and max_attempts at least 1")
        self.name = name
        self.dir = Path(path) / name
        self.durable = fsync
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retention = retention
        self.poll_interval = poll_interval
        try:
            for folder in _FOLDERS:
                (self.dir / folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueueError(f"cannot create the queue folder {self.dir}: {exc}") from exc
        self._seq = Sequence(self.dir)
        self._owner = owners.OwnerToken(self.dir)
        self._channels = Channels(self.dir, self._seq, fsync, message_retention, poll_interval)
        self._mutex = threading.RLock()
        self._candidates: deque[str] = deque()
        self._listed_at = 0.0
        self._new_mtime = 0
        self._next_promote = 0.0
        self._next_reap = 0.0

    def __repr__(self) -> str:
        return f"SpoolQueue({str(self.dir.parent)!r}, {self.name!r})"

    def __enter__(self) -> SpoolQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- producing -----------------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        payload: Any = None,
        *,
        key: str | None = None,
        job_id: str | None = None,
        priority: int = 0,
        delay: float | None = None,
        max_attempts: int | None = None,
        replace: bool = False,
    ) -> Job:
        if not isinstance(kind, str) or not kind:
            raise QueueError("a job needs a kind (a non-empty string)")
        check_priority(priority)
        keyed = job_id is not None or key is not None
        jid = check_id(job_id) if job_id is not None else make_job_id(kind, key)
        now = time.time()
        due = now + delay if delay is not None and delay > 0 else None
        job = Job(jid, kind, payload, priority, 0, max_attempts or self.max_attempts, due, now)
        return self._put(job, keyed, replace)

    def adopt(self, job: Job) -> Job | None:
        """Add a job moved from another queue, waiting, keeping its id, kind, payload, priority,
        attempt limit, remaining delay and enqueue time (or the job with its id that waits for its
        first run, if there is one). None when this queue already holds that very job (same id and
        enqueue time) in any state, waiting included: an earlier move that was cut short added it,
        and it may have run since."""
        check_id(job.id)
        check_priority(job.priority)
        for state in JobState:
            for name in names.listdir(self.dir / state.value):
                info = names.parse(state, name)
                if info is None or info[1] != job.id:
                    continue
                found = self._read(self.dir / state.value / name)
                if found is not None and found.created_at == job.created_at:
                    return None
        due = job.not_before if job.not_before is not None and job.not_before > time.time() else None
        fresh = Job(job.id, job.kind, job.payload, job.priority, 0, job.max_attempts, due, job.created_at)
        return self._put(fresh, True, False)

    def _put(self, job: Job, keyed: bool, replace: bool) -> Job:
        """Write a new job file (or return the waiting job with its id, unless ``replace``)."""
        jid, priority, due = job.id, job.priority, job.not_before
        staged = write_temp(self.dir, self._owner.token, encode(job), self.durable)
        tmp: Path | None = staged
        try:
            with self._seq.locked():
                taken: Path | None = None
                if keyed:
                    waiting = waiting_path(self.dir, jid)
                    if waiting is not None and not replace:
                        found = self._read(waiting)
                        if found is not None:
                            return found
                    elif waiting is not None:
                        taken = self._take_over(waiting)
                seq = self._seq.take()
                dest = self._dest(names.stem(priority, seq, jid), due)
                if taken is not None:
                    # The replaced job's file becomes the new one: never two, never none.
                    os.rename(staged, taken)
                    staged = tmp = taken
                os.rename(staged, dest)
                tmp = None
                if keyed:
                    index_id(self.dir, jid, dest)
            if self.durable:
                fsync_dir(dest.parent)
        finally:
            if tmp is not None:
                os.unlink(tmp)
        if due is not None:
            self._next_promote = min(self._next_promote, due)
        else:
            self._saw_new(dest.name)
        state = JobState.DELAYED if due is not None else JobState.NEW
        return _replace(job, seq=seq, state=state)

    # -- consuming -----------------------------------------------------------------------------

    def claim(self, *, lease: float | None = None) -> Job | None:
        token = self._owner.token
        lease = lease or self.lease
        with self._mutex:
            self._maintain(time.time())
            relisted = False
            while True:
                age = time.monotonic() - self._listed_at
                if not self._candidates or (age > _LISTING_TTL and not relisted):
                    if relisted or age < _MIN_RELIST:
                        return None
                    self._new_mtime = _mtime(self.dir / "new")
                    listing = names.listdir(self.dir / "new")
                    self._candidates = deque(sorted(n for n in listing if n[0] != "."))
                    self._listed_at = time.monotonic()
                    relisted = True
                    continue
                name = self._candidates.popleft()
                src = self.dir / "new" / name
                parts = names.split(name, 4)
                if parts is None:
                    self._set_aside(src, "its name is not <prio>.<seq>.<id>.json")
                    continue
                dst = self.dir / "claimed" / f"{parts[0]}.{parts[1]}.{parts[2]}.{token}.json"
                deadline = time.time() + lease
                try:
                    # The lease is set before the claim so the claimed file is never seen expired.
                    os.utime(src, (deadline, deadline))
                    os.rename(src, dst)
                except FileNotFoundError:
                    continue  # another consumer took it
                job = self._load(dst, JobState.CLAIMED, token)
                if job is not None:
                    return job

    def ack(self, job: Job) -> None:
        self._finish(job, time.time())
        if self.durable:
            fsync_dir(self.dir / "done")

    def claim_many(self, limit: int, *, lease: float | None = None) -> list[Job]:
        """Up to ``limit`` ready jobs, in claim order: ``claim`` in a loop (each rename is its own
        exclusive claim)."""
        limit = check_limit(limit)
        jobs: list[Job] = []
        while len(jobs) < limit:
            try:
                job = self.claim(lease=lease)
            except (OSError, QueueError):
                if not jobs:
                    raise
                break  # the jobs already claimed are the caller's; the next call reports the error
            if job is None:
                break
            jobs.append(job)
        return jobs

    def ack_many(self, jobs: Seq[Job]) -> list[Job]:
        """Mark claimed jobs done (one rename each, one folder fsync for all); the jobs whose claim
        was lost."""
        lost: list[Job] = []
        now = time.time()
        for job in jobs:
            try:
                self._finish(job, now)
            except QueueError:
                lost.append(job)
        if self.durable and len(lost) < len(jobs):
            fsync_dir(self.dir / "done")
        return lost

    def extend_many(self, jobs: Seq[Job], lease: float | None = None) -> list[Job]:
        """Push the leases of claimed jobs; the jobs whose claim was lost."""
        lost: list[Job] = []
        for job in jobs:
            try:
                self.extend(job, lease)
            except QueueError:
                lost.append(job)
        return lost

    def fail(self, job: Job, error: str, *, retry: bool = True) -> Job:
        owned = self._own(self._claimed_path(job))
        if owned is None:
            raise QueueError(f"job {job.id}: lost its claim (lease expired) before it could fail")
        return self._reschedule(owned, job, error, retry)

    def release(self, job: Job) -> None:
        name = f"{names.job_stem(job)}.json"
        self._move_claimed(job, self.dir / "new" / name)
        self._saw_new(name)

    def extend(self, job: Job, lease: float | None = None) -> None:
        deadline = time.time() + (lease or self.lease)
        try:
            os.utime(self._claimed_path(job), (deadline, deadline))
        except FileNotFoundError:
            raise QueueError(f"job {job.id}: lost its claim (lease expired); cannot extend") from None

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        step = 0.001
        new = self.dir / "new"
        while True:
            # A stat, not a listing: new/ changed since our last look, or a delayed job is due, or
            # our last look is older than poll_interval (mtimes are coarse: a change in the same
            # clock tick as our look keeps the old mtime).
            if (
                time.time() >= self._next_promote
                or _mtime(new) != self._new_mtime
                or time.monotonic() - self._listed_at >= self.poll_interval
            ):
                # claim() lists again only _MIN_RELIST after its last listing.
                time.sleep(max(0.0, self._listed_at + _MIN_RELIST - time.monotonic()))
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Short sleeps right after activity, longer ones (up to poll_interval) when idle.
            time.sleep(min(step, remaining))
            step = min(step * 2, self.poll_interval)

    # -- inspecting and maintenance ------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        # A job can move between the folder listings (claimed -> delayed on a retry) or between a
        # listing and the read (claimed -> done on an ack): look again before calling it missing.
        for _ in range(_GET_LOOKS):
            best: tuple[int, Path] | None = None
            for state in JobState:
                for name in names.listdir(self.dir / state.value):
                    info = names.parse(state, name)
                    if info is not None and info[1] == job_id and (best is None or info[0] > best[0]):
                        best = (info[0], self.dir / state.value / name)
            job = None if best is None else self._read(best[1])
            if job is not None:
                return job
        return None

    def jobs(self, state: JobState | None = None, *, limit: int | None = None) -> list[Job]:
        result: list[Job] = []
        for each in [state] if state is not None else list(JobState):
            folder = self.dir / each.value
            for name in sorted(n for n in names.listdir(folder) if names.parse(each, n) is not None):
                if limit is not None and len(result) >= limit:
                    return result
                job = self._read(folder / name)
                if job is not None:
                    result.append(job)
        return result

    def length(self) -> int:
        return sum(names.count(self.dir / s) for s in ("new", "delayed"))

    def stats(self) -> QueueStats:
        counts = {s.value: names.count(self.dir / s.value) for s in JobState}
        return QueueStats(queue=self.name, corrupt=len(names.listdir(self.dir / CORRUPT)), **counts)

    def retry(self, job_id: str | None = None) -> int:
        count = 0
        for name in names.listdir(self.dir / "dead"):
            info = names.parse(JobState.DEAD, name)
            if info is None or (job_id is not None and info[1] != job_id):
                continue
            owned = self._own(self.dir / "dead" / name)
            job = None if owned is None else self._load(owned, JobState.CLAIMED)
            if owned is None or job is None:
                continue
            fresh = _replace(job, attempts=0, not_before=None)
            self._rewrite(owned, fresh, self.dir / "new" / f"{names.job_stem(job)}.json")
            self._saw_new(f"{names.job_stem(job)}.json")
            count += 1
        if job_id is not None and count == 0:
            raise QueueError(f"no dead job {job_id!r} in queue {self.name!r}")
        return count

    def purge(self, state: JobState = JobState.DEAD, *, job_id: str | None = None) -> int:
        state = JobState(state)
        if state is JobState.CLAIMED:
            raise QueueError("running jobs cannot be purged; stop their workers (leases then expire)")
        count = 0
        for name in names.listdir(self.dir / state.value):
            info = names.parse(state, name)
            if info is not None and (job_id is None or info[1] == job_id):
                count += names.unlink(self.dir / state.value / name)
        return count

    def prune(self) -> int:
        now = time.time()
        removed = 0
        for name in names.listdir(self.dir / "done"):
            path = self.dir / "done" / name
            try:
                if os.stat(path).st_mtime < now - self.retention:
                    removed += names.unlink(path)
            except FileNotFoundError:
                pass
        alive: dict[str, bool] = {}
        for name in names.listdir(self.dir / TMP):
            token = temp_owner(name)
            if token is not None and token not in alive:
                alive[token] = owners.is_alive(self.dir, token)
            if token is None or not alive[token]:
                removed += names.unlink(self.dir / TMP / name)
        owners.remove_dead(self.dir)
        with self._seq.locked():
            prune_ids(self.dir)
        return removed + self._channels.prune()

    # -- pub/sub -------------------------------------------------------------------------------

    def publish(self, channel: str, message: Any) -> None:
        self._channels.publish(channel, message, self._owner.token)

    def subscribe(
        self, channel: str, handler: MessageHandler, *, durable: str | None = None
    ) -> ChannelSubscription:
        return self._channels.subscribe(channel, handler, durable=durable)

    def close(self) -> None:
        self._channels.close()
        self._owner.close()
        self._seq.close()

    # -- internals -----------------------------------------------------------------------------

    def _maintain(self, now: float) -> None:
        if now >= self._next_promote:
            self._promote(now)
        if now >= self._next_reap:
            self._next_reap = now + min(1.0, self.lease / 4)
            self._reap(now)

    def _promote(self, now: float) -> None:
        """Move due jobs from delayed/ to new/ (any consumer may do it; the rename decides)."""
        next_due = now + _DELAYED_RECHECK
        limit_ms = int(now * 1000)
        for name in names.listdir(self.dir / "delayed"):
            due_ms, _, rest = name.partition(".")
            if not due_ms.isdigit() or names.split(rest, 4) is None:
                self._set_aside(self.dir / "delayed" / name, "its name is not <due>.<prio>.<seq>.<id>.json")
            elif int(due_ms) <= limit_ms:
                try:
                    os.rename(self.dir / "delayed" / name, self.dir / "new" / rest)
                    self._saw_new(rest)
                except FileNotFoundError:
                    pass
            else:
                next_due = min(next_due, int(due_ms) / 1000)
        self._next_promote = next_due

    def _reap(self, now: float) -> None:
        """Take back claims whose owner died or whose lease ended; each counts as a failed attempt."""
        mine = self._owner.token
        alive: dict[str, bool] = {mine: True}
        for name in names.listdir(self.dir / "claimed"):
            parts = name.split(".")
            if len(parts) not in (5, 6) or parts[-1] != "json":
                continue
            owner = parts[3]
            if owner not in alive:
                alive[owner] = owners.is_alive(self.dir, owner)
            path = self.dir / "claimed" / name
            if len(parts) == 6:
                if alive[owner]:
                    continue  # a live owner is rewriting it right now
                reason = "its worker died"
            elif alive[owner]:
                try:
                    if os.stat(path).st_mtime > now:
                        continue
                except FileNotFoundError:
                    continue
                reason = "its lease expired"
            else:
                reason = "its worker died"
            owned = self._own(path)
            job = None if owned is None else self._load(owned, JobState.CLAIMED)
            if owned is None or job is None:
                continue
            log.warning("queue %s: job %s (%s) taken back: %s", self.name, job.id, job.kind, reason)
            self._reschedule(owned, job, f"{reason} while it ran (owner {owner})", retry=True)

    def _saw_new(self, name: str) -> None:
        """A job entered new/: if it sorts before our cached listing's head, the listing is stale."""
        with self._mutex:
            if not self._candidates or name < self._candidates[0]:
                self._listed_at = 0.0

    def _reschedule(self, owned: Path, job: Job, error: str, retry: bool) -> Job:
        attempts = job.attempts + 1
        stem = names.job_stem(job)
        error = error if len(error) <= _MAX_ERROR else error[: _MAX_ERROR - 1] + "…"
        if retry and attempts < job.max_attempts:
            due = time.time() + backoff(attempts, self.backoff, self.backoff_max)
            updated = _replace(
                job, attempts=attempts, last_error=error, not_before=due, state=JobState.DELAYED
            )
            self._rewrite(owned, updated, self._dest(stem, due))
            self._next_promote = min(self._next_promote, due)
        else:
            updated = _replace(job, attempts=attempts, last_error=error, not_before=None, state=JobState.DEAD)
            self._rewrite(owned, updated, self.dir / "dead" / f"{stem}.json")
        return _replace(updated, token=None)

    def _rewrite(self, owned: Path, job: Job, dest: Path) -> None:
        """Give a ``.w`` file we own new contents, then move it to its next state."""
        tmp = write_temp(self.dir, self._owner.token, encode(job), self.durable)
        os.rename(tmp, owned)
        os.rename(owned, dest)
        if self.durable:
            fsync_dir(dest.parent)
            fsync_dir(owned.parent)

    def _own(self, path: Path) -> Path | None:
        """Rename a job file to a ``.w`` claim of ours (None if someone else moved it first)."""
        parts = path.name.split(".")
        if path.parent.name == "delayed":
            parts = parts[1:]
        owned = self.dir / "claimed" / f"{parts[0]}.{parts[1]}.{parts[2]}.{self._owner.token}.w.json"
        try:
            os.rename(path, owned)
        except FileNotFoundError:
            return None
        return owned

    def _take_over(self, waiting: Path) -> Path | None:
        owned = self._own(waiting)
        if owned is None and waiting.parent.name == "delayed":
            # It may have just been promoted to new/.
            owned = self._own(self.dir / "new" / waiting.name.partition(".")[2])
        return owned

    def _finish(self, job: Job, now: float) -> None:
        """Move a claimed job to done/ (``QueueError`` if its claim was lost), stamped ``now``."""
        done = self.dir / "done" / f"{names.job_stem(job)}.json"
        self._move_claimed(job, done)
        os.utime(done, (now, now))  # the retention clock starts when the job finished

    def _move_claimed(self, job: Job, dest: Path) -> None:
        try:
            os.rename(self._claimed_path(job), dest)
        except FileNotFoundError:
            raise QueueError(f"job {job.id}: lost its claim (lease expired; it will run again)") from None

    def _claimed_path(self, job: Job) -> Path:
        if job.token is None:
            raise QueueError(f"job {job.id} was not claimed (only a job returned by claim can be)")
        return self.dir / "claimed" / f"{names.job_stem(job)}.{job.token}.json"

    def _dest(self, stem: str, due: float | None) -> Path:
        if due is None:
            return self.dir / "new" / f"{stem}.json"
        # Rounded up: a job must not become due before its not_before, not even by a millisecond.
        return self.dir / "delayed" / f"{math.ceil(due * 1000):013d}.{stem}.json"

    def _read(self, path: Path) -> Job | None:
        state = JobState(path.parent.name)
        info = names.parse(state, path.name)
        token = info[2] if info is not None else None
        try:
            return self._load(path, state, token, quiet=True)
        except FileNotFoundError:
            return None

    def _load(self, path: Path, state: JobState, token: str | None = None, quiet: bool = False) -> Job | None:
        name = path.name
        info = names.parse(state, name)
        try:
            if info is None:
                raise ValueError("unexpected file name")
            with open(path, "rb") as fh:
                return decode(fh.read(), seq=info[0], state=state, token=token)
        except FileNotFoundError:
            if quiet:
                raise
            return None
        except (ValueError, UnicodeDecodeError) as exc:
            if not quiet:
                self._set_aside(path, f"not a valid job file: {exc}")
            return None

    def _set_aside(self, path: Path, reason: str) -> None:
        dest = self.dir / CORRUPT / f"{path.name}.{int(time.time() * 1000)}"
        try:
            os.rename(path, dest)
        except FileNotFoundError:
            return
        log.error("queue %s: job file %s is %s; moved to %s", self.name, path.name, reason, dest)


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0
