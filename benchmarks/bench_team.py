"""Team tier benchmark against a throwaway PostgreSQL 15 (started here, like the tests do):

- initial push of a vault (COPY), a no-op sync, one changed note pushed, the first pull of the
  whole vault by a second clone, a pull of 1,000 changed notes;
- edit saved in clone A -> file updated in clone B, both running `mdstore watch` as real processes;
- the sync throughput of 5 clones (separate processes) editing 200 shared notes at once;
- `team upgrade` of a local vault (with waiting jobs) into a new database, verification included,
  and `team clone` of the space it made.

    python benchmarks/bench_team.py [--notes 10000] [--edits 60] [--converge 20]
                                    [--only sync,live,converge,upgrade,clone]

Prints a table and writes benchmarks/out/team.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, fresh_copy, machine, percentiles, synthetic_vault

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import mdstore  # noqa: E402
from mdstore.pg import apply_migrations, connect  # noqa: E402
from mdstore.team.schema import COMPONENT, MIGRATIONS  # noqa: E402

SPACE = "bench"


def cluster():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("pgcluster", ROOT / "tests" / "pgcluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PgCluster()


def team_db(pg) -> str:  # type: ignore[no-untyped-def]
    url = pg.url(pg.create_database())
    with connect(url) as conn:
        apply_migrations(conn, COMPONENT, MIGRATIONS)
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (SPACE,))
        conn.commit()
    return url


def clone(path: Path, url: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "mdstore.toml").write_text(
        f'[team]\nurl = "{url}"\nspace = "{SPACE}"\npoll_seconds = 600.0\n[search]\nengine = "none"\nrelated = false\n'
    )
    return path


def server_cpu(pg) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds used so far by the cluster: the postmaster, its running children (backends,
    background writers) and the children it has reaped (backends of closed connections)."""
    postmaster = (pg.data / "postmaster.pid").read_text().split("\n", 1)[0].strip()
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if stat.parent.name == postmaster:
            total += sum(int(f) for f in fields[11:15])
        elif fields[1] == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def wait(cond, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("condition not met")
        time.sleep(0.001)
    return time.perf_counter() - t0


def edit(path: Path, line: str) -> None:
    text = path.read_text()
    tmp = path.with_name(f".{path.name}.bench")
    tmp.write_text(text + line + "\n")
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--edits", type=int, default=60)
    ap.add_argument("--converge", type=float, default=20.0)
    ap.add_argument("--only", default="sync,live,converge,upgrade,clone", help="comma-separated parts to run")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    out: dict[str, object] = {"machine": machine(), "notes": args.notes}
    pg = cluster()
    try:
        src = synthetic_vault(args.notes)
        if parts & {"upgrade", "clone"}:
            out.update(upgrade(pg, src, "clone" in parts))
        if parts & {"sync", "live"}:
            out.update(sync_figures(pg, src, parts, args.edits))
        if "converge" in parts:
            out.update(convergence(pg, args.converge))
    finally:
        pg.close()
    OUT.mkdir(exist_ok=True)
    (OUT / "team.json").write_text(json.dumps(out, indent=2))
    for key, value in out.items():
        print(f"{key:28} {value:.1f}" if isinstance(value, float) else f"{key:28} {value}")


def upgrade(pg, src: Path, and_clone: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """`team upgrade` of an indexed local vault holding 100 waiting jobs, then `team clone` of the
    space (search engine off, as for clone B below)."""
    url = pg.url(pg.create_database())
    root = fresh_copy(src, "team-upgrade")
    (root / "mdstore.toml").write_text('[search]\nengine = "none"\nrelated = false\n')
    vault = mdstore.open(root)
    vault.sync()  # a vault in use is indexed
    with mdstore.open_queue(vault.config) as q:
        for i in range(100):
            q.enqueue("hook", {"n": i}, key=str(i))
    t0 = time.perf_counter()
    report = vault.team.upgrade(SPACE, url=url)
    seconds = time.perf_counter() - t0
    vault.close()
    assert report.pushed == report.notes + report.attachments and report.jobs == {"default": 100}
    if not and_clone:
        return {"upgrade_s": seconds}
    dest = OUT / "work" / "team-clone"
    shutil.rmtree(dest, ignore_errors=True)
    t0 = time.perf_counter()
    mdstore.clone_vault(url, dest, space=SPACE, search={"engine": "none", "related": False}).close()
    return {"upgrade_s": seconds, "clone_s": time.perf_counter() - t0}


def sync_figures(pg, src: Path, parts: set[str], edits: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    url = team_db(pg)
    a_root = clone(fresh_copy(src, "team-a"), url)
    b_root = clone(OUT / "work" / "team-b", url)
    shutil.rmtree(b_root / ".mdstore", ignore_errors=True)
    for p in b_root.iterdir():
        if p.name != "mdstore.toml":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    a, b = mdstore.open(a_root), mdstore.open(b_root)
    a.sync()  # a vault in use is indexed: the push takes what the index parsed
    # The push's CPU on both sides: the server's part runs in one backend process (one transaction),
    # which bounds how fast it can be on any number of cores.
    server0, client0 = server_cpu(pg), client_cpu()
    out["initial_push_s"] = timed(a.team.sync)
    out["initial_push_server_cpu_s"] = server_cpu(pg) - server0
    out["initial_push_client_cpu_s"] = client_cpu() - client0
    noop = [timed(a.team.sync) for _ in range(20)]
    out["noop_sync_p50_ms"], out["noop_sync_p99_ms"] = percentiles(noop)
    # For comparison: the vault's own no-op sync, the same walk of every file without the server.
    out["noop_vault_sync_p50_ms"], _ = percentiles([timed(a.sync) for _ in range(20)])
    notes = sorted(p for p in a_root.rglob("*.md") if ".mdstore" not in p.parts)
    one = []
    for i in range(20):
        edit(notes[i], f"one change {i}")
        one.append(timed(a.team.sync))
    out["one_change_push_p50_ms"], out["one_change_push_p99_ms"] = percentiles(one)
    # What the watcher does: it knows which file changed, so the sync does not walk the vault.
    told = []
    for i in range(20, 40):
        edit(notes[i], f"one change {i}")
        rel = notes[i].relative_to(a_root).as_posix()
        told.append(timed(lambda rel=rel: a.team.sync(paths=[rel])))
    out["one_change_told_p50_ms"], out["one_change_told_p99_ms"] = percentiles(told)
    out["initial_pull_s"] = timed(b.team.sync)
    for i, path in enumerate(random.Random(1).sample(notes, 1000)):
        edit(path, f"bulk change {i}")
    out["push_1000_s"] = timed(a.team.sync)
    out["pull_1000_s"] = timed(b.team.sync)
    a.close()
    b.close()
    if "live" in parts:
        out.update(live_latency(a_root, b_root, edits))
    return out


def live_latency(a_root: Path, b_root: Path, edits: int) -> dict[str, float]:
    """Edit saved in A -> the file updated in B, both running `mdstore watch`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "mdstore", "--vault", str(r), "watch"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for r in (a_root, b_root)
    ]  # fmt: skip
    try:
        for r in (a_root, b_root):
            wait(lambda r=r: (r / ".mdstore" / "owner.sock").exists(), 120)
        probe = a_root / "live-probe.md"
        probe.write_text("# probe\n")
        wait(lambda: (b_root / "live-probe.md").exists(), 120)  # both daemons are up and in sync
        notes = sorted(p.relative_to(a_root) for p in a_root.glob("*/*.md"))[:edits]
        samples = []
        for i, rel in enumerate(notes):
            token = f"live edit {i}"
            t0 = time.perf_counter()
            edit(a_root / rel, token)
            wait(lambda rel=rel, token=token: token in (b_root / rel).read_text(errors="replace"))
            samples.append(time.perf_counter() - t0)
            time.sleep(0.05)
        p50, p99 = percentiles(samples)
        return {"live_edit_p50_ms": p50, "live_edit_p99_ms": p99}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


def convergence(pg, seconds: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """5 clones in separate processes edit 200 shared notes and sync continuously."""
    url = team_db(pg)
    base = OUT / "work" / "team-converge"
    shutil.rmtree(base, ignore_errors=True)
    seed = mdstore.open(clone(base / "seed", url))
    for i in range(200):
        path = seed.root / f"shared/{i:03}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Note {i}\n\nfirst line\n")
    seed.team.sync()
    seed.close()
    roots = []
    for c in range(5):
        v = mdstore.open(clone(base / f"c{c}", url))
        v.team.sync()
        v.close()
        roots.append(base / f"c{c}")
    worker = ROOT / "tests" / "team" / "convergence_clone.py"
    until = time.time() + seconds
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with connect(url) as conn:
        before = conn.execute("SELECT revision FROM team_spaces WHERE name = %s", (SPACE,)).fetchone()[0]
    procs = [
        subprocess.Popen([sys.executable, str(worker), str(r), f"c{c}", str(c), str(until), str(base / f"log{c}")],
                         env=env)
        for c, r in enumerate(roots)
    ]  # fmt: skip
    for proc in procs:
        proc.wait()
    with connect(url) as conn:
        after = conn.execute("SELECT revision FROM team_spaces WHERE name = %s", (SPACE,)).fetchone()[0]
    edits = sum(len((base / f"log{c}").read_text().splitlines()) for c in range(5))
    return {
        "converge_seconds": seconds,
        "converge_revisions_per_s": (after - before) / seconds,
        "converge_edits_per_s": edits / seconds,
    }


if __name__ == "__main__":
    main()
