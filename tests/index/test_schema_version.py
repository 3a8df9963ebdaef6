"""Reading the index's schema version: only "there is no meta table" means "not our schema"; any
other failure (a lock, an I/O error) is raised instead of forcing a full rebuild."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import mdstore
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


def _broken(vault_root: Path) -> list[str]:
    with mdstore.open(vault_root, search={"engine": "none", "related": False}) as vault:
        return sorted(r["target"] for r in vault.broken_links())


def test_a_changed_parse_setting_rebuilds_the_index(tmp_path: Path) -> None:
    """link_style, max_note_bytes and extensions change what the same files give: the index records
    the ones it was built with, and the next sync (CLI ``index``, or any read) rebuilds it."""
    from tests.conftest import cli_run, write_files

    root = tmp_path / "vault"
    write_files(
        root,
        {
            "a.md": "# A\nDendron order: [[The B note|b]]\n",
            "b.md": "# B\n",
            "c.markdown": "# C\n",
            "big.md": "---\nstatus: big\n---\n" + "word " * 100,
        },
    )
    cli_run("index", vault=root, code=0)
    assert _broken(root) == ["The B note"]
    (root / "mdstore.toml").write_text('[vault]\nlink_style = "dendron"\n')
    out = cli_run("index", vault=root, code=0)
    assert '"added": 3' in out.stdout  # rebuilt: every note read again
    assert _broken(root) == []
    # A read is enough: opening the vault brings the index to the rules.
    (root / "mdstore.toml").write_text('[vault]\nlink_style = "dendron"\nextensions = [".md", ".markdown"]\n')
    with mdstore.open(root, search={"engine": "none", "related": False}) as vault:
        assert "c.markdown" in vault.find().paths()
        assert vault.sql("SELECT path FROM attachments").paths() == []
        assert vault.find("status = big").paths() == ["big.md"]
    (root / "mdstore.toml").write_text('[vault]\nlink_style = "dendron"\nmax_note_bytes = 100\n')
    with mdstore.open(root, search={"engine": "none", "related": False}) as vault:
        assert vault.find("status = big").paths() == []  # now too large: indexed by path only
        assert [r["kind"] for r in vault.check() if r["path"] == "big.md"] == ["too-large"]
        assert vault.sql("SELECT path FROM notes WHERE path = 'c.markdown'").paths() == []
    # Settings that do not change what a file gives leave the index alone.
    settings = '[vault]\nlink_style = "dendron"\nmax_note_bytes = 100\n[index]\nbusy_timeout = 5\n'
    (root / "mdstore.toml").write_text(settings)
    out = cli_run("index", vault=root, code=0)
    assert '"added": 0' in out.stdout
