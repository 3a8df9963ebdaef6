"""`mdstore index` shows every phase of a sync: the notes read, then the search engine and the
related-notes model, each on its own line (Vault.sync's on_phase)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import mdstore
from mdstore.cli.progress import Phases


def test_sync_reports_each_phase_of_a_rebuild(tmp_path: Path):
    for i in range(30):
        (tmp_path / f"n{i}.md").write_text(f"# Note {i}\nwords about gardens {i}\n")
    seen: list[tuple[str, int, int]] = []
    with mdstore.open(tmp_path) as vault:
        vault.sync(rebuild=True, on_phase=lambda phase, done, total: seen.append((phase, done, total)))
        order = [phase for phase, _, _ in seen]
        assert order[-4:] == ["search", "search", "related", "related"]
        assert ("parse", 30, 30) in seen and order.index("parse") < order.index("search")
        assert seen[-1] == ("related", 30, 30)
        seen.clear()
        (tmp_path / "n1.md").write_text("# Note 1\nchanged\n")
        vault.sync(on_phase=lambda *a: seen.append(a))  # a small change: no rebuild phases
        assert {phase for phase, _, _ in seen} <= {"parse"}


def test_phases_draw_one_line_each_with_a_clock_for_the_builds():
    out = io.StringIO()
    with Phases(out) as phases:
        phases("parse", 0, 1000)
        phases("parse", 500, 1000)
        phases("parse", 1000, 1000)
        phases("search", 0, 1000)
        time.sleep(0.7)  # the clock ticks while the engine builds
        phases("search", 1000, 1000)
        phases("related", 0, 1000)
    lines = out.getvalue().split("\n")
    assert lines[0].endswith("1,000 notes in 0.0 s\x1b[K") and "500/1,000 notes (50 %)" in lines[0]
    assert "Search engine: 1,000 notes, " in lines[1] and "Search engine: 1,000 notes in 0.7 s" in lines[1]
    assert lines[2].startswith("\rRelated notes: ") or lines[2] == ""  # finished by the context manager


def test_no_progress_for_small_syncs_or_when_not_on_a_terminal():
    out = io.StringIO()
    with Phases(out) as phases:
        phases("parse", 10, 10)
    with Phases(out, enabled=False) as phases:
        phases("parse", 500, 1000)
    assert out.getvalue() == ""
