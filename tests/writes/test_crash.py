"""kill -9 during Vault writes: every file is old or new; a batch is all or nothing after reopening."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mdstore

WRITER = Path(__file__).with_name("writer.py")
TRIALS = 50  # per mode: 100 kills in all


def _kill_at_random(root: Path, mode: str, rng: random.Random) -> None:
    proc = subprocess.Popen([sys.executable, str(WRITER), str(root), mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.25))
    proc.kill()
    proc.wait()
    proc.stdout.close()


def _state_of(text: str) -> str:
    body = text.split("---\n", 2)[2]
    head = text.split("---\n", 2)[1]
    state = head.split("state: ")[1][0]
    assert body[0] == state, "frontmatter and body of one write must land together"
    return state


@pytest.mark.parametrize("mode", ["single", "batch"])
def test_kill_during_writes(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "v"
    root.mkdir()
    for name in "abc":
        (root / f"{name}.md").write_text("---\nstate: Y\n---\nY\n")
    (root / "d.md").write_text("d\n")
    rng = random.Random(7)
    for _ in range(TRIALS):
        _kill_at_random(root, mode, rng)
        with mdstore.open(root, index={"parse_workers": 1}, search={"engine": "none"}) as vault:
            vault._recover_journal()  # what open_vault will do
            states = {_state_of((root / f"{n}.md").read_text()) for n in ("a",) if mode == "single"}
            if mode == "batch":
                states = {_state_of((root / f"{n}.md").read_text()) for n in "abc"}
                assert len(states) == 1, "a batch is all or nothing"
                state = states.pop()
                assert (root / "e.md").exists() == (state == "X") != (root / "d.md").exists()
                assert (root / "sub/f.md").exists() == (state == "X")
            vault.sync()  # a full sync removes the temp files of killed writers
            leftovers = [p for p in root.rglob("*.tmp") if ".mdstore" not in p.parts]
            assert not leftovers
