"""Programs the daemon tests run as real client processes: ``python procs.py MODE ROOT ...``."""

from __future__ import annotations

import json
import sys
import time

import mdstore


def reader(root: str, seconds: str) -> None:
    """Query in a loop while the daemon indexes a burst; every answer must be one whole batch:
    each burst note has its tag row (same transaction), and counts never go back."""
    vault = mdstore.open(root)
    print("ready", flush=True)
    deadline = time.monotonic() + float(seconds)
    last = 0
    queries = 0
    problems: list[str] = []
    while time.monotonic() < deadline:
        try:
            row = vault.sql(
                "SELECT (SELECT count(*) FROM notes WHERE starts_with(path, 'burst/')) AS n, "
                "(SELECT count(DISTINCT path) FROM tags WHERE starts_with(path, 'burst/')) AS t"
            ).first()
        except mdstore.MdstoreError as exc:
            problems.append(f"{type(exc).__name__}: {exc}")
            continue
        queries += 1
        assert row is not None
        if row["n"] != row["t"]:
            problems.append(f"partial batch: {row}")
        if row["n"] < last:
            problems.append(f"went back: {last} -> {row['n']}")
        last = row["n"]
    print(
        json.dumps(
            {"queries": queries, "last": last, "problems": problems[:5], "via": vault._client() is not None}
        )
    )


def await_note(root: str, rel: str, timeout: str) -> None:
    """Wait for ``rel`` to be findable; print the seconds it took from when we were told to start."""
    vault = mdstore.open(root)
    assert vault._client() is not None, "expected to read through the daemon"
    print("ready", flush=True)
    sys.stdin.readline()  # the test writes the note, then tells us
    t0 = time.monotonic()
    while time.monotonic() - t0 < float(timeout):
        if vault.find(where={"n": "late"}).paths() == [rel]:
            print(json.dumps({"seconds": time.monotonic() - t0}), flush=True)
            return
        time.sleep(0.005)
    print(json.dumps({"seconds": None}), flush=True)


if __name__ == "__main__":
    {"reader": reader, "await_note": await_note}[sys.argv[1]](*sys.argv[2:])
