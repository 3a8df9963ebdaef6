"""Scale benchmark: how time and memory grow with the vault (10k, 50k, 100k synthetic notes).

    python benchmarks/bench_scale.py [--sizes 10000 50000 100000] [--engines none tantivy whoosh]

For each size and search engine (``none`` = the structured index alone), in a fresh process: the
cold index (time, notes/s), the peak RSS and PSS of the whole process tree (the vault process, its
parse and search workers; from /proc, RSS every 50 ms and PSS every 0.5 s), the no-op re-sync, a
one-edit sync, find/search/related/backlinks p50, and the index size on disk. A second process polls the vault
meanwhile, as a user would, and records when ``find`` first answers and when ``search_status``
first says search and related notes are ready. Prints a table, writes benchmarks/out/scale.json
and, with matplotlib installed, draws docs/scale.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import HERE, OUT, fresh_copy, machine, synthetic_vault

POLLER = r"""
import json, sys, time
import mdstore
from mdstore.errors import MdstoreError

root, start, engine = sys.argv[1], float(sys.argv[2]), sys.argv[3]
search = {"engine": engine, "related": engine != "none"}
seen = {}
while len(seen) < 2 and time.time() - start < 3600:
    try:
        with mdstore.open(root, index={"busy_timeout": 0.2}, search=search) as vault:
            if "find_s" not in seen and vault.find("status = active", limit=1).first() is not None:
                seen["find_s"] = time.time() - start
            if "find_s" in seen:
                status = vault.search_status()
                parts = [status[k]["ready"] for k in ("search", "related") if k in status]
                if parts and all(parts):
                    seen["search_s"] = time.time() - start
                elif not parts:
                    seen["search_s"] = seen["find_s"]
    except MdstoreError:
        pass
    time.sleep(0.25)
print(json.dumps(seen), flush=True)
"""

CHILD = r"""
import json, os, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[3])
import mdstore
from common import percentiles, time_calls
from edit import make_edit, note_paths
from pathlib import Path

root, engine, poller = sys.argv[1], sys.argv[2], sys.argv[4]

skip = set()

def tree_kb(pid, with_pss):
    # RSS counts the pages a forked child shares with its parent (Whoosh's workers) twice; PSS
    # splits them between the sharers, so the PSS sum is what the tree really holds. PSS is read
    # less often: for it the kernel walks each process's page tables, holding its memory map lock
    # (at every 50 ms it made the build it measures 0.7 s slower to finish its structured index).
    rss = pss = 0
    each = []  # (process name, RSS in kB) of each process of the tree
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in skip:
            continue
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("Name:"):
                    name = line.split(None, 1)[1].strip()
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
                    each.append((name, int(line.split()[1])))
            for line in open(f"/proc/{p}/smaps_rollup") if with_pss else ():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split()]
        except (OSError, ValueError):
            pass
    return rss, pss, each

peak = [0, 0]
peak_where = {}  # when the RSS peak was sampled and how the tree's processes shared it
stop = threading.Event()
def sample():
    me, n, t0 = os.getpid(), 0, time.perf_counter()
    while not stop.is_set():
        rss, pss, each = tree_kb(me, n % 10 == 0)
        if rss > peak[0]:
            peak_where.update(at_s=round(time.perf_counter() - t0, 2), mb=[[k, v // 1024] for k, v in each])
        peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
        n += 1
        time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()

vault = mdstore.open(root, search={"engine": engine, "related": engine != "none"})
watcher = subprocess.Popen(
    [sys.executable, "-c", poller, root, repr(time.time()), engine], stdout=subprocess.PIPE, text=True
)
skip.add(watcher.pid)  # the poller plays another user: not part of the vault process tree
t0 = time.perf_counter()
report = vault.sync()
cold = time.perf_counter() - t0
stop.set()
ready = {"find_s": float("nan"), "search_s": float("nan")}
ready.update(json.loads(watcher.communicate()[0].strip().splitlines()[-1]))
notes = len(report.added)
noop = sorted(vault.sync().seconds for _ in range(5))[2]
paths = note_paths(Path(root))
edits = []
for i in range(10):
    make_edit(Path(root), seed=i, paths=paths)
    edits.append(vault.sync().seconds)
hub = vault.sql("SELECT target FROM backlinks GROUP BY target ORDER BY count(*) DESC LIMIT 1").first()
hub = hub["target"]
lat = {
    "find": percentiles(time_calls(lambda: vault.find("status = active", sort="-modified", limit=50), 50))[0],
    "backlinks": percentiles(time_calls(lambda: vault.backlinks(hub), 50))[0],
}
if engine != "none":
    lat["search"] = percentiles(time_calls(lambda: vault.search("garden water"), 50))[0]
    lat["related"] = percentiles(time_calls(lambda: vault.related(hub, k=10), 50))[0]
vault.close()
size = sum(f.stat().st_size for f in Path(root, ".mdstore").rglob("*") if f.is_file())
print(json.dumps({
    "notes": notes, "cold_s": cold,
    "find_ready_s": ready["find_s"], "search_ready_s": ready["search_s"],
    "notes_per_s": notes / cold, "peak_rss_mb": peak[0] / 1024, "peak_pss_mb": peak[1] / 1024,
    "peak_rss_where": peak_where,
    "noop_s": noop, "edit_s": sorted(edits)[len(edits) // 2], "p50_ms": lat, "index_mb": size / 2**20,
}))
"""

def run(size: int, engine: str) -> dict:
    work = fresh_copy(synthetic_vault(size), f"scale-{size}-{engine}")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), engine, str(HERE), POLLER], capture_output=True, text=True
    )
    if child.returncode != 0:
        raise SystemExit(f"size {size}, search={engine} failed:\n{child.stderr}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(size=size, engine=engine)
    return result


def draw(results: list[dict], png: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no picture drawn")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for engine in sorted({r["engine"] for r in results}):
        rows = sorted((r for r in results if r["engine"] == engine), key=lambda r: r["size"])
        xs = [r["size"] / 1000 for r in rows]
        line = left.plot(xs, [r["search_ready_s"] for r in rows], marker="o", label=f"{engine}: all ready")
        if engine != "none":
            left.plot(
                xs, [r["find_ready_s"] for r in rows], marker="x", linestyle="--",
                color=line[0].get_color(), label=f"{engine}: find ready",
            )
        memory = [r.get("peak_pss_mb", r["peak_rss_mb"]) for r in rows]
        right.plot(xs, memory, marker="o", label=f"search={engine}")
    left.set(xlabel="notes (thousands)", ylabel="seconds from a cold start", title="Time until ready")
    right.set(xlabel="notes (thousands)", ylabel="peak PSS, process tree (MB)", title="Peak memory")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    print(f"wrote {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--engines", nargs="+", default=["none", "tantivy", "whoosh"])
    parser.add_argument("--keep", action="store_true", help="keep earlier results of other sizes/engines")
    parser.add_argument("--png", type=Path, default=HERE.parent / "docs" / "scale.png")
    args = parser.parse_args()
    print(machine())
    results = []
    for size in args.sizes:
        for engine in args.engines:
            r = run(size, engine)
            results.append(r)
            lat = ", ".join(f"{k} {v:.1f}" for k, v in r["p50_ms"].items())
            print(
                f"{size:>7} notes  search={engine:<8} cold {r['cold_s']:6.1f} s ({r['notes_per_s']:5.0f}/s)  "
                f"find ready {r['find_ready_s']:5.1f} s  search ready {r['search_ready_s']:5.1f} s  "
                f"peak RSS {r['peak_rss_mb']:6.0f} MB (PSS {r.get('peak_pss_mb', float('nan')):4.0f})  "
                f"no-op {r['noop_s'] * 1000:.0f} ms  "
                f"edit {r['edit_s'] * 1000:.0f} ms  p50 ms: {lat}  index {r['index_mb']:.0f} MB",
                flush=True,
            )
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "scale.json"
    if args.keep and store.exists():  # runs of other sizes/engines stay, for the table and picture
        ran = {(r["size"], r["engine"]) for r in results}
        earlier = json.loads(store.read_text())["results"]
        kept = [r for r in earlier if (r["size"], r["engine"]) not in ran and "find_ready_s" in r]
        results = kept + results
    store.write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    draw(results, args.png)


if __name__ == "__main__":
    main()
