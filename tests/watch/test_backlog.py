"""The backlog's timing rules, on their own (no file system)."""

from __future__ import annotations

import threading
import time

from mdstore.watch.backlog import Backlog


def test_a_path_waits_for_quiet_and_coalesces():
    b = Backlog(debounce=0.1, max_delay=1.0, settle=0.01, storm_threshold=100)
    b.add("a.md")
    b.add("a.md")
    assert b.take(0.05) is None  # still inside the quiet window
    batch = b.take(1.0)
    assert batch is not None and batch.paths == ("a.md",) and not batch.full


def test_a_completed_save_settles_quickly():
    b = Backlog(debounce=5.0, max_delay=10.0, settle=0.01, storm_threshold=100)
    b.add("a.md")
    b.add("a.md", final=True)
    t0 = time.monotonic()
    batch = b.take(2.0)
    assert batch is not None and batch.paths == ("a.md",)
    assert time.monotonic() - t0 < 2.0


def test_continuous_events_are_capped_by_max_delay():
    b = Backlog(debounce=0.2, max_delay=0.4, settle=0.01, storm_threshold=100)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            b.add("busy.md")
            time.sleep(0.02)

    t = threading.Thread(target=writer)
    t.start()
    try:
        batch = b.take(5.0)
    finally:
        stop.set()
        t.join()
    assert batch is not None and batch.paths == ("busy.md",)


def test_a_storm_becomes_one_full_scan():
    b = Backlog(debounce=0.05, max_delay=1.0, settle=0.01, storm_threshold=10)
    for i in range(50):
        b.add(f"n{i}.md")
    batch = b.take(2.0)
    assert batch is not None and batch.full and batch.reason == "storm" and not batch.paths
    assert b.take(0.1) is None


def test_overflow_request_replaces_pending_paths():
    b = Backlog(debounce=0.05, max_delay=1.0, settle=0.01, storm_threshold=100)
    b.add("a.md")
    b.request_full("overflow")
    batch = b.take(2.0)
    assert batch is not None and batch.full and batch.reason == "overflow"


def test_close_wakes_the_consumer():
    b = Backlog(debounce=0.05, max_delay=1.0, settle=0.01, storm_threshold=100)
    threading.Timer(0.1, b.close).start()
    assert b.take(None) is None


def test_many_new_paths_quickly_are_a_storm_even_when_each_settles():
    b = Backlog(debounce=0.05, max_delay=1.0, settle=0.0, storm_threshold=20)
    seen_full = False
    for i in range(40):
        b.add(f"n{i}.md", final=True)
        batch = b.take(0.0)  # the consumer drains as fast as it can
        seen_full = seen_full or bool(batch and batch.full)
    batch = b.take(2.0)
    assert seen_full or (batch is not None and batch.full)
