"""Watcher benchmark: edit → visible through the daemon, a 1,000-file git checkout, socket vs
in-process query latency, and the daemon's idle CPU and RSS.

    python benchmarks/bench_watch.py [--notes 10000] [--edits 200] [--idle 60]

Runs `mdstore watch` as a real process on a copy of the seeded synthetic vault; this process is
the client (it reads through .mdstore/owner.sock). Prints a table and writes benchmarks/out/watch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, fresh_copy, machine, percentiles, synthetic_vault, time_calls

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mdstore  # noqa: E402
from mdstore.watch import daemon_status  # noqa: E402


def wait(cond, timeout: float = 120.0, step: float = 0.002) -> float:
    """Seconds until cond() holds (polling every ``step``); raises after ``timeout``."""
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("condition not met")
        time.sleep(step)
    return time.perf_counter() - t0


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=b@b", *args],
        check=True,
        capture_output=True,
    )


def with_line(text: str, line: str) -> str:
    """The note with ``line`` first in its frontmatter (or a new frontmatter)."""
    if text.startswith("---\n"):
        return "---\n" + line + "\n" + text[4:]
    return f"---\n{line}\n---\n{text}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_daemon(root: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mdstore", "--vault", str(root), "watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    config = mdstore.open(root).config
    wait(
        lambda: daemon_status(config).get("ready") and daemon_status(config).get("pid") == proc.pid, 600, 0.05
    )
    return proc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--search-edits", type=int, default=50)
    ap.add_argument("--checkout", type=int, default=1000)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()

    root = fresh_copy(synthetic_vault(args.notes), "watch")
    out: dict[str, object] = {"machine": machine(), "notes": args.notes}

    # The index is built beforehand: the daemon's catch-up scan is then a no-op.
    t0 = time.perf_counter()
    with mdstore.open(root) as v:
        v.sync()
    out["initial_build_seconds"] = round(time.perf_counter() - t0, 1)
    # Direct (in-process) query latency, before the daemon owns the index.
    vault = mdstore.open(root)
    # Edits go to notes whose YAML frontmatter parses (the generator also makes broken ones on purpose).
    paths = [
        r["path"]
        for r in vault.sql(
            "SELECT path FROM notes WHERE error IS NULL AND frontmatter_format = 'yaml' ORDER BY path"
        )
        if (root / r["path"]).read_bytes().startswith(b"---\n")
    ]
    q_sql = "SELECT path, title, modified FROM notes ORDER BY path LIMIT 50"
    direct_find = percentiles(time_calls(lambda: vault.find(limit=50), 200))
    direct_sql = percentiles(time_calls(lambda: vault.sql(q_sql), 200))
    vault.close()

    daemon = start_daemon(root)
    try:
        vault = mdstore.open(root)
        assert vault._client() is not None, "the benchmark must read through the daemon"
        sock_find = percentiles(time_calls(lambda: vault.find(limit=50), 200))
        sock_sql = percentiles(time_calls(lambda: vault.sql(q_sql), 200))
        out["query_ms"] = {
            "find limit 50: in-process p50/p99": direct_find,
            "find limit 50: socket p50/p99": sock_find,
            "sql 50 rows: in-process p50/p99": direct_sql,
            "sql 50 rows: socket p50/p99": sock_sql,
            "socket overhead p50 (sql 50 rows)": round(sock_sql[0] - direct_sql[0], 2),
            "socket overhead p50 (find limit 50)": round(sock_find[0] - direct_find[0], 2),
        }

        rng = random.Random(7)
        originals: dict[str, str] = {}
        latencies = []
        for i in range(args.edits):
            rel = rng.choice(paths)
            path = root / rel
            original = originals.setdefault(rel, path.read_text(encoding="utf-8"))  # one benchmark key
            token = f"edit{i}x{rng.randrange(10**9)}"
            path.write_text(with_line(original, f"benchmark: {token}"), encoding="utf-8")
            t0 = time.perf_counter()
            wait(lambda t=token, r=rel: vault.find(where={"benchmark": t}).paths() == [r])
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.02)
        out["edit_to_find_ms"] = dict(zip(("p50", "p99"), percentiles(latencies), strict=True))

        if hasattr(vault, "search") and args.search_edits:
            slat = []
            for i in range(args.search_edits):
                rel = rng.choice([p for p in paths if p not in originals])
                path = root / rel
                token = f"zqxword{i}q{rng.randrange(10**6)}"
                path.write_text(path.read_text(encoding="utf-8") + f"\n{token}\n", encoding="utf-8")
                t0 = time.perf_counter()
                wait(lambda t=token, r=rel: [h.path for h in vault.search(t)] == [r], step=0.005)
                slat.append(time.perf_counter() - t0)
                time.sleep(0.02)
            out["edit_to_search_ms"] = dict(zip(("p50", "p99"), percentiles(slat), strict=True))

        # A git checkout that changes --checkout notes.
        (root / ".gitignore").write_text(".mdstore/\n")
        t0 = time.perf_counter()
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "main")
        git(root, "checkout", "-q", "-b", "other")
        chosen = rng.sample([p for p in paths if p not in originals], args.checkout)
        for rel in chosen:
            p = root / rel
            p.write_text(with_line(p.read_text(encoding="utf-8"), "branch: other"), encoding="utf-8")
        git(root, "commit", "-q", "-am", "other")
        git(root, "checkout", "-q", "main")
        wait(lambda: len(vault.find(where={"branch": "other"})) == 0, 300, 0.05)
        out["git_setup_seconds"] = round(time.perf_counter() - t0, 1)
        checkout = {}
        for branch, want in (("other", args.checkout), ("main", 0)):
            t0 = time.perf_counter()
            git(root, "checkout", "-q", branch)
            git_s = time.perf_counter() - t0
            wait(lambda w=want: len(vault.find(where={"branch": "other"})) == w, 300, 0.01)
            checkout[f"to {branch}: git seconds"] = round(git_s, 2)
            checkout[f"to {branch}: index exact after (s, from checkout start)"] = round(
                time.perf_counter() - t0, 2
            )
        out["git_checkout"] = checkout
        out["daemon_status_after"] = vault._client().call("watch_status", (), {})
        vault.close()

        time.sleep(2)
        c0 = cpu_seconds(daemon.pid)
        time.sleep(args.idle)
        idle_cpu = (cpu_seconds(daemon.pid) - c0) / args.idle * 100
        out["idle"] = {
            "seconds": args.idle,
            "cpu_percent": round(idle_cpu, 3),
            "rss_mb": round(rss_mb(daemon.pid), 1),
        }
    finally:
        daemon.send_signal(signal.SIGTERM)
        out["daemon_exit_code"] = daemon.wait(60)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "watch.json").write_text(json.dumps(out, indent=2, default=str))
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
