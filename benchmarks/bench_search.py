"""Search benchmark through the Vault: cold build, warm search latency, a fresh CLI process, one
edit visible in search, related notes, index size — for each engine.

    python benchmarks/bench_search.py [--notes 10000] [--engines whoosh,tantivy] [--queries 300]

Runs on the seeded synthetic vault (benchmarks/genvault.py); each engine runs in its own child
process on its own copy. Prints a table and writes benchmarks/out/search.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import OUT, fresh_copy, machine, synthetic_vault, wall

CHILD = r"""
import itertools, json, random, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import mdstore
from common import percentiles, time_calls
from mdstore.search.indexer import folder_bytes

root, engine, queries_n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[4])
out = {"engine": engine}
vault = mdstore.open(root, search={"engine": engine})

# time the two parts of the cold build inside the one sync that does it
keeper = vault._search_index()
parts = {"engine_build_s": keeper.engine(), "tfidf_fit_s": keeper.model()}
for key, obj in parts.items():
    name = "rebuild" if key == "engine_build_s" else "fit"
    original = getattr(obj, name)
    def timed(notes, stamp, _original=original, _key=key):
        t0 = time.perf_counter(); _original(notes, stamp); out[_key] = round(time.perf_counter() - t0, 2)
    setattr(obj, name, timed)
t0 = time.perf_counter(); report = vault.sync(); out["cold_sync_s"] = round(time.perf_counter() - t0, 2)
out["notes"] = len(report.added)
out["cold_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
vault.close()
vault = mdstore.open(root, search={"engine": engine})

rng = random.Random(7)
titles = sorted(vault.sql("SELECT title FROM notes").column("title"))
words = [w for t in rng.sample(titles, 400) for w in t.split() if w.isalpha() and len(w) > 3]
queries = [f"{a} {b}" for a, b in zip(words[0::2], words[1::2])][:queries_n]
singles = words[:queries_n]
tags = [r["tag"] for r in vault.tags().to_dicts()[:20]]

def cycle(fn, items):
    it = itertools.cycle(items)
    return lambda: fn(next(it))

def ms(samples):
    p50, p99 = percentiles(samples)
    return {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}

hits = [vault.search(q).total for q in queries]
out["queries"] = len(queries)
out["mean_hits_2_words"] = round(sum(hits) / len(hits), 1)
out["search_2_words"] = ms(time_calls(cycle(vault.search, queries), len(queries)))
out["search_1_word"] = ms(time_calls(cycle(vault.search, singles), len(singles)))
pairs = [(q, tags[i % len(tags)]) for i, q in enumerate(singles)]
tagged = cycle(lambda p: vault.search(p[0], tag=p[1]), pairs)
out["search_1_word_tag_filter"] = ms(time_calls(tagged, len(pairs)))
out["find_text_1_word"] = ms(time_calls(cycle(lambda q: vault.find(text=q, limit=10), singles), len(singles)))
out["cli_query"] = queries[0]

# one edited note visible in search: write + vault.sync(paths=[p]) + search finds the new word
paths = sorted(vault.find().paths())
visible = []
for i in range(25):
    rel = paths[(i * 397) % len(paths)]
    word = "zqxv" + "abcdefghijklmnopqrstuvwxy"[i] + "marker"
    t0 = time.perf_counter()
    with open(root / rel, "a", encoding="utf-8") as fh:
        fh.write(f"\n{word}\n")
    vault.sync(paths=[rel])
    found = vault.search(word).paths()
    visible.append(time.perf_counter() - t0)
    assert found == [rel], (word, found)
out["edit_visible"] = ms(visible)

sample = rng.sample(paths, 200)
out["related"] = ms(time_calls(cycle(lambda p: vault.related(p, k=10), sample), len(sample)))
out["related_exclude_linked"] = ms(
    time_calls(cycle(lambda p: vault.related(p, k=10, exclude_linked=True), sample), len(sample))
)
out["similar"] = ms(time_calls(cycle(lambda q: vault.similar(q, k=10), queries), len(queries)))

t0 = time.perf_counter(); vault.reindex_search(); out["reindex_search_s"] = round(time.perf_counter() - t0, 2)
search_dir = root / ".mdstore" / "search"
out["engine_index_mb"] = round(folder_bytes(search_dir / engine) / 1e6, 1)
out["tfidf_model_mb"] = round(folder_bytes(search_dir / "tfidf") / 1e6, 1)
out["status"] = vault.search_status()
vault.close()
print(json.dumps(out))
"""

TARGETS = {
    "whoosh": {"engine_build_s": 45, "search_p50_ms": 15},
    "tantivy": {"engine_build_s": 5, "search_p50_ms": 2},
    "edit_visible_ms": 150,
    "related_p50_ms": 25,
    "cli_search_s": 0.8,
}


def run_engine(source: Path, engine: str, queries: int) -> dict:
    root = fresh_copy(source, f"search-{engine}")
    # In the vault's own config, so the fresh CLI process below searches the same engine.
    (root / "mdstore.toml").write_text(f'[search]\nengine = "{engine}"\n')
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), engine, str(Path(__file__).parent), str(queries)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{engine} child failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    mdstore_cmd = str(Path(sys.executable).with_name("mdstore"))
    result["cli_search_fresh_process_s"] = round(
        wall([mdstore_cmd, "--vault", str(root), "search", result.pop("cli_query"), "--json"], repeat=5), 3
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--engines", default="whoosh,tantivy")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    source = synthetic_vault(args.notes)
    results = {"machine": machine(), "notes": args.notes, "targets": TARGETS, "engines": {}}
    for engine in args.engines.split(","):
        print(f"running {engine} …", file=sys.stderr, flush=True)
        results["engines"][engine] = run_engine(source, engine, args.queries)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "search.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{args.notes} notes — {results['machine']}")
    rows = [
        ("cold sync (DuckDB + engine + TF-IDF), s", lambda r: r["cold_sync_s"]),
        ("  engine build, s", lambda r: r.get("engine_build_s")),
        ("  TF-IDF fit, s", lambda r: r.get("tfidf_fit_s")),
        ("cold peak RSS, MB", lambda r: r["cold_peak_rss_mb"]),
        ("search 2 words p50 / p99, ms", lambda r: _pair(r["search_2_words"])),
        ("search 1 word p50 / p99, ms", lambda r: _pair(r["search_1_word"])),
        ("search 1 word + tag filter p50 / p99, ms", lambda r: _pair(r["search_1_word_tag_filter"])),
        ("find(text=) 1 word p50 / p99, ms", lambda r: _pair(r["find_text_1_word"])),
        ("`mdstore search` fresh process, s", lambda r: r["cli_search_fresh_process_s"]),
        ("edit visible in search p50 / p99, ms", lambda r: _pair(r["edit_visible"])),
        ("related p50 / p99, ms", lambda r: _pair(r["related"])),
        ("related exclude_linked p50 / p99, ms", lambda r: _pair(r["related_exclude_linked"])),
        ("similar p50 / p99, ms", lambda r: _pair(r["similar"])),
        ("reindex_search, s", lambda r: r["reindex_search_s"]),
        ("engine index, MB", lambda r: r["engine_index_mb"]),
        ("TF-IDF model, MB", lambda r: r["tfidf_model_mb"]),
    ]
    engines = list(results["engines"])
    print(f"{'':44}" + "".join(f"{e:>20}" for e in engines))
    for label, get in rows:
        print(f"{label:44}" + "".join(f"{str(get(results['engines'][e])):>20}" for e in engines))
    print(f"written to {OUT / 'search.json'}")


def _pair(value: dict) -> str:
    return f"{value['p50_ms']} / {value['p99_ms']}"


if __name__ == "__main__":
    main()
