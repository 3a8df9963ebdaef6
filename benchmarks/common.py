"""Helpers shared by the benchmarks: the synthetic vault cache, timing and machine description."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CORPORA = HERE.parent.parent / "shared" / "corpora"


def synthetic_vault(notes: int = 10_000, seed: int = 42) -> Path:
    """The generated vault for (notes, seed), made once and reused (indexes are removed by callers)."""
    sys.path.insert(0, str(HERE))
    from genvault import generate

    path = OUT / f"vault-{notes}-{seed}"
    if not (path / ".generated").exists():
        shutil.rmtree(path, ignore_errors=True)
        OUT.mkdir(parents=True, exist_ok=True)
        generate(path, notes=notes, seed=seed, manifest=OUT / f"vault-{notes}-{seed}.manifest.json")
        (path.parent / f"vault-{notes}-{seed}" / ".generated").write_text("ok")
    return path


def fresh_copy(src: Path, name: str) -> Path:
    """A copy of a vault without its index, so benchmarks never touch the source."""
    dst = OUT / "work" / name
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".mdstore"))
    return dst


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds of samples given in seconds."""
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return p50 * 1000, p99 * 1000


def time_calls(fn: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def wall(cmd: list[str], repeat: int = 7, cwd: Path | None = None) -> float:
    """Median wall seconds of a fresh process running ``cmd``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
