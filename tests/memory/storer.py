"""A child process for the fault tests: stores insights and prints each one's id once
``store_insight`` has returned (acknowledged); closes (writing their notes) at exit unless killed."""

from __future__ import annotations

import sys

import mdstore


def main() -> None:
    root, count, flush_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    settings = {
        "memory": {"flush_entries": 20, "flush_seconds": flush_seconds},
        "index": {"busy_timeout": 120},
    }
    with mdstore.open(root, **settings) as vault:
        for n in range(count):
            insight = vault.memory.store_insight(
                f"insight {n} of the child\nwith a second line", user="ann", source="agent", category="fact"
            )
            sys.stdout.write(insight.id + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
