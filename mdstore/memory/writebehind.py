"""The write-behind shared by session logs and insights: lines are acknowledged once they are in a
durable journal (journal.py), and written out in batches by a background thread, ``flush_entries``
or ``flush_seconds`` after the first waiting one, and at ``flush()``/``close()``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import MdstoreError
from .journal import SessionJournal, read_records

if TYPE_CHECKING:
    from ..config import MemorySettings

log = logging.getLogger("mdstore.memory")
FLUSH_WAIT = 30.0  # seconds a flush waits for another process's flush to finish


class WriteBehind:
    """Flushes ``journal`` through ``write`` (which writes the lines out and returns how many);
    ``name`` names the thread and the log lines; flushes sharing ``turn`` take turns."""

    def __init__(
        self,
        journal: SessionJournal,
        settings: MemorySettings,
        write: Callable[[list[dict[str, Any]]], int],
        *,
        name: str,
        turn: threading.Lock | None = None,
        unique_ids: bool = False,
    ) -> None:
        self._journal = journal
        self._settings = settings
        self._write = write
        self._name = name
        self._turn = turn or threading.Lock()
        self._unique_ids = unique_ids  # a line written again (same id) is written out once
        self._state = threading.Lock()  # the counter and the flusher thread
        self.waiting = 0  # lines acknowledged by this object and not yet flushed
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        self._closed = False

    def acknowledged(self) -> None:
        """One more line is in the journal: start the flusher, or wake it when enough wait."""
        with self._state:
            self.waiting += 1
            if self.waiting >= self._settings.flush_entries:
                self._wake.set()
            if self._flusher is None and not self._closed:
                self._flusher = threading.Thread(
                    target=self._flush_later, name=f"mdstore-{self._name}", daemon=True
                )
                self._flusher.start()

    def flush(self) -> int:
        """Write every waiting line (of every process) now; returns how many were written. When
        another process is flushing, waits for its turn (up to FLUSH_WAIT seconds): lines appended
        after that process took them would otherwise wait for the next flush."""
        return self._flush(FLUSH_WAIT)

    def _flush(self, wait: float) -> int:
        with self._turn, self._journal.flushing(wait) as mine:
            if not mine:
                return 0  # another process is flushing right now: the lines stay in the journal
            with self._state:
                self.waiting = 0
            self._journal.rotate()
            files = self._journal.rotated()
            lines = [r for f in files for r in read_records(f)]
            if self._unique_ids:
                lines = list({r["id"]: r for r in lines}.values())
            written = self._write(lines) if lines else 0
            for f in files:
                f.unlink(missing_ok=True)
            return written

    def close(self) -> None:
        """Stop the flusher, flush, and close the journal."""
        with self._state:
            self._closed = True
            self._wake.set()
            thread = self._flusher
        if thread is not None:
            thread.join()
        self.flush()
        self._journal.close()

    def _flush_later(self) -> None:
        while True:
            self._wake.wait(self._settings.flush_seconds)
            with self._state:
                self._wake.clear()
                if self._closed or self.waiting == 0:
                    self._flusher = None
                    return
            try:
                self._flush(0.0)  # the background flusher never waits: the next flush retries
            except MdstoreError as exc:  # the lines stay in the journal; the next flush retries
                log.warning("%s: flush failed: %s", self._name, exc)
