"""Change events: what subscribers hear after the index has a change (created, changed, moved,
deleted), the glob patterns they filter with, and the hub that fans events out to them."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from ..notes.model import SyncReport

log = logging.getLogger("mdstore.watch")

DEFAULT_PATTERN = "**/*.md"


@dataclass(frozen=True)
class ChangeEvent:
    """One note or attachment the index changed for. ``hash`` is the content hash now in the index
    (None for a deletion or an attachment); ``old_path`` is set for a move."""

    kind: str  # "created" | "changed" | "moved" | "deleted"
    path: str
    hash: str | None = None
    old_path: str | None = None
    generation: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def events_of(report: SyncReport, hashes: dict[str, str]) -> list[ChangeEvent]:
    """The events of one sync, from its report and the hashes the index now holds."""
    gen = int(report.extra.get("generation", 0))
    out = [ChangeEvent("created", p, hashes.get(p), None, gen) for p in report.added]
    out += [ChangeEvent("changed", p, hashes.get(p), None, gen) for p in report.changed]
    out += [ChangeEvent("moved", new, hashes.get(new), old, gen) for old, new in report.moved]
    out += [ChangeEvent("deleted", p, None, None, gen) for p in report.deleted]
    return out


@lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A glob over vault-relative paths: ``*`` and ``?`` stay within a folder, ``**`` spans folders
    (``**/*.md`` also matches ``a.md`` at the root)."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(event: ChangeEvent, pattern: str) -> bool:
    rx = compile_pattern(pattern)
    return bool(rx.match(event.path) or (event.old_path and rx.match(event.old_path)))


class Hub:
    """Fans events out to subscribers. Each subscriber has its own queue and thread, so a slow one
    never holds up indexing (its queue grows instead)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[_Sink] = []

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subs)

    def publish(self, events: list[ChangeEvent]) -> None:
        if not events:
            return
        with self._lock:
            sinks = list(self._subs)
        for sink in sinks:
            picked = [e for e in events if matches(e, sink.pattern)]
            if picked:
                sink.queue.put(picked)

    def subscribe(
        self, callback: Callable[[ChangeEvent], None], pattern: str = DEFAULT_PATTERN
    ) -> Subscription:
        """Call ``callback(event)`` on a thread of its own for every matching event."""
        compile_pattern(pattern)
        sink = _Sink(pattern)
        with self._lock:
            self._subs.append(sink)
        thread = threading.Thread(
            target=self._deliver, args=(sink, callback), name="mdstore-subscriber", daemon=True
        )
        thread.start()
        return Subscription(lambda: self._drop(sink), thread)

    def stream(
        self, pattern: str = DEFAULT_PATTERN
    ) -> tuple[Iterator[list[ChangeEvent]], Callable[[], None]]:
        """Batches of matching events for the caller's own thread, and a function that ends it."""
        compile_pattern(pattern)
        sink = _Sink(pattern)
        with self._lock:
            self._subs.append(sink)

        def batches() -> Iterator[list[ChangeEvent]]:
            while True:
                item = sink.queue.get()
                if item is None:
                    return
                yield item

        return batches(), lambda: self._drop(sink)

    def close(self) -> None:
        with self._lock:
            sinks, self._subs = self._subs, []
        for sink in sinks:
            sink.queue.put(None)

    def _drop(self, sink: _Sink) -> None:
        with self._lock:
            if sink in self._subs:
                self._subs.remove(sink)
        sink.queue.put(None)

    @staticmethod
    def _deliver(sink: _Sink, callback: Callable[[ChangeEvent], None]) -> None:
        while True:
            batch = sink.queue.get()
            if batch is None:
                return
            for event in batch:
                try:
                    callback(event)
                except Exception:  # a subscriber's bug must not end its subscription
                    log.exception("subscriber callback failed on %s %s", event.kind, event.path)


class _Sink:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.queue: queue.SimpleQueue[list[ChangeEvent] | None] = queue.SimpleQueue()


class Subscription:
    """A live subscription; ``close()`` ends it (also as a context manager)."""

    def __init__(self, close: Callable[[], None], thread: threading.Thread | None = None) -> None:
        self._close = close
        self._thread = thread
        self.closed = False
        self._ended = threading.Event()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close()
            self._ended.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the stream ends (the daemon stopped, or ``close()``), at most ``timeout``
        seconds; True once it has ended. A subscription inside this process's own watcher has no
        stream of its own: it ends only with ``close()``."""
        if self._thread is None:
            return self._ended.wait(timeout)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
