"""Fixtures for the watcher: real vaults in temp folders, real watchdog, real daemon processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import mdstore
from mdstore.watch import Watcher, daemon_status

TIMEOUT = 30.0
# Tests do not need the search engines; the daemon's syncs stay quick on two shared cores.
FAST = {"search": {"engine": "none"}, "index": {"parse_workers": 1}}
FAST_ENV = {"MDSTORE_SEARCH_ENGINE": "none", "MDSTORE_INDEX_PARSE_WORKERS": "1"}


def wait_for(cond: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    """Poll until ``cond()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def note(i: int | str, extra: str = "") -> str:
    return f"---\nn: {i}\ntags: [t{i}]\n---\n# Note {i}\n\nBody {i} links [[n0]]. {extra}\n"


def dump(vault: mdstore.Vault) -> dict[str, list[tuple[object, ...]]]:
    """Every index table, sorted, minus the columns a copy of the files changes (mtime, created)."""
    from mdstore.index.rows import COLUMNS

    skip = {"mtime", "modified", "created"}
    out: dict[str, list[tuple[object, ...]]] = {}
    for table, cols in COLUMNS.items():
        names = [c for c, _ in cols if c not in skip]
        res = vault.sql(f"SELECT {', '.join(names)} FROM {table}")
        out[table] = sorted(res.rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
    return out


def rebuilt_dump(root: Path, scratch: Path) -> dict[str, list[tuple[object, ...]]]:
    """The index a fresh full build of the same files gives (in a copy, so nothing is shared)."""
    copy = scratch / f"rebuild-{time.monotonic_ns()}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".mdstore", ".git"), symlinks=True)
    vault = mdstore.open(copy, **FAST)
    try:
        vault.sync()
        return dump(vault)
    finally:
        vault.close()


def assert_exact(vault: mdstore.Vault, scratch: Path) -> None:
    expected = rebuilt_dump(vault.root, scratch)
    got = dump(vault)
    for table in expected:
        assert got[table] == expected[table], f"table {table} differs from a fresh rebuild"


def indexed(vault: mdstore.Vault) -> set[str]:
    return set(vault.sql("SELECT path FROM notes").column("path"))


@pytest.fixture
def vault_root(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / ".mdstore").mkdir(parents=True)
    return root


@pytest.fixture
def watched(vault_root: Path) -> Iterator[Callable[..., tuple[mdstore.Vault, Watcher]]]:
    """Start an in-process watcher on a vault built from {path: text}; stopped at teardown."""
    started: list[tuple[mdstore.Vault, Watcher]] = []

    def factory(
        files: Mapping[str, str] | None = None, **settings: Mapping[str, Any]
    ) -> tuple[mdstore.Vault, Watcher]:
        for rel, text in (files or {}).items():
            write(vault_root, rel, text)
        merged: dict[str, Any] = {k: dict(v) for k, v in FAST.items()}
        for section, values in settings.items():
            merged.setdefault(section, {}).update(values)
        vault = mdstore.open(vault_root, **merged)
        watcher = Watcher(vault, serve=True).start()
        started.append((vault, watcher))
        return vault, watcher

    yield factory
    for vault, watcher in started:
        watcher.stop()
        vault.close()


class Daemon:
    """``mdstore watch`` in a real process."""

    def __init__(self, root: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        full_env = {**os.environ, **FAST_ENV, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mdstore", "--vault", str(root), "watch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )

    def wait_ready(self, timeout: float = 60) -> Daemon:
        config = mdstore.open(self.root).config

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            st = daemon_status(config)
            return bool(st.get("running") and st.get("ready") and st.get("pid") == self.proc.pid)

        wait_for(ready, timeout, "the daemon to be ready")
        return self

    def stop(self, sig: int = 15, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def daemon(vault_root: Path) -> Iterator[Callable[..., Daemon]]:
    procs: list[Daemon] = []

    def factory(*args: str, env: Mapping[str, str] | None = None, root: Path | None = None) -> Daemon:
        d = Daemon(root or vault_root, *args, env=env)
        procs.append(d)
        return d

    yield factory
    for d in procs:
        d.stop()
        for stream in (d.proc.stdout, d.proc.stderr):
            if stream is not None:
                stream.close()
