"""The batch journal: all-or-nothing commits, preconditions, recovery, and kill -9 at random moments."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mdstore.errors import InvalidPath, NoteNotFound, WriteConflict
from mdstore.notes.fileio import is_temp_name
from mdstore.notes.journal import BULK_SYNC_FILES, Journal, recover
from mdstore.notes.model import content_hash

HARNESS = Path(__file__).with_name("crash_harness.py")
_spec = importlib.util.spec_from_file_location("crash_harness", HARNESS)
assert _spec and _spec.loader
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)


def leftovers(root: Path) -> list[str]:
    """Temp files anywhere in the vault and unfinished batches in the journal."""
    found = [str(p.relative_to(root)) for p in root.rglob("*") if is_temp_name(p.name)]
    journal = root / ".mdstore" / "journal"
    if journal.is_dir():
        found += [str(p.relative_to(root)) for p in journal.iterdir() if p.is_dir()]
    return found


def test_commit_applies_every_operation(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"old a")
    (tmp_path / "b.md").write_bytes(b"b")
    (tmp_path / "c.md").write_bytes(b"c")
    (tmp_path / "d.md").write_bytes(b"d")
    os.chmod(tmp_path / "a.md", 0o640)
    with Journal(tmp_path).begin() as batch:
        batch.write("a.md", b"new a", if_hash=content_hash(b"old a"))
        batch.write("new/deep/n.md", b"n", create=True)
        batch.delete("b.md")
        batch.delete("c.md", to_trash=False)
        batch.move("d.md", "moved/d.md")
    assert (tmp_path / "a.md").read_bytes() == b"new a"
    assert (tmp_path / "a.md").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "new/deep/n.md").read_bytes() == b"n"
    assert (tmp_path / ".trash/b.md").read_bytes() == b"b"
    assert not (tmp_path / "b.md").exists() and not (tmp_path / "c.md").exists()
    assert (tmp_path / "moved/d.md").read_bytes() == b"d" and not (tmp_path / "d.md").exists()
    assert leftovers(tmp_path) == []


def test_commit_returns_touched_paths(tmp_path: Path) -> None:
    (tmp_path / "x.md").write_bytes(b"x")
    batch = Journal(tmp_path).begin()
    batch.write("y.md", b"y")
    batch.move("x.md", "z.md", data=b"rewritten")
    assert batch.commit() == ["y.md", "x.md", "z.md"]
    assert (tmp_path / "z.md").read_bytes() == b"rewritten"
    assert not (tmp_path / "x.md").exists()


def test_trash_names_are_numbered_like_obsidian(tmp_path: Path) -> None:
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash/n.md").write_bytes(b"older")
    (tmp_path / "n.md").write_bytes(b"newer")
    with Journal(tmp_path).begin() as batch:
        batch.delete("n.md")
    assert (tmp_path / ".trash/n 1.md").read_bytes() == b"newer"
    assert (tmp_path / ".trash/n.md").read_bytes() == b"older"


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (lambda b: b.write("a.md", b"x", create=True), WriteConflict),
        (lambda b: b.write("a.md", b"x", if_hash="0" * 64), WriteConflict),
        (lambda b: b.write("missing.md", b"x", if_hash="0" * 64), WriteConflict),
        (lambda b: b.delete("missing.md"), NoteNotFound),
        (lambda b: b.move("missing.md", "q.md"), NoteNotFound),
        (lambda b: b.move("b.md", "a.md"), WriteConflict),
        (lambda b: b.write("../out.md", b"x"), InvalidPath),
        (lambda b: (b.write("b.md", b"1"), b.delete("b.md")), InvalidPath),
        (lambda b: b.write("a.md/x.md", b"x"), InvalidPath),
    ],
)
def test_a_failed_precondition_changes_nothing(tmp_path: Path, setup, error) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.md").write_bytes(b"a")
    (tmp_path / "b.md").write_bytes(b"b")
    batch = Journal(tmp_path).begin()
    batch.write("c.md", b"a valid operation of the same batch")
    setup(batch)
    with pytest.raises(error):
        batch.commit()
    assert (tmp_path / "a.md").read_bytes() == b"a"
    assert (tmp_path / "b.md").read_bytes() == b"b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.md"]
    assert leftovers(tmp_path) == []


def test_an_exception_in_the_with_block_discards_the_batch(tmp_path: Path) -> None:
    with pytest.raises(ValueError), Journal(tmp_path).begin() as batch:
        batch.write("a.md", b"a")
        raise ValueError("stop")
    assert not (tmp_path / "a.md").exists()


def test_folder_move(tmp_path: Path) -> None:
    (tmp_path / "f/g").mkdir(parents=True)
    (tmp_path / "f/g/n.md").write_bytes(b"n")
    with Journal(tmp_path).begin() as batch:
        batch.move("f", "h/f2")
        batch.write("other.md", b"o")
    assert (tmp_path / "h/f2/g/n.md").read_bytes() == b"n"
    assert not (tmp_path / "f").exists()


def test_writing_inside_a_moved_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    (tmp_path / "f/n.md").write_bytes(b"n")
    batch = Journal(tmp_path).begin()
    batch.move("f", "g")
    batch.write("g/n.md", b"x")
    with pytest.raises(InvalidPath):
        batch.commit()
    assert (tmp_path / "f/n.md").read_bytes() == b"n"


def _plant_batch(root: Path, *, committed: bool) -> None:
    """Run a real commit, then rebuild the journal as a crash before/after the commit point leaves it."""
    (root / "a.md").write_bytes(b"old")
    journal = Journal(root)
    batch = journal.begin()
    batch.write("a.md", b"new")
    batch.write("fresh/b.md", b"b")
    ops = batch._ops
    trash = journal._check(ops)
    folder = journal.folder / "00000000000000000001-test"
    folder.mkdir(parents=True)
    plan = journal._stage(ops, folder, trash)
    if committed:
        (folder / "plan.json").write_text(json.dumps(plan))
    batch.discard()


def test_recover_rolls_back_an_uncommitted_batch(tmp_path: Path) -> None:
    _plant_batch(tmp_path, committed=False)
    assert [p for p in tmp_path.rglob("*") if is_temp_name(p.name)]
    assert recover(tmp_path) == []
    assert (tmp_path / "a.md").read_bytes() == b"old"
    assert not (tmp_path / "fresh").exists()
    assert leftovers(tmp_path) == []


def test_recover_rolls_forward_a_committed_batch(tmp_path: Path) -> None:
    _plant_batch(tmp_path, committed=True)
    assert recover(tmp_path) == ["a.md", "fresh/b.md"]
    assert (tmp_path / "a.md").read_bytes() == b"new"
    assert (tmp_path / "fresh/b.md").read_bytes() == b"b"
    assert leftovers(tmp_path) == []
    assert recover(tmp_path) == []  # idempotent


@pytest.mark.parametrize("first_step_done", [False, True])
def test_a_case_only_rename_goes_through_a_temp_name(tmp_path: Path, first_step_done: bool) -> None:
    # Two steps, so that a file system that ignores case never sees a link and an unlink of one
    # entry; a crash between them is finished by recovery.
    (tmp_path / "Home.md").write_bytes(b"home")
    journal = Journal(tmp_path)
    batch = journal.begin()
    batch.move("Home.md", "home.md")
    ops = batch._ops
    trash = journal._check(ops)
    folder = journal.folder / "00000000000000000001-test"
    folder.mkdir(parents=True)
    plan = journal._stage(ops, folder, trash)
    (folder / "plan.json").write_text(json.dumps(plan))
    batch.discard()
    via = plan["ops"][0]["via"]
    assert via.startswith(".mdstore/journal/")
    if first_step_done:
        os.rename(tmp_path / "Home.md", tmp_path / via)
    assert recover(tmp_path) == ["Home.md", "home.md"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["home.md"]
    assert (tmp_path / "home.md").read_bytes() == b"home"
    assert leftovers(tmp_path) == []


def test_recover_on_a_vault_without_journal(tmp_path: Path) -> None:
    assert recover(tmp_path) == []


_FAILING_BULK_BATCH = """
import resource, sys
from pathlib import Path
from mdstore.notes.journal import Journal
root = Path(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))  # files up to 1 MB
try:
    with Journal(root).begin() as batch:
        for i in range(40):
            batch.write(f"f{i % 4}/n{i:02}.md", b"new " * 10 + (b"x" * (2 << 20) if i == 23 else b""))
except OSError as exc:
    print("refused:", exc.strerror)
"""


def test_a_bulk_batch_whose_write_fails_changes_nothing(tmp_path: Path) -> None:
    # 40 files, staged on several threads; one cannot be written (over the process's file size
    # limit): every thread has ended before the roll-back, so no staged file is left behind.
    for i in range(40):
        (tmp_path / f"f{i % 4}").mkdir(exist_ok=True)
        (tmp_path / f"f{i % 4}/n{i:02}.md").write_bytes(b"old")
    done = subprocess.run(
        [sys.executable, "-c", _FAILING_BULK_BATCH, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "refused: File too large"
    assert all(p.read_bytes() == b"old" for p in tmp_path.glob("f*/n*.md"))
    assert len(list(tmp_path.glob("f*/n*.md"))) == 40
    assert leftovers(tmp_path) == []


def _kill_at_random(args: list[str], rng: random.Random, window: float) -> None:
    child = subprocess.Popen([sys.executable, str(HARNESS), *args], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    time.sleep(rng.uniform(0, window))
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()


def test_kill_9_during_atomic_write_leaves_old_or_new(tmp_path: Path) -> None:
    rng = random.Random(1234)
    first, second = harness.content("A", "n"), harness.content("B", "n")
    (tmp_path / "A").write_bytes(first)
    (tmp_path / "B").write_bytes(second)
    vault = tmp_path / "vault"
    vault.mkdir()
    target = vault / "n.md"
    target.write_bytes(first)
    for _ in range(75):
        _kill_at_random(["atomic", str(target), str(tmp_path / "A"), str(tmp_path / "B")], rng, 0.03)
        assert target.read_bytes() in (first, second)
        assert all(p.name == "n.md" or is_temp_name(p.name) for p in vault.iterdir())


def _assert_journal_state(root: Path) -> None:
    content = harness.content
    state = harness.journal_state(root)
    for name in harness.WRITTEN:
        assert (root / f"{name}.md").read_bytes() == content(state, name)
    if state == "X":
        assert (root / "e.md").read_bytes() == content("D", "d")
        assert (root / "sub/f.md").read_bytes() == content("F", "f")
        assert (root / "h.md").read_bytes() == content("X", "h")
        assert not any((root / n).exists() for n in ("d.md", "g.md", "t.md"))
        assert all(
            (root / f"n{i}.md").exists() and not (root / f"m{i}.md").exists() for i in range(harness.MOVES)
        )
    else:
        assert (root / "d.md").read_bytes() == content("D", "d")
        assert (root / "g.md").read_bytes() == content("Y", "g")
        assert (root / "t.md").read_bytes() == content("T", "t")
        assert not any((root / n).exists() for n in ("e.md", "sub/f.md", "h.md"))
        assert all(
            (root / f"m{i}.md").exists() and not (root / f"n{i}.md").exists() for i in range(harness.MOVES)
        )


def test_kill_9_during_batches_is_all_or_nothing_after_recover(tmp_path: Path) -> None:
    assert len(harness.WRITTEN) >= BULK_SYNC_FILES  # the batches take the one-flush path
    rng = random.Random(4321)
    harness.setup_journal_vault(tmp_path)
    for _ in range(75):
        _kill_at_random(["journal", str(tmp_path)], rng, 0.06)
        recover(tmp_path)
        _assert_journal_state(tmp_path)
        assert leftovers(tmp_path) == []
