"""A parse worker killed mid-chunk loses nothing: its chunk is parsed again in the syncing
process, no note is taken for deleted, and the failure is in the report."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import VaultFactory

VICTIM = "n050-kill-me.md"

# Loaded by every worker process (PYTHONPATH is inherited), never by the test process: the worker
# that opens VICTIM is SIGKILLed there and then, in the middle of its chunk.
SITECUSTOMIZE = f"""
import builtins, os, signal

_open = builtins.open

def _killing_open(file, *args, **kwargs):
    if str(file).endswith({VICTIM!r}):
        os.kill(os.getpid(), signal.SIGKILL)
    return _open(file, *args, **kwargs)

builtins.open = _killing_open
"""

PARALLEL = {"parallel_threshold": 2, "parse_workers": 2}


def _names() -> list[str]:
    return [VICTIM if i == 50 else f"n{i:03d}.md" for i in range(120)]


@pytest.fixture
def kill_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make every parse worker started from then on die on VICTIM."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    return lambda: monkeypatch.setenv("PYTHONPATH", str(hooks))


def _count(vault) -> int:  # type: ignore[no-untyped-def]
    return int(vault.sql("SELECT count(*) AS n FROM notes").first()["n"])


def test_killed_worker_on_first_sync_indexes_every_note(
    make_vault: VaultFactory, kill_hook: Callable[[], None]
) -> None:
    kill_hook()
    vault = make_vault({name: f"# {name}\n\nbody\n" for name in _names()}, index=PARALLEL)
    report = vault.sync()
    assert len(report.added) == 120
    assert _count(vault) == 120
    worker = [e for e in report.errors if e.kind == "worker"]
    assert len(worker) == 1 and "killed by signal 9" in worker[0].message


def test_killed_worker_on_resync_deletes_nothing(
    make_vault: VaultFactory, tmp_path: Path, kill_hook: Callable[[], None]
) -> None:
    vault = make_vault({name: f"# {name}\n\nbody\n" for name in _names()}, index=PARALLEL)
    vault.sync()
    assert _count(vault) == 120
    for name in _names():  # every note changes, so every note is parsed again, by the workers
        (tmp_path / "vault" / name).write_text(f"# {name}\n\nedited body\n", encoding="utf-8")
    kill_hook()
    report = vault.sync()
    assert report.deleted == ()
    assert len(report.changed) == 120
    assert _count(vault) == 120
    assert "edited" in vault.get(VICTIM).body
    assert any(e.kind == "worker" and "killed by signal 9" in e.message for e in report.errors)


# The worker that is about to read VICTIM finds it gone: removed between the scan and the parse, as
# an editor's save or a `git checkout` can do.
VANISH = f"""
import builtins, os

_open = builtins.open

def _vanishing_open(file, *args, **kwargs):
    if str(file).endswith({VICTIM!r}):
        try:
            os.unlink(file)
        except FileNotFoundError:
            pass
    return _open(file, *args, **kwargs)

builtins.open = _vanishing_open
"""


def test_a_file_gone_before_its_worker_reads_it_costs_no_other_note(
    make_vault: VaultFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault({name: f"# {name}\n\nbody\n" for name in _names()}, index=PARALLEL)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(textwrap.dedent(VANISH), encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    report = vault.sync()
    assert report.errors == ()  # the worker's "gone" answer is understood, not taken for a crash
    assert not (tmp_path / "vault" / VICTIM).exists()
    assert _count(vault) == 119
    assert VICTIM not in {row["path"] for row in vault.sql("SELECT path FROM notes")}
