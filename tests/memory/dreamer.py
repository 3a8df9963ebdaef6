"""A child process for the Dream crash test: dreams with a consolidator that announces itself and
then hangs, so the parent can kill -9 the cycle halfway (after the merges, before the summary)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import mdstore


def main() -> None:
    root, marker = sys.argv[1], Path(sys.argv[2])

    def hang(entries: list[object]) -> str:
        marker.write_text("consolidating")
        time.sleep(600)
        return ""

    with mdstore.open(root) as vault:
        vault.memory.dream(consolidator=hang)


if __name__ == "__main__":
    main()
