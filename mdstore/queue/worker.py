"""The worker: claims jobs, runs the handler registered for each job's kind, acks or fails them.

Handlers are plain functions ``handler(job) -> None``. Register them on a ``Worker`` (``@worker.handler
("kind")``), mark them with the module-level ``@handler("kind")`` decorator and load the module by
dotted path (``[queue] handlers = ["myapp.jobs"]`` in ``mdstore.toml``), or name one function:
``"kind=myapp.jobs:send"``. A handler's exception is recorded on its job (which is retried, then
dead); it never stops the worker. While a job runs the worker extends its lease, so long jobs keep
their claim; if the worker dies the lease runs out and another worker takes the job. A worker
thread that fails outside a handler (the queue itself broke: a disk error, a bug) stops the whole
worker: the other threads finish their jobs, and ``run`` raises ``QueueError`` naming the failure,
rather than running on silently with fewer threads.

Batches: each worker thread claims up to ``claim_batch`` jobs in one call (each its own claim, with
its own lease that the worker extends while the jobs wait their turn) and runs them one after the
other. Acks are buffered and written together (``ack_many``, one statement on Postgres): a buffered
ack is written before the thread claims more, when ``stop()`` ends the run, and at most
``ack_delay`` seconds after its handler returned. A job's ack is *durable* only once written: a
worker killed with acks in its buffer leaves those jobs to run again after their leases, as a worker
killed between a handler and its ack always did (at-least-once). ``WorkerReport.done`` counts
durable acks only. ``claim_batch=1, ack_delay=0`` is one claim and one ack per job.

Shutdown (SIGINT/SIGTERM, or ``stop()``): no new claims; jobs in flight finish, jobs claimed ahead
but not started go back to the queue at once (not counted as attempts), buffered acks are written,
and after ``shutdown_timeout`` seconds (or a second signal) the jobs still running are released to
the queue.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from ..errors import BackendUnavailable, ConfigError, QueueError
from .job import Job, JobState
from .protocol import QueueBackend

log = logging.getLogger("mdstore.queue")

Handler = Callable[[Job], Any]
F = TypeVar("F", bound=Callable[..., Any])
_KIND_ATTR = "__mdstore_job_kind__"


def handler(kind: str) -> Callable[[F], F]:
    """Mark a function as the handler of ``kind``; a worker loading its module by dotted path finds it."""

    def mark(fn: F) -> F:
        setattr(fn, _KIND_ATTR, kind)
        return fn

    return mark


def load_handlers(specs: Iterable[str]) -> dict[str, Handler]:
    """Handlers from dotted paths: ``"pkg.mod"`` (every ``@handler`` function in it),
    ``"pkg.mod:func"`` (kind from its mark, else its name) or ``"kind=pkg.mod:func"``."""
    found: dict[str, Handler] = {}
    for spec in specs:
        kind, _, target = spec.rpartition("=")
        module_name, _, attr = target.strip().partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"queue handler {spec!r}: cannot import {module_name!r}: {exc}") from exc
        if not attr:
            marked = {
                getattr(f, _KIND_ATTR): f for _, f in inspect.getmembers(module) if hasattr(f, _KIND_ATTR)
            }
            if not marked:
                raise ConfigError(f"queue handler {spec!r}: module has no @mdstore.queue.handler functions")
            found.update(marked)
            continue
        fn = getattr(module, attr, None)
        if not callable(fn):
            raise ConfigError(f"queue handler {spec!r}: {module_name} has no function {attr!r}")
        found[kind.strip() or getattr(fn, _KIND_ATTR, attr)] = fn
    return found


@dataclass(frozen=True)
class WorkerReport:
    """What a ``Worker.run`` did, counted in jobs: ``done`` finished, ``failed`` whose last run here
    failed (``dead`` of them out of attempts, the others waiting for a retry), ``released`` given
    back at shutdown. ``failed_runs`` counts the failed runs themselves (a job tried three times
    is one failed job and three failed runs)."""

    done: int
    failed: int
    released: int
    dead: int = 0
    failed_runs: int = 0


class Worker:
    def __init__(
        self,
        queue: QueueBackend,
        handlers: Mapping[str, Handler] | None = None,
        *,
        concurrency: int = 1,
        lease: float | None = None,
        shutdown_timeout: float = 30.0,
        prune_interval: float = 300.0,
        claim_batch: int = 10,
        ack_delay: float = 0.01,
    ) -> None:
        if concurrency < 1:
            raise QueueError("concurrency must be at least 1")
        if isinstance(claim_batch, bool) or not isinstance(claim_batch, int) or claim_batch < 1:
            raise QueueError(f"claim_batch {claim_batch!r} must be an integer of at least 1")
        if not 0 <= ack_delay <= 60:
            raise QueueError(f"ack_delay {ack_delay!r} must be 0 to 60 seconds")
        self.queue = queue
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.concurrency = concurrency
        self.lease = lease if lease is not None else float(getattr(queue, "lease", 60.0))
        self.shutdown_timeout = shutdown_timeout
        self.prune_interval = prune_interval
        # Backends written before batches existed are driven one job at a time.
        batched = all(hasattr(queue, m) for m in ("claim_many", "ack_many", "extend_many"))
        self.claim_batch = claim_batch if batched else 1
        self.ack_delay = ack_delay if batched else 0.0
        self._stop = threading.Event()
        self._force = threading.Event()
        self._changed = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[int, Job] = {}
        self._ahead: dict[int, list[Job]] = {}  # per thread: claimed in its batch, not started yet
        self._held_until: dict[int, float] = {}  # per thread: monotonic time its batch's leases surely last
        self._acks: list[Job] = []  # handlers returned, ack not written yet
        self._acks_due = 0.0  # monotonic time by which the buffered acks must be written
        self._flushing = threading.Lock()
        self._done = self._dead = self._released = self._failed_runs = 0
        self._retrying: set[str] = set()  # ids of jobs whose last run failed and that will run again
        self._broken: BaseException | None = None  # why a worker thread stopped, if it did

    def handler(self, kind: str) -> Callable[[F], F]:
        """Decorator: ``@worker.handler("send")`` registers the function for jobs of that kind."""

        def register(fn: F) -> F:
            self.handlers[kind] = fn
            return fn

        return register

    def flush(self) -> None:
        """Write the buffered acks now, in one call; once it returns they are durable (safe from any
        thread; a worker calls it itself, see the module docstring)."""
        with self._flushing:
            with self._lock:
                jobs, self._acks = self._acks, []
            if not jobs:
                return
            try:
                lost = self.queue.ack_many(jobs)
            except BackendUnavailable as exc:
                log.warning("queue unavailable, acks kept for the next try: %s", exc)
                with self._lock:
                    self._acks[:0] = jobs
                    self._acks_due = time.monotonic() + max(self.ack_delay, 0.5)
                return
            missing = {id(job) for job in lost}
            for job in jobs:
                if id(job) in missing:
                    log.warning("job %s: lost its claim (lease expired; it runs again); cannot ack", job.id)
                else:
                    self._count("done", job.id)

    def stop(self) -> None:
        """Ask the worker to finish the jobs in flight and return (safe from any thread)."""
        self._stop.set()
        self._changed.set()

    def run(self, *, burst: bool = False, install_signals: bool = True) -> WorkerReport:
        """Work until ``stop()`` or a signal; with ``burst``, until no job waits and none runs."""
        self._stop.clear()
        self._force.clear()
        self._broken = None
        previous = self._install_signals() if install_signals else {}
        threads = [
            threading.Thread(target=self._loop, args=(burst,), name=f"mdstore-worker-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        try:
            self._prune()
            next_prune = time.monotonic() + self.prune_interval
            for thread in threads:
                thread.start()
            beat = max(0.05, self.lease / 3)
            next_beat = time.monotonic() + beat
            stop_deadline: float | None = None
            while any(t.is_alive() for t in threads):
                self._changed.wait(timeout=self._pause(min(beat, 0.5)))
                self._changed.clear()
                if self._acks_ready():
                    self.flush()
                # Leases are extended every lease/3 seconds, not on every wake-up (a buffered ack
                # wakes this loop once per batch): one statement per beat for all jobs held.
                if time.monotonic() >= next_beat:
                    self._heartbeat()
                    next_beat = time.monotonic() + beat
                if time.monotonic() >= next_prune:
                    self._prune()
                    next_prune = time.monotonic() + self.prune_interval
                if self._stop.is_set() and stop_deadline is None:
                    stop_deadline = time.monotonic() + self.shutdown_timeout
                if self._force.is_set() or (stop_deadline is not None and time.monotonic() >= stop_deadline):
                    self._release_all()
                    break
            self.flush()
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
        if self._broken is not None:
            exc = self._broken
            raise QueueError(
                f"the queue worker stopped: a worker thread failed outside any handler:"
                f" {type(exc).__name__}: {exc}"
            ) from exc
        with self._lock:
            failed = self._dead + len(self._retrying)
            return WorkerReport(self._done, failed, self._released, self._dead, self._failed_runs)

    # -- internals -----------------------------------------------------------------------------

    def _loop(self, burst: bool) -> None:
        me = threading.get_ident()
        try:
            while not self._stop.is_set():
                with self._lock:
                    ahead = self._ahead.get(me)
                    job = ahead.pop(0) if ahead else None
                    if job is not None:
                        self._inflight[me] = job
                if job is None:
                    self.flush()  # what this worker ran is acked before it takes more
                    try:
                        claimed_at = time.monotonic()
                        jobs = self._claim()
                    except BackendUnavailable as exc:
                        # A queue service that is down (Postgres restarting): wait for it, do not exit.
                        log.warning("queue unavailable, retrying: %s", exc)
                        self._stop.wait(1.0)
                        continue
                    if not jobs:
                        if burst and self.queue.length() == 0 and not self._others_busy(me):
                            return
                        self.queue.wait(timeout=0.2)
                        continue
                    with self._lock:
                        self._ahead[me] = jobs
                        self._held_until[me] = claimed_at + self.lease
                    continue
                try:
                    if self._still_held(me, job):
                        self._run_one(job)
                finally:
                    with self._lock:
                        self._inflight.pop(me, None)
                if self._acks_ready():
                    self.flush()
        except Exception as exc:  # noqa: BLE001 - reported by run(), after the other threads finish
            log.exception("queue worker thread stopped on an unexpected error; stopping the worker")
            with self._lock:
                self._broken = self._broken or exc
            self._stop.set()
        finally:
            self._give_back(me)
            self._changed.set()

    def _still_held(self, me: int, job: Job) -> bool:
        """Whether a job claimed ahead is still ours to start. Known without a round trip while the
        heartbeat keeps the batch's leases ahead; after a pause (the process was stopped, swapped
        out) the claim is checked, so a job another worker has taken over is never started here."""
        with self._lock:
            until = self._held_until.get(me, 0.0)
        if self.claim_batch == 1 or time.monotonic() < until - min(1.0, self.lease / 4):
            return True
        try:
            lost = self.queue.extend_many([job], self.lease)
        except BackendUnavailable:
            return True  # cannot tell: run it (at least once); its ack says whether it counted
        if lost:
            log.warning("job %s: lost its claim before it started (lease expired); not run here", job.id)
            return False
        return True

    def _claim(self) -> list[Job]:
        if self.claim_batch == 1:
            job = self.queue.claim(lease=self.lease)
            return [] if job is None else [job]
        return self.queue.claim_many(self.claim_batch, lease=self.lease)

    def _give_back(self, me: int) -> None:
        """Jobs this thread claimed ahead and never started go back to the queue (not an attempt)."""
        with self._lock:
            ahead = self._ahead.pop(me, [])
        for job in ahead:
            try:
                self.queue.release(job)
            except (QueueError, BackendUnavailable):
                pass  # lost already, or unreachable: its lease runs out and it comes back anyway

    def _acks_ready(self) -> bool:
        with self._lock:
            return bool(self._acks) and time.monotonic() >= self._acks_due

    def _pause(self, longest: float) -> float:
        """How long the supervising loop may sleep: until the buffered acks are due, at most ``longest``."""
        with self._lock:
            if not self._acks:
                return longest
            return max(0.0, min(longest, self._acks_due - time.monotonic()))

    def _others_busy(self, me: int) -> bool:
        with self._lock:
            return any(ident != me for ident in self._inflight) or any(
                jobs for ident, jobs in self._ahead.items() if ident != me
            )

    def _run_one(self, job: Job) -> None:
        fn = self.handlers.get(job.kind)
        try:
            if fn is None:
                raise LookupError(f"no handler registered for job kind {job.kind!r}")
            fn(job)
        except BaseException as exc:  # noqa: BLE001 - a handler must never kill its worker
            if isinstance(exc, KeyboardInterrupt):
                raise
            text = "".join(traceback.format_exception(exc)[-6:]).strip()
            try:
                after = self.queue.fail(job, text)
                self._count("dead" if after.state is JobState.DEAD else "retry", job.id)
                log.warning("queue job %s (%s) failed, now %s: %s", job.id, job.kind, after.state, exc)
            except QueueError as lost:
                log.warning("%s", lost)
            return
        if self.ack_delay <= 0 and self.claim_batch == 1:
            try:
                self.queue.ack(job)
                self._count("done", job.id)
            except QueueError as lost:
                log.warning("%s", lost)
            return
        with self._lock:
            if not self._acks:
                self._acks_due = time.monotonic() + self.ack_delay
                self._changed.set()  # the supervising loop sleeps until then, no longer
            self._acks.append(job)

    def _count(self, what: str, job_id: str = "") -> None:
        with self._lock:
            if what in ("dead", "retry"):
                self._failed_runs += 1
            self._retrying.discard(job_id)
            if what == "done":
                self._done += 1
            elif what == "dead":
                self._dead += 1
            elif what == "retry":
                self._retrying.add(job_id)
            else:
                self._released += 1

    def _heartbeat(self) -> None:
        """Extend the leases of the jobs running, claimed ahead and waiting for their ack."""
        with self._lock:
            ahead = [job for jobs in self._ahead.values() for job in jobs]
            held = [*self._inflight.values(), *ahead, *self._acks]
        if not held:
            return
        if self.claim_batch == 1 and self.ack_delay <= 0:
            for job in held:
                try:
                    self.queue.extend(job, self.lease)
                except QueueError:
                    pass  # finished (or lost) in the meantime; ack/fail reports it
            return
        started = time.monotonic()
        try:
            lost = {id(job) for job in self.queue.extend_many(held, self.lease)}
        except BackendUnavailable as exc:
            log.warning("queue unavailable, leases not extended: %s", exc)
            return
        with self._lock:
            # A job claimed ahead whose claim is gone is someone else's now: never start it.
            for ident, jobs in self._ahead.items():
                self._ahead[ident] = [job for job in jobs if id(job) not in lost]
                self._held_until[ident] = max(self._held_until.get(ident, 0.0), started + self.lease)

    def _release_all(self) -> None:
        self.flush()
        with self._lock:
            running = list(self._inflight.values())
            self._inflight.clear()
            ahead = [job for jobs in self._ahead.values() for job in jobs]
            self._ahead.clear()
        for job in ahead:
            try:
                self.queue.release(job)
            except (QueueError, BackendUnavailable):
                pass
        for job in running:
            try:
                self.queue.release(job)
                self._count("released", job.id)
                log.warning("queue job %s (%s) released at shutdown", job.id, job.kind)
            except QueueError:
                pass

    def _prune(self) -> None:
        try:
            self.queue.prune()
        except (QueueError, OSError) as exc:
            log.warning("queue prune failed: %s", exc)

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def on_signal(signum: int, frame: FrameType | None) -> None:
            # The handler runs in the main thread, which may be inside ``_changed.wait()`` holding
            # that event's lock: setting ``_changed`` here could deadlock. The supervising loop
            # wakes at least every 0.5 s and sees ``_stop`` then.
            if self._stop.is_set():
                self._force.set()
            self._stop.set()

        return {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
