"""Shared fixtures: real vaults in temp folders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import mdstore

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
DENDRON = CORPORA / "dendron-site"

VaultFactory = Callable[[Mapping[str, str | bytes]], mdstore.Vault]


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))


@pytest.fixture
def make_vault(tmp_path: Path) -> VaultFactory:
    """Build a vault folder from {relative path: content} and open it (not yet synced)."""
    opened: list[mdstore.Vault] = []

    def factory(files: Mapping[str, str | bytes], **settings: Mapping[str, object]) -> mdstore.Vault:
        root = tmp_path / "vault"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        vault = mdstore.open(root, **settings)
        opened.append(vault)
        return vault

    yield factory  # type: ignore[misc]
    for vault in opened:
        vault.close()


def dump_index(vault: mdstore.Vault) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows in a stable order, minus bookkeeping, for comparing two indexes."""
    from mdstore.index.rows import COLUMNS

    out: dict[str, list[tuple[object, ...]]] = {}
    for table, cols in COLUMNS.items():
        names = [c for c, _ in cols]
        res = vault.sql(f"SELECT {', '.join(names)} FROM {table}")
        out[table] = sorted(res.rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
    return out


def cli_run(
    *args: object,
    vault: Path | str | None = None,
    code: int | None = None,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
):  # type: ignore[no-untyped-def]
    """One ``mdstore`` command in this process (click's ``Result``: ``exit_code``, ``stdout``,
    ``stderr``, ``output``). ``vault`` adds ``--vault``; ``code`` checks the exit code. An exception
    that escapes the CLI fails the test (no ``catch_exceptions``), and no output holds a traceback."""
    from click.testing import CliRunner

    from mdstore.cli import cli

    argv = (["--vault", str(vault)] if vault is not None else []) + [str(a) for a in args]
    result = CliRunner().invoke(
        cli, argv, input=stdin, env=dict(env) if env else None, catch_exceptions=False
    )
    if code is not None:
        assert result.exit_code == code, result.output + result.stderr
    assert "Traceback (most recent call last)" not in result.output + result.stderr
    return result


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def load_helper(relative: str):  # type: ignore[no-untyped-def]
    """A helper module of the tests, by path (tests run with --import-mode=importlib)."""
    import importlib.util

    path = Path(__file__).parent / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server for the whole test session (never skipped)."""
    cluster = load_helper("pgcluster.py").PgCluster()
    yield cluster
    cluster.close()


@pytest.fixture
def pg_url(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """A URL to a fresh, empty database on the session's PostgreSQL server."""
    return str(pg_cluster.url(pg_cluster.create_database()))


@pytest.fixture(scope="session")
def team_rows():  # type: ignore[no-untyped-def]
    """tests/pg/teamrows.py: a team database with member roles, loaded with parsed notes."""
    return load_helper("pg/teamrows.py")


def modules_loaded_by_cli(vault: Path | None, *args: str) -> set[str]:
    """The modules a fresh interpreter has loaded after ``mdstore [--vault VAULT] ARGS`` ran in it
    (the command's output is discarded; it must succeed)."""
    prefix = [] if vault is None else ["--vault", str(vault)]
    code = (
        "import sys, io, contextlib\n"
        "from mdstore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main([*{prefix!r}, *{list(args)!r}])\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "print('\\n'.join(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())
