"""Search updates held back after small writes (search/backlog.py): the writing process always
searches its own writes, other processes see them whether the writer closed, exited, crashed or
kept going, and a held-back change never overwrites a newer write of another process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mdstore
from mdstore.search import backlog, indexer

from .conftest import ENGINES, engine_param

FILES = {
    "garden/tomatoes.md": "---\nstatus: active\n---\n# Tomatoes\nTomatoes like warm soil.\n",
    "garden/beans.md": "# Beans\nBeans climb poles. [[garden/tomatoes]]\n",
    "cafe.md": "# Cafe\nSoup and bread at the cafe.\n",
}


@pytest.fixture(params=[engine_param(e) for e in ENGINES])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def root(tmp_path: Path, engine: str) -> Path:
    root = tmp_path / "vault"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "mdstore.toml").write_text(f'[search]\nengine = "{engine}"\n', encoding="utf-8")
    vault = mdstore.open(root)
    vault.sync()
    vault.close()
    return root


@pytest.fixture
def vault(root: Path) -> Iterator[mdstore.Vault]:
    v = mdstore.open(root)
    yield v
    v.close()


def other_process(root: Path, code: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python with ``vault`` opened on ``root``."""
    script = f"import json, os, sys, mdstore\nvault = mdstore.open({str(root)!r})\n" + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def status_elsewhere(root: Path) -> dict[str, Any]:
    """search_status() as another process sees it (it never applies this process's backlog)."""
    import json

    proc = other_process(root, "print(json.dumps(vault.search_status()))\nvault.close()\n")
    return dict(json.loads(proc.stdout))


def test_the_writing_process_searches_its_own_writes_at_once(vault: mdstore.Vault) -> None:
    vault.update("garden/tomatoes.md", body="# Tomatoes\nZeppelins over the greenhouse.\n")
    assert vault.search("zeppelin").paths() == ["garden/tomatoes.md"]
    assert vault.search("soil").total == 0
    vault.create("notes/new.md", body="Zeppelins over warm soil.\n")
    vault.move("cafe.md", "places/cafe.md")
    vault.delete("garden/beans.md")
    assert sorted(vault.search("zeppelin").paths()) == ["garden/tomatoes.md", "notes/new.md"]
    assert vault.search("soup").paths() == ["places/cafe.md"]
    assert vault.search("poles").total == 0
    assert vault.similar("soil", k=1).paths() == ["notes/new.md"]  # a word of the fitted vocabulary
    status = vault.search_status()
    assert status["search"]["ready"] and status["related"]["ready"]
    assert status["search"]["notes"] == 3


def test_a_small_write_leaves_the_engine_commit_for_later(vault: mdstore.Vault, root: Path) -> None:
    generation = vault.status()["generation"]
    vault.update("cafe.md", set={"rating": 5})
    # another process sees the search side one generation behind until this one catches up
    behind = status_elsewhere(root)
    assert behind["generation"] == generation + 1
    assert behind["search"]["stamp"] == generation and not behind["search"]["ready"]
    vault.close()
    after = status_elsewhere(root)
    assert after["search"]["ready"] and after["related"]["ready"]


def test_held_back_changes_are_applied_after_a_quiet_moment(vault: mdstore.Vault, root: Path) -> None:
    vault.update("cafe.md", body="# Cafe\nBorscht today.\n")
    deadline = time.monotonic() + backlog.FLUSH_MAX_LAG + 20
    while True:
        status = status_elsewhere(root)
        if status["search"]["ready"] and status["related"]["ready"]:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    proc = other_process(root, "print(vault.search('borscht').paths())\n")
    assert proc.stdout.strip() == "['cafe.md']"


@pytest.mark.parametrize("ending", ["exit", "os._exit", "kill -9"])
def test_a_writer_that_ends_without_closing_loses_nothing(root: Path, ending: str) -> None:
    code = "vault.update('cafe.md', body='# Cafe\\nPelmeni tonight, beans on poles.\\n')\n"
    if ending == "os._exit":
        code += "os._exit(0)\n"
    if ending != "kill -9":
        other_process(root, code)
    else:
        script = f"import os, sys, time, mdstore\nvault = mdstore.open({str(root)!r})\n{code}"
        script += "print('written', flush=True)\ntime.sleep(600)\n"
        with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    if ending == "exit":  # the exit hook applied the backlog: nothing left to repair
        assert status_elsewhere(root)["search"]["ready"]
    vault = mdstore.open(root)
    try:
        assert vault.search("pelmeni").paths() == ["cafe.md"]
        assert vault.search("soup").total == 0
        assert set(vault.similar("poles", k=2).paths()) == {"cafe.md", "garden/beans.md"}
        assert vault.search_status()["search"]["ready"]
    finally:
        vault.close()


def test_a_held_back_change_never_overwrites_a_newer_write_elsewhere(
    vault: mdstore.Vault, root: Path
) -> None:
    vault.update("cafe.md", body="# Cafe\nAlpha version with soup.\n")  # held back here
    other_process(
        root,
        """
        vault.update('cafe.md', body='# Cafe\\nOmega version, on poles.\\n')
        assert vault.search('omega').paths() == ['cafe.md']
        vault.close()
        """,
    )
    vault.update("garden/beans.md", set={"height": 3})  # a sync that no longer follows the backlog
    assert vault.search("alpha").total == 0
    assert vault.search("omega").paths() == ["cafe.md"]
    assert set(vault.similar("poles", k=2).paths()) == {"cafe.md", "garden/beans.md"}
    assert "cafe.md" not in vault.similar("soup").paths()
    assert vault.search_status()["search"]["ready"]


def test_a_big_write_applies_the_backlog_with_it(
    vault: mdstore.Vault, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer, "DEFER_LIMIT", 2)
    vault.update("cafe.md", body="# Cafe\nWaffles.\n")  # held back
    with vault.batch() as b:  # three notes: more than may be held back
        for i in range(3):
            b.create(f"new/{i}.md", body=f"Waffles number {i}.\n")
    status = status_elsewhere(root)
    assert status["search"]["ready"] and status["related"]["ready"]
    assert status["search"]["notes"] == 6
    assert sorted(vault.search("waffles").paths()) == ["cafe.md", "new/0.md", "new/1.md", "new/2.md"]


def test_searches_elsewhere_during_a_stream_of_writes(vault: mdstore.Vault, root: Path) -> None:
    """Another process searching while this one keeps writing always finds the notes' state of
    some moment (a repair there, the backlog here), and both end in the same place."""
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import mdstore, time
                vault = mdstore.open({str(root)!r})
                end = time.monotonic() + 3
                n = 0
                while time.monotonic() < end:
                    paths = vault.search('bread OR counter').paths()
                    assert set(paths) <= {{'cafe.md'}}, paths
                    n += 1
                vault.close()
                print(n)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for i in range(30):
        vault.update("cafe.md", body=f"# Cafe\nSoup and bread, counter {i}.\n")
        time.sleep(0.05)
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert int(out) > 0
    vault.close()
    assert status_elsewhere(root)["search"]["ready"]
    final = mdstore.open(root)
    try:
        hit = final.search("counter", limit=1).hits[0]
        assert hit.path == "cafe.md"
        assert "29" in (root / "cafe.md").read_text(encoding="utf-8")
        assert final.search("29").paths() == ["cafe.md"]
    finally:
        final.close()


def test_a_writer_that_never_pauses_still_brings_the_search_side_along(
    vault: mdstore.Vault, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer, "FLUSH_MAX_LAG", 0.3)
    start = vault.status()["generation"]
    end = time.monotonic() + 1.5
    i = 0
    while time.monotonic() < end:  # back to back: the timer never gets the owner lock
        vault.update("cafe.md", set={"count": i})
        i += 1
    status = status_elsewhere(root)  # read while the backlog of the last writes may still be held
    assert status["generation"] == start + i
    assert status["search"]["stamp"] > start + 1  # some writes went in along the way
