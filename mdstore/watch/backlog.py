"""The watcher's backlog: changed paths waiting to be indexed, coalesced per path and debounced.

A path is due once it has been quiet for ``debounce`` (a save is several events: truncate, writes,
close, or vim's rename-away and re-create), or sooner, ``settle`` after its last event, when that
event said the save is complete (the file was closed after writing, or renamed into place). No path
waits longer than ``max_delay`` after its first event, so a file written continuously is still
indexed about once a second. When too many paths pile up (a git checkout, a copy of thousands of
files) the backlog turns into one full scan, due when the storm goes quiet.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Batch:
    paths: tuple[str, ...] = ()  # files to check by path
    gone_folders: tuple[str, ...] = ()  # folders deleted or moved away: check what the index holds under them
    new_folders: tuple[str, ...] = ()  # folders created or moved in: check every file under them
    full: bool = False  # one full reconciling scan instead
    reason: str = "events"  # events | storm | overflow | git | rescan
    oldest: float = 0.0  # monotonic time of the oldest event in the batch
    events: int = 0


class Backlog:
    def __init__(self, debounce: float, max_delay: float, settle: float, storm_threshold: int) -> None:
        self.debounce = debounce
        self.max_delay = max(max_delay, debounce)
        self.settle = min(settle, debounce)
        self.storm_threshold = max(1, storm_threshold)
        self._cond = threading.Condition()
        self._paths: dict[str, tuple[float, float]] = {}  # path -> (first event, due)
        self._gone: dict[str, tuple[float, float]] = {}
        self._new: dict[str, tuple[float, float]] = {}
        self._full: str | None = None  # the reason of a pending full scan
        self._full_since = 0.0
        self._last_event = 0.0
        self._events = 0
        self._closed = False
        self._wake_at = float("inf")  # when the consumer plans to look next: earlier work wakes it
        # New paths seen in the current window of max_delay: a storm is also this many paths
        # arriving quickly, even while settled saves keep draining the backlog.
        self._window_start = 0.0
        self._window_paths = 0

    # -- producers (the observer thread) -------------------------------------------------------------

    def add(self, rel: str, final: bool = False) -> None:
        with self._cond:
            now = time.monotonic()
            self._count(now)
            if self._full is None:
                fresh = rel not in self._paths
                due = self._put(self._paths, rel, now, self.settle if final else self.debounce)
                if fresh:
                    self._check_storm(now)
                self._notify(due)

    def folder_gone(self, rel: str) -> None:
        with self._cond:
            now = time.monotonic()
            self._count(now)
            if self._full is None:
                self._notify(self._put(self._gone, rel, now, self.debounce))

    def folder_new(self, rel: str) -> None:
        with self._cond:
            now = time.monotonic()
            self._count(now)
            if self._full is None:
                self._notify(self._put(self._new, rel, now, self.debounce))

    def request_full(self, reason: str) -> None:
        """Replace whatever is pending by one full scan (after the storm goes quiet)."""
        with self._cond:
            now = time.monotonic()
            self._count(now)
            self._go_full(reason, now)
            self._cond.notify()

    # -- the consumer (the indexer thread) --------------------------------------------------------

    def take(self, timeout: float | None) -> Batch | None:
        """The next due batch; None after ``timeout`` seconds with nothing due, or once closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                batch = self._due(now)
                if batch is not None:
                    return batch
                wake = self._next_due()
                if deadline is not None:
                    if now >= deadline:
                        return None
                    wake = deadline if wake is None else min(wake, deadline)
                self._wake_at = float("inf") if wake is None else wake
                self._cond.wait(None if wake is None else max(wake - now, 0.001))
                self._wake_at = float("inf")
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    @property
    def size(self) -> int:
        with self._cond:
            return len(self._paths) + len(self._gone) + len(self._new) + (1 if self._full else 0)

    def lag(self) -> float:
        """Seconds since the oldest event still waiting (0 when nothing waits)."""
        with self._cond:
            firsts = [f for d in (self._paths, self._gone, self._new) for f, _ in d.values()]
            if self._full:
                firsts.append(self._full_since)
            return time.monotonic() - min(firsts) if firsts else 0.0

    # -- internals -------------------------------------------------------------------------------

    def _count(self, now: float) -> None:
        self._last_event = now
        self._events += 1

    def _put(self, table: dict[str, tuple[float, float]], rel: str, now: float, quiet: float) -> float:
        first = table[rel][0] if rel in table else now
        due = min(now + quiet, first + self.max_delay)
        table[rel] = (first, due)
        return due

    def _notify(self, due: float) -> None:
        # Wake the consumer only when this is due before it planned to look: a burst of thousands
        # of events must not wake it thousands of times.
        if due < self._wake_at or self._full is not None:
            self._wake_at = due
            self._cond.notify()

    def _check_storm(self, now: float) -> None:
        if now - self._window_start > self.max_delay:
            self._window_start = now
            self._window_paths = 0
        self._window_paths += 1
        waiting = len(self._paths) + len(self._gone) + len(self._new)
        if waiting >= self.storm_threshold or self._window_paths >= self.storm_threshold:
            self._go_full("storm", now)

    def _go_full(self, reason: str, now: float) -> None:
        firsts = [f for d in (self._paths, self._gone, self._new) for f, _ in d.values()]
        if self._full is None:
            self._full = reason
            self._full_since = min([now, *firsts])
        self._paths.clear()
        self._gone.clear()
        self._new.clear()

    def _full_due(self) -> float:
        return min(self._last_event + self.debounce, self._full_since + self.max_delay)

    def _next_due(self) -> float | None:
        if self._full is not None:
            return self._full_due()
        dues = [d for table in (self._paths, self._gone, self._new) for _, d in table.values()]
        return min(dues) if dues else None

    def _due(self, now: float) -> Batch | None:
        events, self._events = self._events, 0
        if self._full is not None:
            if self._full_due() > now:
                self._events = events
                return None
            batch = Batch(full=True, reason=self._full, oldest=self._full_since, events=events)
            self._full = None
            return batch
        picked: dict[str, list[str]] = {}
        oldest = now
        # Paths due a moment later join this batch: the two ends of a rename arrive microseconds
        # apart, and one sync of both sees a move.
        horizon = now + max(self.settle, 0.005)
        for name, table in (("paths", self._paths), ("gone", self._gone), ("new", self._new)):
            ready = [rel for rel, (_, due) in table.items() if due <= horizon]
            for rel in ready:
                oldest = min(oldest, table.pop(rel)[0])
            picked[name] = ready
        if not any(picked.values()):
            self._events = events
            return None
        return Batch(
            paths=tuple(picked["paths"]),
            gone_folders=tuple(picked["gone"]),
            new_folders=tuple(picked["new"]),
            oldest=oldest,
            events=events,
        )
