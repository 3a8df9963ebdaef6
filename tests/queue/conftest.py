"""Queue fixtures. ``make_queue`` is parametrised by backend: every test that uses it is part of the
``QueueBackend`` contract, and a new backend (Postgres) joins by adding a parameter here."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mdstore.queue import PostgresQueue, QueueBackend, SpoolQueue

QueueFactory = Callable[..., QueueBackend]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

# Retries in tests wait milliseconds, not seconds.
FAST = {"backoff": 0.01, "backoff_max": 0.05, "poll_interval": 0.005}


@pytest.fixture(params=["spool", "postgres"])
def make_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueFactory]:
    """Open a queue; every call gives another consumer of the same queue (as another process would)."""
    opened: list[QueueBackend] = []
    url = str(request.getfixturevalue("pg_url")) if request.param == "postgres" else ""

    def factory(name: str = "default", **options: Any) -> QueueBackend:
        settings = {"fsync": False, **FAST, **options}
        queue: QueueBackend
        if url:
            queue = PostgresQueue(url, name, **settings)
        else:
            queue = SpoolQueue(tmp_path / "spool", name, **settings)
        opened.append(queue)
        return queue

    # Where a worker process finds the same queue (procs.py's first argument).
    factory.where = url or str(tmp_path / "spool")  # type: ignore[attr-defined]
    yield factory
    for queue in opened:
        queue.close()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"
