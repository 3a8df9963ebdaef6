"""Fixtures for the memory layer: a fresh vault with memory settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mdstore


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[mdstore.Vault]:
    root = tmp_path / "vault"
    root.mkdir()
    v = mdstore.open(root, memory={"flush_seconds": 0.2})
    yield v
    v.close()
