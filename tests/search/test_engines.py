"""Choosing an engine: names, the missing-tantivy message, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mdstore.errors import ConfigError
from mdstore.search import SearchBackend, open_backend


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_engines_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(open_backend("whoosh", tmp_path / "w"), SearchBackend)
    pytest.importorskip("tantivy")
    assert isinstance(open_backend("tantivy", tmp_path / "t"), SearchBackend)


def test_unknown_engine_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'lucene'.*whoosh, tantivy"):
        open_backend("lucene", tmp_path)


def test_missing_tantivy_says_how_to_install(tmp_path: Path) -> None:
    # None in sys.modules makes "import tantivy" fail as if it were not installed
    result = run_python(
        "import sys; sys.modules['tantivy'] = None\n"
        "from mdstore.errors import BackendUnavailable\n"
        "from mdstore.search import open_backend\n"
        "try:\n"
        f"    open_backend('tantivy', {str(tmp_path)!r})\n"
        "except BackendUnavailable as exc:\n"
        "    print(exc)\n"
    )
    assert "pip install 'mdstore[tantivy]'" in result.stdout, result.stderr


def test_importing_search_loads_no_engine() -> None:
    result = run_python(
        "import sys, mdstore.search\n"
        "print(sorted(m for m in ('whoosh', 'tantivy', 'sklearn', 'numpy', 'scipy') if m in sys.modules))"
    )
    assert result.stdout.strip() == "[]", result.stderr
