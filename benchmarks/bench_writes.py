"""Write benchmark: update of one key (incl. index update), create_many of 1,000 notes, move of a
note with 50 backlinks, commit after one write, history of a note with 50 commits.

    python benchmarks/bench_writes.py [--notes 10000] [--engine whoosh|none]

Runs on a fresh copy of the seeded synthetic vault (benchmarks/genvault.py); prints a table and
writes benchmarks/out/writes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

from common import OUT, fresh_copy, machine, percentiles, synthetic_vault


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--engine", default="whoosh")
    args = parser.parse_args()
    import mdstore

    root = fresh_copy(synthetic_vault(args.notes), "writes")
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "b@x"}  # fmt: skip
    os.environ.update(env)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".mdstore/\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "initial"], cwd=root, check=True)
    vault = mdstore.open(root, search={"engine": args.engine})
    t0 = time.perf_counter()
    vault.sync()
    results: dict[str, object] = {"cold_index_s": round(time.perf_counter() - t0, 1)}
    paths = vault.sql("SELECT path FROM notes ORDER BY path LIMIT 200").column("path")

    samples = []
    for i in range(60):
        t = time.perf_counter()
        vault.update(paths[i % len(paths)], set={"bench": i})
        samples.append(time.perf_counter() - t)
    p50, p99 = percentiles(samples[5:])
    results["update_one_key_ms"] = {"p50": round(p50, 1), "p99": round(p99, 1)}

    people = vault.collection("bench")
    t = time.perf_counter()
    people.create_many({"name": f"person {i}", "n": i, "content": f"Note {i} links [[{paths[0]}]]\n"} for i in range(1000))
    results["create_many_1000_s"] = round(time.perf_counter() - t, 2)

    vault.create("hub/target.md", body="# Target\n")
    with vault.batch() as b:
        for i in range(50):
            b.create(f"hub/ref{i}.md", body=f"See [[target]] and [t](target.md) #{i}\n")
    t = time.perf_counter()
    report = vault.move("hub/target.md", "moved/renamed-target.md")
    results["move_50_backlinks_ms"] = round((time.perf_counter() - t) * 1000, 1)
    assert len(report.rewritten) == 50, report

    vault.commit("setup")
    commit_samples = []
    for i in range(10):
        vault.update(paths[0], set={"bench_commit": i})
        t = time.perf_counter()
        vault.commit(paths=[paths[0]])
        commit_samples.append(time.perf_counter() - t)
    results["commit_after_one_write_ms"] = {"p50": round(percentiles(commit_samples)[0], 1)}

    for i in range(40):  # the note now has 50+ commits
        vault.update(paths[1], set={"hist": i})
        vault.commit(paths=[paths[1]])
    vault._git()._history_cache.clear()
    t = time.perf_counter()
    revs = vault.history(paths[1])
    first = time.perf_counter() - t
    t = time.perf_counter()
    vault.history(paths[1])
    results["history_ms"] = {"commits": len(revs), "first": round(first * 1000, 1),
                             "cached": round((time.perf_counter() - t) * 1000, 2)}  # fmt: skip
    vault.close()
    results["machine"] = machine()
    results["notes"] = args.notes
    results["engine"] = args.engine
    OUT.mkdir(exist_ok=True)
    (OUT / "writes.json").write_text(json.dumps(results, indent=1))
    for key, value in results.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
