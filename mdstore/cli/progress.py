"""``mdstore index``'s progress on a terminal: one line per phase of a sync (``Vault.sync``'s
``on_phase``) — a counter for the notes read, a running clock for the search engine and the
related-notes model, whose builds report no steps of their own."""

from __future__ import annotations

import threading
import time
from typing import IO, Any

LABELS = {"parse": "Reading notes", "search": "Search engine", "related": "Related notes"}
SMALL = 200  # fewer notes than this: a sync too short to be worth a progress line


class Phases:
    """Call it as ``on_phase(phase, done, total)``; use it as a context manager so the last line
    is finished (and its clock stopped) even when the sync fails."""

    def __init__(self, out: IO[str], *, enabled: bool = True) -> None:
        self.out = out
        self.enabled = enabled
        self._phase: str | None = None
        self._started = 0.0
        self._total = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clock: threading.Thread | None = None

    def __enter__(self) -> Phases:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._end(None)

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled or total < SMALL:
            return
        if phase != self._phase:
            self._end(None)
            self._phase, self._started, self._total = phase, time.monotonic(), total
            if phase != "parse":
                self._stop.clear()
                self._clock = threading.Thread(target=self._tick, daemon=True)
                self._clock.start()
        if done >= total:
            self._end(f"{total:,} notes in {time.monotonic() - self._started:.1f} s")
        elif phase == "parse":
            self._write(f"{done:,}/{total:,} notes ({100 * done // total} %)")

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._write(f"{self._total:,} notes, {time.monotonic() - self._started:.0f} s")

    def _write(self, text: str, end: str = "") -> None:
        with self._lock:
            if self._phase is not None:
                self.out.write(f"\r{LABELS.get(self._phase, self._phase)}: {text}\x1b[K{end}")
                self.out.flush()

    def _end(self, text: str | None) -> None:
        """Finish the current phase's line (with ``text``, else as it stands)."""
        self._stop.set()
        if self._clock is not None and self._clock is not threading.current_thread():
            self._clock.join()
        self._clock = None
        if self._phase is not None:
            if text is not None:
                self._write(text, end="\n")
            else:
                with self._lock:
                    self.out.write("\n")
            self._phase = None
