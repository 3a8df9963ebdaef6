"""Vault-core benchmark: cold index, re-syncs, find/sql latency, CLI wall time, peak RSS.

    python benchmarks/bench_core.py [--notes 10000] [--skip-dendron]

Runs on the seeded synthetic vault (benchmarks/genvault.py) and on ../shared/corpora/dendron-site
when present; prints a table and writes benchmarks/out/core.json. Each cold index runs in a fresh
process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from common import CORPORA, OUT, fresh_copy, machine, percentiles, synthetic_vault, time_calls, wall

# Runs in a child process: cold index, no-op re-sync, one-note edits, find/sql latency, RSS.
CHILD = r"""
import json, random, resource, sys, time
sys.path.insert(0, sys.argv[2])
import mdstore
from edit import make_edit
from common import percentiles, time_calls

root = sys.argv[1]
vault = mdstore.open(root)
t0 = time.perf_counter(); report = vault.sync(); cold = time.perf_counter() - t0
notes = len(report.added)
rss_cold = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
noop = [vault.sync().seconds for _ in range(5)]
from pathlib import Path
from edit import note_paths
paths = note_paths(Path(root))
edits, targeted = [], []
for i in range(20):
    make_edit(Path(root), seed=i, paths=paths)
    edits.append(vault.sync().seconds)
for i in range(20):
    e = make_edit(Path(root), seed=100 + i, paths=paths)
    targeted.append(vault.sync(paths=[e.path.relative_to(root).as_posix()]).seconds)
queries = {
    "find status = active": lambda: vault.find("status = active", limit=50),
    "find priority >= 3, #tag, sort -modified": lambda: vault.find("priority >= 3", sort="-modified", limit=50),
    "find due < date (typed)": lambda: vault.find("due < 2025-06-01", limit=50),
    "find by tag (nested)": lambda: vault.find(tag=first_tag, limit=50),
    "backlinks of a note": lambda: vault.backlinks(hub),
}
first_tag = vault.tags().first()["tag"]
hub = vault.sql("SELECT target FROM backlinks GROUP BY target ORDER BY count(*) DESC LIMIT 1").first()["target"]
lat = {name: percentiles(time_calls(fn, 200)) for name, fn in queries.items()}
lat["sql count per folder"] = percentiles(time_calls(lambda: vault.sql(
    "SELECT folder, count(*) FROM notes GROUP BY folder"), 200))
lat["sql tag join"] = percentiles(time_calls(lambda: vault.sql(
    "SELECT n.path FROM notes n JOIN tags t USING (path) WHERE t.tag = ? LIMIT 50", [first_tag]), 200))
vault.close()
print(json.dumps({
    "notes": notes, "cold_s": cold, "notes_per_s": notes / cold,
    "noop_s": sorted(noop)[len(noop) // 2], "edit_ms": sorted(edits)[len(edits) // 2] * 1000,
    "edit_ms_max": max(edits) * 1000, "latency_ms": lat,
    "targeted_ms": sorted(targeted)[len(targeted) // 2] * 1000, "targeted_ms_max": max(targeted) * 1000,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_cold_mb": rss_cold,
}))
"""


def run(name: str, source: Path) -> dict:
    vault = fresh_copy(source, name)
    # The structured index alone (search has bench_search.py); in the vault's own config so that the
    # CLI processes below measure the same thing.
    (vault / "mdstore.toml").write_text('[search]\nengine = "none"\nrelated = false\n')
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run([sys.executable, "-c", CHILD, str(vault), here], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    mdstore = [sys.executable, "-m", "mdstore", "--vault", str(vault)]
    result["cli_find_s"] = wall(mdstore + ["find", "status = active", "--limit", "20", "--json"])
    result["cli_noop_index_s"] = wall(mdstore + ["index", "--json"], repeat=5)
    shutil.rmtree(vault, ignore_errors=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--skip-dendron", action="store_true")
    args = ap.parse_args()
    results = {"machine": machine()}
    results["synthetic"] = run("synthetic", synthetic_vault(args.notes, args.seed))
    dendron = CORPORA / "dendron-site"
    if dendron.is_dir() and not args.skip_dendron:
        results["dendron-site"] = run("dendron", dendron)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "core.json").write_text(json.dumps(results, indent=2))
    print(f"machine: {results['machine']}")
    for name in ("synthetic", "dendron-site"):
        r = results.get(name)
        if not r:
            continue
        print(f"\n## {name} ({r['notes']} notes)")
        print(f"cold index            {r['cold_s']:.2f} s  ({r['notes_per_s']:.0f} notes/s), peak RSS {r['rss_cold_mb']:.0f} MB")
        print(f"no-op re-sync         {r['noop_s'] * 1000:.0f} ms (in process), CLI `mdstore index` {r['cli_noop_index_s'] * 1000:.0f} ms")
        print(f"re-sync, one edit     {r['edit_ms']:.0f} ms median, {r['edit_ms_max']:.0f} ms max (full scan, 20 edits)")
        print(f"sync(paths=[edited])  {r['targeted_ms']:.0f} ms median, {r['targeted_ms_max']:.0f} ms max (20 edits)")
        print(f"CLI `mdstore find`    {r['cli_find_s'] * 1000:.0f} ms wall, fresh process")
        for q, (p50, p99) in r["latency_ms"].items():
            print(f"  {q:<42} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
        print(f"peak RSS (whole run)  {r['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
