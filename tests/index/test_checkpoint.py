"""A small write leaves its changes in DuckDB's write-ahead log instead of checkpointing at close
(the checkpoint was a fifth of a CLI `set`); the log is folded in once it passes a threshold, and
every later open, in any process, sees the writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mdstore
from mdstore.index.store import WAL_CHECKPOINT_BYTES

NOTES = {f"n{i}.md": f"---\nk: 0\n---\nNote {i} [[n{(i + 1) % 20}]]\n" for i in range(20)}


def wal(root: Path) -> int:
    path = root / ".mdstore" / "index.duckdb.wal"
    return path.stat().st_size if path.exists() else 0


def read_k(root: Path) -> list[int]:
    """``k`` of every note, read by another process (a read-only open replays the log)."""
    code = (
        "import json, sys, mdstore\n"
        "with mdstore.open(sys.argv[1]) as v:\n"
        "    print(json.dumps([r['k'] for r in v.sql(\"SELECT json_extract(frontmatter, '$.k')::INT AS k "
        'FROM notes ORDER BY path")]))\n'
    )
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_small_writes_stay_in_the_log_until_it_is_big(make_vault, tmp_path: Path) -> None:
    root = tmp_path / "vault"
    vault = make_vault(NOTES, search={"engine": "none", "related": False})
    vault.sync()
    vault.close()

    sizes = [wal(root)]
    for i in range(60):
        with mdstore.open(root, search={"engine": "none", "related": False}) as v:
            v.update(f"n{i % 20}.md", set={"k": i + 1})
        sizes.append(wal(root))
    assert sizes[0] < sizes[1] < WAL_CHECKPOINT_BYTES  # one write: no checkpoint at close
    step = max(b - a for a, b in zip(sizes, sizes[1:], strict=False))
    assert max(sizes) < WAL_CHECKPOINT_BYTES + step  # folded in once past the threshold
    assert any(b < a for a, b in zip(sizes, sizes[1:], strict=False))
    expected = {f"n{i}.md": 41 + i for i in range(20)}
    assert read_k(root) == [expected[p] for p in sorted(expected)]
