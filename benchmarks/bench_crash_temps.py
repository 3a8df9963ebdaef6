"""kill -9 loop: no temp file of a killed writer survives recovery (open + full sync).

    python benchmarks/bench_crash_temps.py [--trials 200] [--seed 7]

Each trial starts a process that writes notes in a loop (single-note updates, creates and deletes
on the fast path, and multi-note batches through the journal), kills it with SIGKILL at a random
moment, then recovers the way a user does (open the vault, sync) and counts the `.mdstore-tmp.*`
files left in the vault and the notes that are neither the old nor the new version.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BODY = "x" * 20000


def writer(root: Path) -> None:
    """The child: write until killed."""
    import mdstore

    vault = mdstore.open(root, index={"parse_workers": 1}, search={"engine": "none"})
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        state = "X" if i % 2 else "Y"
        vault.update("a.md", set={"state": state}, body=state + BODY + "\n")
        if i % 3 == 0:
            vault.create(f"new/c{i}.md", {"state": state}, body=state + BODY + "\n")
            vault.delete(f"new/c{i}.md", permanent=True)
        if i % 5 == 0:
            with vault.batch() as b:
                for name in "bc":
                    b.update(f"{name}.md", set={"state": state}, body=state + BODY + "\n")


def intact(text: str) -> bool:
    """Old or new, never a mix: the frontmatter state and the body's first letter agree."""
    head, body = text.split("---\n", 2)[1:]
    return head.split("state: ")[1][0] == body[0]


def run(trials: int, seed: int) -> dict[str, int]:
    import mdstore

    rng = random.Random(seed)
    found = left = torn = 0
    with tempfile.TemporaryDirectory(prefix="mdstore-crash-") as tmp:
        root = Path(tmp) / "v"
        root.mkdir()
        for name in "abc":
            (root / f"{name}.md").write_text(f"---\nstate: Y\n---\nY{BODY}\n")
        for _ in range(trials):
            proc = subprocess.Popen(
                [sys.executable, __file__, "--writer", str(root)], stdout=subprocess.PIPE, text=True
            )
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            found += len(_temps(root))
            with mdstore.open(root, index={"parse_workers": 1}, search={"engine": "none"}) as vault:
                vault.sync()
            left += len(_temps(root))
            torn += sum(not intact((root / f"{n}.md").read_text()) for n in "abc")
    return {"trials": trials, "temp_files_after_kill": found, "temp_files_left": left, "torn_notes": torn}


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob(".mdstore-tmp.*") if ".mdstore" not in p.relative_to(root).parts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--writer", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args.writer)
        return
    started = time.perf_counter()
    result = run(args.trials, args.seed)
    print(
        f"kill -9 trials: {result['trials']}, temp files found after the kills: "
        f"{result['temp_files_after_kill']}, left after recovery: {result['temp_files_left']}, "
        f"torn notes: {result['torn_notes']} ({time.perf_counter() - started:.0f} s)"
    )
    if result["temp_files_left"] or result["torn_notes"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
