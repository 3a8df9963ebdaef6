"""The public surface: one sorted __all__, every name importable, heavy engines loaded lazily."""

from __future__ import annotations

import subprocess
import sys

import mdstore
from mdstore.errors import ALL_ERRORS, MdstoreError


def test_all_is_sorted_and_complete():
    assert mdstore.__all__ == sorted(mdstore.__all__)
    for name in mdstore.__all__:
        assert hasattr(mdstore, name), name


def test_every_error_is_exported_with_a_distinct_exit_code():
    codes = [cls.exit_code for cls in ALL_ERRORS]
    assert len(codes) == len(set(codes))
    for cls in ALL_ERRORS:
        assert issubclass(cls, MdstoreError)
        assert getattr(mdstore, cls.__name__) is cls


def test_import_does_not_load_engines():
    code = (
        "import sys, mdstore, mdstore.cli; "
        "heavy = [m for m in ('duckdb', 'pyarrow', 'pandas', 'whoosh', 'sklearn', 'git', 'tantivy', 'psycopg', "
        "'watchdog', 'markdown_it', 'ruamel') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
