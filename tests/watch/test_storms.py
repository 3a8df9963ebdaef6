"""Thousands of events at once: git checkouts, bursts of new files, and an inotify overflow. Each
ends with an index equal to a fresh rebuild."""

from __future__ import annotations

import logging
import subprocess

from .conftest import assert_exact, dump, indexed, note, rebuilt_dump, wait_for, write


def git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_git_checkout_of_1000_changed_notes(vault_root, watched, tmp_path):
    root = vault_root
    for i in range(1000):
        write(root, f"notes/n{i}.md", note(i, "on main"))
    write(root, ".gitignore", ".mdstore/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "main")
    git(root, "checkout", "-q", "-b", "other")
    for i in range(1000):
        write(root, f"notes/n{i}.md", note(i, "on other"))
    for i in range(50):
        (root / f"notes/n{i}.md").unlink()
        write(root, f"new/m{i}.md", note(f"m{i}"))
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "other")
    git(root, "checkout", "-q", "main")

    vault, watcher = watched()
    assert len(indexed(vault)) == 1000
    git(root, "checkout", "-q", "other")
    expected = rebuilt_dump(root, tmp_path)
    wait_for(lambda: dump(vault) == expected, timeout=60, what="the index to match branch other")
    # the catch-up scan, then the storm's (it may come after targeted batches made the index right)
    wait_for(lambda: watcher.status()["full_scans"] >= 2, what="a full scan after the checkout")
    git(root, "checkout", "-q", "main")
    expected = rebuilt_dump(root, tmp_path)
    wait_for(lambda: dump(vault) == expected, timeout=60, what="the index to match branch main")


def test_burst_of_5000_new_notes(watched, tmp_path):
    vault, watcher = watched({"seed.md": note("seed")})
    for i in range(5000):
        write(vault.root, f"burst/{i % 50}/n{i}.md", note(i))
    wait_for(lambda: len(indexed(vault)) == 5001, timeout=120, what="5,000 notes")
    wait_for(lambda: watcher.status()["full_scans"] >= 2, what="the storm's full scan")
    assert_exact(vault, tmp_path)


def test_lost_events_and_overflow_record_trigger_an_exact_rescan(watched, tmp_path):
    vault, watcher = watched({"a.md": note("a")})
    # Events are lost, as in a kernel queue overflow: the router hears nothing for a while...
    router_dispatch = watcher.router.dispatch
    watcher.router.dispatch = lambda event: None  # type: ignore[method-assign]
    for i in range(100):
        write(vault.root, f"lost/n{i}.md", note(i))
    (vault.root / "a.md").unlink()
    watcher.router.dispatch = router_dispatch  # type: ignore[method-assign]
    assert indexed(vault) == {"a.md"}
    # ... and watchdog's only signal is this log record.
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    wait_for(lambda: len(indexed(vault)) == 100 and "a.md" not in indexed(vault), what="the rescan")
    assert watcher.status()["overflows"] == 1
    assert_exact(vault, tmp_path)


def test_periodic_rescan_catches_what_was_missed(watched, tmp_path):
    vault, watcher = watched({"a.md": note("a")}, watch={"rescan_interval": 1.0})
    watcher.router.dispatch = lambda event: None  # type: ignore[method-assign]
    write(vault.root, "silent.md", note("s"))
    wait_for(lambda: "silent.md" in indexed(vault), what="the periodic rescan")
    assert_exact(vault, tmp_path)
