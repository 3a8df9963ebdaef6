"""The walk of a full sync, step by step, against the floor of any walk that stats every file:

- listing every folder (``os.scandir``, no stat): what skipping unchanged folders could at best cost;
- listing and one stat per file in a plain Python loop: the floor of a walk that finds in-place edits;
- mdstore's walk (``index/scan.py``) with the vault's ignore rules;
- a no-op ``vault.sync()`` (walk + compare with the index), with the stats this process's last sync
  kept, and with them read from DuckDB (a fresh process's first sync);
- one edited note + ``vault.sync()``.

    python benchmarks/bench_walk.py [--notes 10000] [--vault PATH] [--repeat 15]
                                    [--patterns none|folders|files]

``--vault`` walks a copy of an existing vault instead of the generated one; ``--patterns`` adds ignore
files: ``folders`` those of a new vault (``templates/``, ``.mdstore/``), ``files`` one file pattern
too. Prints the median and best wall time and the median CPU time (user + system) of each step, with
the load average, and writes benchmarks/out/walk.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import OUT, fresh_copy, machine, synthetic_vault

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import mdstore  # noqa: E402
from mdstore.index.scan import IgnoreRules, scan  # noqa: E402
from mdstore.index.store import store_for  # noqa: E402

PATTERNS = {
    "none": {},
    "folders": {".mdstoreignore": "templates/\n", ".gitignore": ".mdstore/\n"},
    "files": {".mdstoreignore": "templates/\n*.tmpl\n", ".gitignore": ".mdstore/\n"},
}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        if before is not None:
            before()
        c0, t0 = cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    return {
        "p50_ms": statistics.median(walls) * 1000,
        "min_ms": min(walls) * 1000,
        "cpu_p50_ms": statistics.median(cpus) * 1000,
    }


def folders(root: Path) -> list[str]:
    out = [str(root)]
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        out += [os.path.join(dirpath, d) for d in dirnames]
    return out


def list_only(paths: list[str]) -> int:
    n = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    n += entry.is_file(follow_symlinks=False)
        finally:
            os.close(fd)
    return n


def list_and_stat(paths: list[str]) -> dict[str, tuple[float, int]]:
    """Each stat relative to its folder's descriptor, as the walk does (a path would be resolved
    from the root again)."""
    out = {}
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    if entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        out[path + "/" + entry.name] = (st.st_mtime, st.st_size)
        finally:
            os.close(fd)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--vault", type=Path, help="walk a copy of this vault instead of the generated one")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--patterns", choices=sorted(PATTERNS), default="none")
    args = ap.parse_args()
    src = args.vault or synthetic_vault(args.notes)
    root = fresh_copy(src, "walk")
    for name, text in PATTERNS[args.patterns].items():
        (root / name).write_text(text)
    vault = mdstore.open(root, search={"engine": "none", "related": False})
    vault.sync()  # the cold index, not measured
    store = store_for(vault.config.state_dir, vault.config.index.busy_timeout)
    paths = folders(root)
    rules = IgnoreRules(root, vault.config.vault.ignore)
    exts = vault.config.vault.extensions
    notes = sorted(p for p in root.rglob("*.md") if ".mdstore" not in p.parts)
    edits = iter(range(10**6))

    def edit() -> None:
        i = next(edits)
        with open(notes[i % len(notes)], "a", encoding="utf-8") as f:
            f.write(f"\nedit {i}\n")

    load = os.getloadavg()[0]
    steps = {
        "list folders, no stat": measure(lambda: list_only(paths), args.repeat),
        "list + stat every file (plain loop)": measure(lambda: list_and_stat(paths), args.repeat),
        "mdstore walk (scan)": measure(lambda: scan(root, rules, exts), args.repeat),
        "no-op vault.sync(), stats kept": measure(vault.sync, args.repeat),
        "no-op vault.sync(), stats from DuckDB": measure(
            vault.sync, args.repeat, before=lambda: setattr(store, "stats", None)
        ),
        "one edit + vault.sync()": measure(vault.sync, args.repeat, before=edit),
    }
    vault.close()
    files = len(list_and_stat(paths))
    out = {
        "machine": machine(),
        "files": files,
        "patterns": args.patterns,
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
        "steps": steps,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "walk.json").write_text(json.dumps(out, indent=2))
    print(f"{machine()}\n{files} files, patterns {args.patterns}, load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"{'step':40} {'p50 ms':>8} {'min ms':>8} {'cpu ms':>8}")
    for label, r in steps.items():
        print(f"{label:40} {r['p50_ms']:8.1f} {r['min_ms']:8.1f} {r['cpu_p50_ms']:8.1f}")


if __name__ == "__main__":
    main()
