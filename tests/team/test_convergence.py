"""Convergence: 5 clones in separate processes edit, move, delete and create on 200 shared notes for
30 s while syncing continuously, with processes killed mid-sync now and then. After a final sync
every clone's tree is byte-identical, every logged edit is present (in a note, a conflict copy, or
a trash folder after a delete), and each clone's index equals a rebuild."""

from __future__ import annotations

import difflib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import mdstore
from tests.conftest import dump_index
from tests.team.conftest import SPACE, Clone, tree, write

CLONES = 5
NOTES = 200
SECONDS = float(os.environ.get("CONVERGENCE_SECONDS", "30"))
WORKER = Path(__file__).with_name("convergence_clone.py")


def test_five_clones_converge(clone: Clone, team_url: str, tmp_path: Path) -> None:
    seed = clone("seed")
    for i in range(NOTES):
        write(seed, f"shared/{i:03}.md", f"---\nn: {i}\n---\n# Note {i}\n\nfirst line\nsecond line\n")
    seed.team.sync()
    roots = []
    for c in range(CLONES):
        vault = clone(f"c{c}")
        vault.team.sync()
        (vault.root / "mdstore.toml").write_text(
            f'[team]\nurl = "{team_url}"\nspace = "{SPACE}"\n[search]\nengine = "none"\n'
        )
        roots.append(vault.root)
        vault.close()
    until = time.time() + SECONDS
    logs = [tmp_path / f"tokens-{c}.log" for c in range(CLONES)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}

    def start(c: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, str(WORKER), str(roots[c]), f"c{c}", str(c), str(until), str(logs[c])], env=env
        )

    procs = [start(c) for c in range(CLONES)]
    rng = random.Random(7)
    kills = 0
    while time.time() < until - 2:
        time.sleep(rng.uniform(1.0, 3.0))  # the pace of the chaos, not a timing assumption
        c = rng.randrange(CLONES)
        procs[c].send_signal(signal.SIGKILL)
        procs[c].wait()
        kills += 1
        procs[c] = start(c)
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    vaults = [mdstore.open(root) for root in roots]
    try:
        for _ in range(6):  # settle: rounds until nobody has anything left to exchange
            if sum(v.team.sync().changed_count for v in vaults) == 0:
                break
        trees = [tree(v) for v in vaults]
        for other in trees[1:]:
            assert other == trees[0]
        everything = "".join(b.decode("utf-8", "replace") for b in trees[0].values())
        for v in vaults:  # notes deleted by someone went to that clone's trash: recoverable
            everything += "".join(
                p.read_text(errors="replace") for p in (v.root / ".trash").rglob("*") if p.is_file()
            )
        logged = [line.split()[0] for log in logs if log.exists() for line in log.read_text().splitlines()]
        missing = [t for t in logged if t not in everything]
        if missing:
            ops = {line.split()[0]: line for log in logs for line in log.read_text().splitlines()}
            history = _server_history(team_url, missing[:3])
            missing = [ops[t] for t in missing]
            raise AssertionError(f"{len(missing)} of {len(logged)} edits lost, e.g. {missing[:5]}\n{history}")
        for v in vaults:
            v.sync()
            incremental = dump_index(v)
            v.sync(rebuild=True)
            assert dump_index(v) == incremental
        assert kills >= 5 and len(logged) > 20  # the chaos really happened (a slow machine does less of it)
    finally:
        for v in vaults:
            v.close()


def _server_history(url: str, tokens: list[str]) -> str:
    """What the server holds of the notes a lost token was ever in (or, when it never reached the
    server, says so): the evidence a lost edit needs, since the cluster goes with the test."""
    import psycopg

    lines: list[str] = []
    with psycopg.connect(url) as conn:
        for token in tokens:
            needle = token.encode()
            rows = conn.execute(
                "SELECT revision, path, base_revision, deleted, moved_from, updated_by,"
                " position(%s::bytea in content) > 0, content FROM team_revisions WHERE path IN"
                " (SELECT path FROM team_revisions WHERE position(%s::bytea in content) > 0)"
                " ORDER BY revision",
                (needle, needle),
            ).fetchall()
            lines.append(
                f"{token}: {len(rows)} revisions of the notes that held it"
                if rows
                else f"{token}: never reached the server"
            )
            lines += [
                f"  rev {r[0]} {r[1]} base={r[2]} deleted={r[3]} moved_from={r[4]} by={r[5]} has_token={r[6]}"
                for r in rows
            ]
            # The revision that dropped it, against the one it was based on.
            by_rev = {r[0]: r for r in rows}
            for r in rows:
                base = by_rev.get(r[2])
                if base is not None and base[6] and not r[6]:
                    before, after = (bytes(x[7]).decode(errors="replace").splitlines() for x in (base, r))
                    diff = difflib.unified_diff(before, after, f"rev {base[0]}", f"rev {r[0]}", lineterm="")
                    lines += [f"    {line}" for line in diff]
                    break
    return "\n".join(lines)
