"""A worker thread that fails outside any handler stops the worker with an error (it used to log
one line and run on with fewer threads, or return as if the queue were drained)."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from mdstore.errors import QueueError
from mdstore.queue import Job, SpoolQueue, Worker


class BreakingSpool(SpoolQueue):
    """A real spool whose disk starts failing after ``good`` claims."""

    def __init__(self, root: Path, good: int) -> None:
        super().__init__(root, "default")
        self.good = good
        self._claims = 0
        self._claim_lock = threading.Lock()

    def claim(self, *args: object, **kwargs: object) -> Job | None:
        with self._claim_lock:
            self._claims += 1
            if self._claims > self.good:
                raise OSError(errno.EIO, "Input/output error", str(self.dir))
        return super().claim(*args, **kwargs)  # type: ignore[arg-type]


def test_a_broken_queue_stops_the_worker_with_an_error(tmp_path: Path) -> None:
    queue = BreakingSpool(tmp_path / "q", good=1)
    for n in range(5):
        queue.enqueue("work", {"n": n}, key=str(n))
    ran: list[int] = []
    worker = Worker(queue, {"work": lambda job: ran.append(job.payload["n"])}, concurrency=2)
    with pytest.raises(QueueError, match="Input/output error"):
        worker.run(burst=True, install_signals=False)
    # The one job claimed before the failure either ran and was acknowledged, or, when the other
    # thread's failure stopped the worker before it started, went back to the queue: none is lost.
    assert len(ran) <= 1
    assert SpoolQueue(tmp_path / "q", "default").length() == 5 - len(ran)


def test_a_handler_error_does_not_stop_the_worker(tmp_path: Path) -> None:
    queue = SpoolQueue(tmp_path / "q", "default")
    for n in range(3):
        queue.enqueue("work", {"n": n}, key=str(n), max_attempts=1)

    def flaky(job: Job) -> None:
        if job.payload["n"] == 1:
            raise RuntimeError("handler bug")

    report = Worker(queue, {"work": flaky}).run(burst=True, install_signals=False)
    assert (report.done, report.failed) == (2, 1)
