"""Team fixtures: a team database with the schema and a space, and clones of one shared vault."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import mdstore
from mdstore.pg import apply_migrations, connect
from mdstore.team.schema import COMPONENT, MIGRATIONS

SPACE = "research"
Clone = Callable[..., mdstore.Vault]


@pytest.fixture
def team_url(pg_url: str) -> str:
    """A database holding the team schema and the space ``research`` (administrator's URL)."""
    with connect(pg_url) as conn:
        apply_migrations(conn, COMPONENT, MIGRATIONS)
        conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (SPACE,))
        conn.commit()
    return pg_url


@pytest.fixture
def durable(pg_cluster, team_url: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """For tests that crash the server: what was committed so far is on disk, and later commits
    are durable (the test cluster runs with synchronous_commit=off for speed, which lets a crash
    lose commits a client was told about; a real server's default is on). The server is running
    again afterwards."""
    import psycopg

    dbname = team_url.split("/")[3].split("?")[0]
    pg_cluster.sql(f'ALTER DATABASE "{dbname}" SET synchronous_commit = on')
    pg_cluster.sql("CHECKPOINT")
    yield
    try:
        psycopg.connect(pg_cluster.url(), connect_timeout=2).close()
    except psycopg.OperationalError:
        pg_cluster.start()


@pytest.fixture
def clone(tmp_path: Path, team_url: str) -> Iterator[Clone]:
    """``clone("a")``: a vault folder sharing the space (opened, search off to keep tests light)."""
    opened: list[mdstore.Vault] = []

    def make(name: str, url: str | None = None, **team: object) -> mdstore.Vault:
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        vault = mdstore.open(
            root, team={"url": url or team_url, "space": SPACE, **team}, search={"engine": "none"}
        )
        opened.append(vault)
        return vault

    yield make
    for vault in opened:
        vault.close()


def write(vault: mdstore.Vault, rel: str, text: str | bytes) -> None:
    path = vault.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def read(vault: mdstore.Vault, rel: str) -> str:
    return (vault.root / rel).read_text(encoding="utf-8")


def tree(vault: mdstore.Vault) -> dict[str, bytes]:
    """Every shared file of the clone: {path: bytes} (state folders and trash excluded)."""
    out = {}
    for path in sorted(vault.root.rglob("*")):
        rel = path.relative_to(vault.root).as_posix()
        hidden = any(part.startswith(".") for part in rel.split("/"))  # never shared (editors' temps)
        if path.is_file() and not hidden and rel != "mdstore.toml":
            out[rel] = path.read_bytes()
    return out
