"""An application that runs the watcher in its own process and writes through the API: its
subscribers hear those writes too (the write's sync goes through the watcher)."""

from __future__ import annotations

import threading

from .conftest import note, wait_for


def test_api_writes_reach_subscribers_of_an_in_process_watcher(watched):
    vault, watcher = watched({"a.md": note("a")})
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def on_change(event) -> None:
        with lock:
            seen.append((event.kind, event.path))

    sub = vault.subscribe(on_change)
    try:
        vault.create("b.md", {"status": "new"}, "# B\n")
        assert vault.find("status = new").paths() == ["b.md"]  # read-your-writes
        wait_for(lambda: ("created", "b.md") in seen, what="the created event for an API write")
        vault.update("a.md", set={"status": "edited"})
        wait_for(lambda: ("changed", "a.md") in seen, what="the changed event for an API update")
    finally:
        sub.close()
