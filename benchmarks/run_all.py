"""Run every benchmark, one after the other: ``python benchmarks/run_all.py``.

Each benchmark also runs alone (``python benchmarks/bench_core.py`` ...) and writes its raw numbers to
``benchmarks/out/<name>.json``; the latest figures, with the machine, go to docs/performance.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_core.py", "bench_search.py", "bench_relevance.py", "bench_writes.py", "bench_watch.py", "bench_queue.py"]


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        script = HERE / name
        if not script.exists():
            print(f"== {name}: not present, skipped", flush=True)
            continue
        print(f"\n== {name}", flush=True)
        if subprocess.run([sys.executable, str(script), *sys.argv[1:]], cwd=HERE).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
