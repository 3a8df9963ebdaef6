"""Reading the index's schema version: only "there is no meta table" means "not our schema"; any
other failure (a lock, an I/O error) is raised instead of forcing a full rebuild."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from mdstore.index.schema import stored_version


def test_a_database_without_meta_is_not_ours(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    assert stored_version(con) is None
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('schema_version', 'not a number')")
    assert stored_version(con) is None
    con.execute("UPDATE meta SET value = '7'")
    assert stored_version(con) == 7


def test_a_failing_connection_is_an_error_not_a_foreign_schema(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.close()
    with pytest.raises(duckdb.Error):
        stored_version(con)
