"""CLI benchmark: wall time of fresh `mdstore` processes on an indexed vault — what a person or a
script waits for per command (interpreter start, imports, opening the index, the work, exit).

    python benchmarks/bench_cli.py [--notes 10000] [--repeat 7] [--vault PATH] [--only set,append,mv]

Without --vault it indexes a copy of the seeded synthetic vault (benchmarks/genvault.py) in a
temporary folder outside any git repository (a vault inside one would time that repository's
history too), which takes a minute or two. With --vault it uses that indexed vault as it is (it
writes to one note, `set`/`append`/`mv` and back). Prints a table and writes
benchmarks/out/cli.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import OUT, machine, synthetic_vault


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--vault", type=Path, help="an indexed vault to use as it is")
    parser.add_argument(
        "--only", help="comma-separated first words of the commands to time (e.g. set,append,mv)"
    )
    args = parser.parse_args()
    mdstore = [sys.executable, "-m", "mdstore"]
    temp = None
    if args.vault is None:
        temp = Path(tempfile.mkdtemp(prefix="mdstore-bench-cli-"))
        root = temp / "vault"
        shutil.copytree(synthetic_vault(args.notes), root, ignore=shutil.ignore_patterns(".mdstore"))
        print(f"indexing {root} ...", file=sys.stderr)
        timed([*mdstore, "--vault", str(root), "index"])
    else:
        root = args.vault.resolve()
    try:
        v = [*mdstore, "--vault", str(root)]
        note = subprocess.run(
            [*v, "sql", "SELECT path FROM notes ORDER BY path LIMIT 1", "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        path = json.loads(note.stdout)["path"]
        moved = "bench-cli-moved.md"
        commands: dict[str, list[list[str]]] = {
            "--help": [[*mdstore, "--help"]],
            "find --limit 10": [[*v, "find", "--limit", "10", "--json"]],
            "show NOTE": [[*v, "show", path, "--json"]],
            "set NOTE k=v": [[*v, "set", path, "bench=1"], [*v, "set", path, "bench=2"]],
            "append NOTE TEXT": [[*v, "append", path, "bench line"]],
            "mv NOTE (and back)": [[*v, "mv", path, moved], [*v, "mv", moved, path]],
            "search WORD": [[*v, "search", "dragon", "--json"]],
            "similar TEXT": [[*v, "similar", "dragon engine bicycle", "--json"]],
            "related NOTE": [[*v, "related", path, "--json"]],
        }
        if args.only:
            wanted = set(args.only.split(","))
            commands = {label: steps for label, steps in commands.items() if label.split()[0] in wanted}
        rows = []
        load_before = os.getloadavg()[0]
        for label, steps in commands.items():
            samples = []
            for i in range(args.repeat * len(steps)):  # whole rounds: a moved note ends where it was
                samples.append(timed(steps[i % len(steps)]))
            rows.append(
                {
                    "command": label,
                    "median_s": round(statistics.median(samples), 3),
                    "max_s": round(max(samples), 3),
                }
            )
        # leave the note as it was found: the benchmark's key removed
        subprocess.run([*v, "unset", path, "bench"], capture_output=True, check=True)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    load = (round(load_before, 1), round(os.getloadavg()[0], 1))
    print(f"load average (1 min) {load[0]} at the start, {load[1]} at the end; {args.repeat} runs each")
    print(f"{'command':<22} {'median s':>9} {'max s':>7}")
    for row in rows:
        print(f"{row['command']:<22} {row['median_s']:>9.3f} {row['max_s']:>7.3f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cli.json").write_text(
        json.dumps(
            {"machine": machine(), "notes": args.notes, "repeat": args.repeat, "load": load, "rows": rows},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
