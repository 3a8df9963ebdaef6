"""A child process for the fault tests: appends to one session log and prints each entry's id once
``append`` has returned (acknowledged), then flushes at exit unless killed."""

from __future__ import annotations

import sys

import mdstore


def main() -> None:
    root, session, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    # A loaded machine may queue two appenders behind each other longer than the default 10 s.
    settings = {"memory": {"flush_entries": 50, "flush_seconds": 0.05}, "index": {"busy_timeout": 120}}
    with mdstore.open(root, **settings) as vault:
        log = vault.memory.log(session)
        for n in range(count):
            entry = log.append({"role": tag, "content": f"{tag} message {n}\nwith a second line"})
            sys.stdout.write(entry.id + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
