"""Every bad input of the vault-core issue: one clear message naming the file or argument, the rest
of the vault still indexed, nothing lost."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import mdstore
from tests.conftest import is_root

GOOD = "---\nstatus: ok\n---\n# Good\n[[Other]]\n"


def issues_by_path(report) -> dict[str, str]:
    return {i.path: i.message for i in report.errors}


def synced(make_vault, files):
    vault = make_vault({"good.md": GOOD, **files})
    report = vault.sync()
    assert "good.md" in vault.find().paths()
    return vault, report


def test_invalid_yaml_keeps_body_links_and_tags(make_vault):
    vault, report = synced(make_vault, {"bad.md": "---\ntitle: [unclosed\n---\n# Bad\n[[good]] #kept\n"})
    assert "bad.md" in issues_by_path(report)
    row = vault.sql("SELECT error FROM notes WHERE path = 'bad.md'").first()
    assert row["error"] and "frontmatter" in row["error"].lower() or "yaml" in row["error"].lower()
    assert vault.find("#kept").paths() == ["bad.md"]
    assert [r["resolved"] for r in vault.outlinks("bad.md")] == ["good.md"]
    assert vault.check().to_dicts()


def test_unclosed_frontmatter(make_vault):
    vault, report = synced(make_vault, {"open.md": "---\ntitle: x\nno end here\n#tag\n"})
    assert "never closed" in issues_by_path(report)["open.md"]
    assert "open.md" in vault.find().paths()


def test_a_key_written_twice_is_read_and_reported(make_vault):
    text = "---\nstatus: draft\ntitle: T\nstatus: done\nmerge: {<<: {a: 1}}\n---\nbody\n"
    vault, report = synced(make_vault, {"twice.md": text})
    assert "'status' is written twice (again at line 4)" in issues_by_path(report)["twice.md"]
    assert vault.find("status = done").paths() == ["twice.md"]  # the last value counts, as before
    assert ("twice.md", "frontmatter") in [(r["path"], r["kind"]) for r in vault.check().to_dicts()]
    with pytest.raises(mdstore.NoteParseError, match="status"):
        vault.update("twice.md", set={"title": "U"})  # writes refuse the block until it is mended
    assert (vault.root / "twice.md").read_text() == text


@pytest.mark.parametrize("block", ["- a\n- b\n", "just a string\n", "42\n"])
def test_frontmatter_that_is_not_a_mapping(make_vault, block):
    vault, report = synced(make_vault, {"list.md": f"---\n{block}---\nbody\n"})
    assert "mapping" in issues_by_path(report)["list.md"]
    assert vault.get("list.md").frontmatter == {}


def test_bom_crlf_and_no_final_newline(make_vault):
    text = "\ufeff---\r\nstatus: crlf\r\n---\r\n# Title\r\n- [ ] task\r\n[[good]]"
    vault, report = synced(make_vault, {"crlf.md": text.encode("utf-8")})
    assert report.errors == ()
    assert vault.find("status = crlf").paths() == ["crlf.md"]
    assert vault.tasks(path="crlf.md").first()["line"] == 5
    assert vault.get("crlf.md").title == "Title"


def test_non_utf8_bytes(make_vault):
    data = "---\nstatus: x\ntitle: Déjà vu\n---\nCafé crème #t\n".encode("latin-1")
    vault, report = synced(make_vault, {"latin.md": data})
    assert "UTF-8" in issues_by_path(report)["latin.md"]
    assert vault.find("status = x").paths() == ["latin.md"]
    # Read as Windows-1252: the words are whole, so search and queries find them.
    assert vault.find("title = 'Déjà vu'").paths() == ["latin.md"]
    assert "latin.md" in [hit.path for hit in vault.search("Café").hits]
    assert vault.sql("SELECT path FROM notes WHERE body LIKE '%Café crème%'").paths() == ["latin.md"]
    # check reports it; the file is left as it is.
    found = [r for r in vault.check() if r["path"] == "latin.md"]
    assert [(r["kind"], r["message"]) for r in found] == [
        ("encoding", "not valid UTF-8 (first bad byte at offset 22); read as Windows-1252")
    ]
    assert (vault.root / "latin.md").read_bytes() == data


def test_binary_file_named_md(make_vault):
    vault, report = synced(make_vault, {"img.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(range(256))})
    assert "binary" in issues_by_path(report)["img.md"]
    assert "img.md" in vault.find().paths()


def test_empty_file(make_vault):
    vault, report = synced(make_vault, {"empty.md": ""})
    assert "empty.md" not in issues_by_path(report)
    assert vault.get("empty.md").title == "empty"


def test_twenty_megabyte_note(make_vault):
    big = "---\nstatus: big\n---\n" + ("word " * 4_200_000)
    vault, report = synced(make_vault, {"big.md": big})
    assert "limit" in issues_by_path(report)["big.md"]
    assert "big.md" in vault.find().paths()


def test_unicode_and_spaces_in_paths(make_vault):
    vault, report = synced(
        make_vault, {"Ünïcödé folder/naïve note 日本.md": "# Naïve\n[[good]]\n", "links.md": "[[naïve note 日本]]"}
    )
    assert report.errors == ()
    assert vault.outlinks("links.md").first()["resolved"] == "Ünïcödé folder/naïve note 日本.md"


def test_case_only_rename(make_vault):
    vault, _ = synced(make_vault, {"note.md": "# n\n"})
    os.rename(vault.root / "note.md", vault.root / "Note.md")
    report = vault.sync()
    assert report.moved == (("note.md", "Note.md"),)
    assert sorted(vault.find().paths()) == ["Note.md", "good.md"]


def test_file_replaced_by_folder_of_same_name(make_vault):
    vault, _ = synced(make_vault, {"thing.md": "# thing\n"})
    os.remove(vault.root / "thing.md")
    (vault.root / "thing.md").mkdir()
    (vault.root / "thing.md" / "inner.md").write_text("# inner\n")
    report = vault.sync()
    assert "thing.md" in report.deleted
    assert "thing.md/inner.md" in report.added


def test_symlink_loop_and_symlink_outside(make_vault, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# secret\n")
    vault = make_vault({"good.md": GOOD})
    os.symlink(vault.root / "loop", vault.root / "loop")
    os.symlink(outside, vault.root / "escape")
    os.symlink(outside / "secret.md", vault.root / "secret-link.md")
    report = vault.sync()
    issues = issues_by_path(report)
    assert "loop" in issues["loop"]
    assert "outside" in issues["escape"] and "outside" in issues["secret-link.md"]
    assert vault.find().paths() == ["good.md"]


NOBODY_SCRIPT = """
import json, os, sys
# Load every module first (`import mdstore` loads its modules lazily): the interpreter's own files may not be readable by `nobody`.
import mdstore, mdstore.vault, mdstore.index.sync, mdstore.index.query, mdstore.notes.parse, mdstore.notes.links
import duckdb, pyarrow, pathspec, yaml, markdown_it, datetime, decimal, encodings.idna
os.setgid(65534); os.setuid(65534)
# Search engines load lazily from files `nobody` may not read: this test is about the core index.
index = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
rebuild = bool(index.pop("rebuild", False))
vault = mdstore.open(sys.argv[1], search={"engine": "none", "related": False}, index=index)
try:
    report = vault.sync(rebuild=rebuild)
    print(json.dumps({"ok": True, "deleted": list(report.deleted),
                      "errors": {i.path: i.message for i in report.errors},
                      "paths": vault.find().paths(),
                      "check": [[r["path"], r["kind"], r["message"]] for r in vault.check()],
                      "status_errors": vault.status()["errors"]}))
except mdstore.MdstoreError as exc:
    print(json.dumps({"ok": False, "error": str(exc), "type": type(exc).__name__}))
"""


def run_unprivileged(root: Path, **index: object) -> dict:
    """Root reads everything, so permission tests drop to `nobody` in a child process. ``index``:
    the ``[index]`` settings, and ``rebuild=True`` for ``sync(rebuild=True)``."""
    script = NOBODY_SCRIPT if is_root() else NOBODY_SCRIPT.replace("os.setgid(65534); os.setuid(65534)", "")
    cmd = [sys.executable, "-c", script, str(root), json.dumps(index)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def shared_vault():
    """A vault in a world-accessible temp folder (so a `nobody` child process can use it)."""
    base = Path(tempfile.mkdtemp(prefix="mdstore-perm-"))
    os.chmod(base, 0o777)
    root = base / "vault"
    root.mkdir()
    yield root
    for folder, dirs, _ in os.walk(base):
        for d in dirs:
            os.chmod(os.path.join(folder, d), 0o777)
    import shutil

    shutil.rmtree(base, ignore_errors=True)


def _open_up(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o777)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o666)


def test_unreadable_note_is_kept_and_reported(shared_vault):
    (shared_vault / "good.md").write_text(GOOD)
    (shared_vault / "private.md").write_text("---\nstatus: secret\n---\n# Private\n")
    _open_up(shared_vault)
    first = run_unprivileged(shared_vault)
    assert sorted(first["paths"]) == ["good.md", "private.md"]
    os.chmod(shared_vault / "private.md", 0o000)
    st = (shared_vault / "private.md").stat()
    os.utime(shared_vault / "private.md", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    second = run_unprivileged(shared_vault)
    assert second["ok"], second
    assert "private.md" in second["paths"], "an unreadable note must keep its rows"
    assert "private.md" in second["errors"] and "cannot read" in second["errors"]["private.md"]
    assert second["deleted"] == []
    os.chmod(shared_vault / "private.md", 0o666)


def _unreadable_issues(result: dict) -> list[list[str]]:
    return [row for row in result["check"] if row[1] == "unreadable"]


STREAMED = {"build_chunk": 2, "parse_workers": 2, "parallel_threshold": 2}


@pytest.mark.parametrize("index", [{}, {"rebuild": True}, {"rebuild": True, **STREAMED}])
def test_an_unreadable_note_is_in_check_and_status_until_it_can_be_read(shared_vault, index):
    """Never indexed, then readable again without a new mtime (a chmod), then unreadable with its
    rows kept, then deleted: check lists it (kind ``unreadable``) and status counts it exactly while
    it cannot be read; the first sync is an incremental one, a rebuild or a streamed cold build."""
    (shared_vault / "good.md").write_text(GOOD)
    (shared_vault / "other.md").write_text("# Other\n")
    (shared_vault / "secret.md").write_text("---\nstatus: secret\n---\n# Secret\n")
    _open_up(shared_vault)
    os.chmod(shared_vault / "secret.md", 0o000)
    first = run_unprivileged(shared_vault, **index)
    assert first["ok"], first
    assert "cannot read" in first["errors"]["secret.md"]
    assert _unreadable_issues(first) == [["secret.md", "unreadable", "cannot read: Permission denied"]]
    assert first["status_errors"] == 1
    assert sorted(first["paths"]) == ["good.md", "other.md"]
    again = run_unprivileged(shared_vault)  # nothing changed: still unreadable, still listed
    assert _unreadable_issues(again) == _unreadable_issues(first) and again["status_errors"] == 1
    os.chmod(shared_vault / "secret.md", 0o666)  # the stat's mtime and size stay the same
    readable = run_unprivileged(shared_vault)
    assert "secret.md" in readable["paths"] and readable["errors"] == {}
    assert _unreadable_issues(readable) == [] and readable["status_errors"] == 0
    os.chmod(shared_vault / "secret.md", 0o000)
    st = (shared_vault / "secret.md").stat()
    os.utime(shared_vault / "secret.md", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    locked = run_unprivileged(shared_vault)
    assert "secret.md" in locked["paths"]  # its rows are kept
    assert _unreadable_issues(locked) == _unreadable_issues(first) and locked["status_errors"] == 1
    os.remove(shared_vault / "secret.md")
    gone = run_unprivileged(shared_vault)
    assert sorted(gone["paths"]) == ["good.md", "other.md"] and gone["deleted"] == ["secret.md"]
    assert _unreadable_issues(gone) == [] and gone["status_errors"] == 0


def test_unreadable_folder_keeps_its_notes(shared_vault):
    (shared_vault / "good.md").write_text(GOOD)
    (shared_vault / "locked").mkdir()
    (shared_vault / "locked" / "inner.md").write_text("# inner\n")
    _open_up(shared_vault)
    assert "locked/inner.md" in run_unprivileged(shared_vault)["paths"]
    os.chmod(shared_vault / "locked", 0o000)
    second = run_unprivileged(shared_vault)
    assert "locked/inner.md" in second["paths"]
    assert second["deleted"] == []
    problems = [row for row in second["check"] if row[1] != "broken-link"]
    assert [row[:2] for row in problems] == [["locked/", "unreadable"]]
    assert second["status_errors"] == 1  # status counts the problems check lists
    os.chmod(shared_vault / "locked", 0o777)


def test_unreadable_vault_root_aborts_and_leaves_index(shared_vault):
    (shared_vault / "good.md").write_text(GOOD)
    _open_up(shared_vault)
    assert run_unprivileged(shared_vault)["paths"] == ["good.md"]
    os.chmod(shared_vault, 0o333)  # can enter and write .mdstore/, cannot list
    try:
        result = run_unprivileged(shared_vault)
    finally:
        os.chmod(shared_vault, 0o777)
    assert not result["ok"]
    assert "cannot read the vault folder" in result["error"]
    vault = mdstore.open(shared_vault)
    assert vault.sql("SELECT path FROM notes").paths() == ["good.md"]
    vault.close()


@pytest.mark.parametrize(
    "expr, fragment",
    [
        ("priority => 2", "unknown operator"),
        ("priority ~ 2", "unknown operator"),
        ("due < 2026-13-45", "malformed date"),
        ("due <", "no value"),
        ("priority", "no operator"),
        ("#", "malformed tag"),
        ("due between 2026-01-01", "between"),
    ],
)
def test_malformed_find_filters(make_vault, expr, fragment):
    vault, _ = synced(make_vault, {})
    with pytest.raises(mdstore.QueryError, match=fragment):
        vault.find(expr)


@pytest.mark.parametrize(
    "where, fragment",
    [
        ({"p": ("between", (1,))}, "'between' takes two values"),
        ({"p": ("between", 1)}, "'between' takes two values"),
        ({"s": ("in", "active")}, "'in' takes a list"),  # not the letters of "active"
        ({"s": ("not in", [])}, "'not in' takes a list"),
        ({"s": ("~", "x")}, "unknown operator"),
    ],
)
def test_malformed_where_values_are_query_errors(make_vault, where, fragment):
    vault, _ = synced(make_vault, {"a.md": "---\np: 2\ns: active\n---\n"})
    with pytest.raises(mdstore.QueryError, match=fragment):
        vault.find(where=where)
    assert vault.find(where={"s": ("in", ["active"]), "p": ("between", [1, 3])}).paths() == ["a.md"]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM notes",
        "DROP TABLE notes",
        "INSERT INTO tags VALUES ('x', 'y')",
        "UPDATE notes SET title = 'x'",
        "COPY notes TO '/tmp/out.csv'",
        "ATTACH '/tmp/other.db' AS o",
        "CREATE TABLE t (x INT)",
        "SELECT 1; DELETE FROM notes",
        "PRAGMA enable_checkpoint_on_shutdown",
    ],
)
def test_sql_write_statements_are_refused(make_vault, statement):
    vault, _ = synced(make_vault, {})
    with pytest.raises(mdstore.QueryError):
        vault.sql(statement)
    assert vault.find().paths() == ["good.md"]


def test_sql_syntax_error_is_a_query_error(make_vault):
    vault, _ = synced(make_vault, {})
    with pytest.raises(mdstore.QueryError):
        vault.sql("SELEC path FROM notes")
    with pytest.raises(mdstore.QueryError):
        vault.sql("SELECT nope FROM notes")


def test_values_are_parameters_not_sql(make_vault):
    vault, _ = synced(make_vault, {"x.md": "---\nstatus: \"a'; DROP TABLE notes; --\"\n---\n"})
    assert vault.find("status = \"a'; DROP TABLE notes; --\"").paths() == ["x.md"]
    assert len(vault.find()) == 2


def test_paths_escaping_the_vault_are_refused(make_vault):
    vault, _ = synced(make_vault, {})
    for bad in ("../etc/passwd", "/etc/passwd", "a/../../x", "bad\x00name"):
        with pytest.raises(mdstore.InvalidPath):
            vault.get(bad)
    with pytest.raises(mdstore.NoteNotFound):
        vault.get("missing.md")


ZONED_OUT_OF_RANGE = {
    "early.md": "---\nstart: 0001-01-01T00:00:00+05:00\n---\n# Early\n",
    "late.md": "---\nend: 9999-12-31T23:59:00-05:00\n---\n# Late\n",
    "inline.md": "# Inline\nwhen:: 0001-01-01T00:00+05:00\n",
}


@pytest.mark.parametrize("index", [{}, {"build_chunk": 2, "parse_workers": 2, "parallel_threshold": 2}])
def test_a_zoned_time_outside_python_years_is_kept_as_text(make_vault, index) -> None:
    """Its UTC time would be in year 0 or 10000: the note is indexed, the value stays its text (as an
    impossible date does), on the cold build (one batch or streamed) and the incremental path."""
    vault = make_vault({"good.md": GOOD, **ZONED_OUT_OF_RANGE}, index=index)
    report = vault.sync()
    assert report.errors == ()
    assert sorted(vault.find().paths()) == ["early.md", "good.md", "inline.md", "late.md"]
    rows = vault.sql("SELECT path, key, type, v_text, v_time FROM properties WHERE key <> 'status'")
    assert sorted(rows.rows) == [
        ("early.md", "start", "text", "0001-01-01T00:00:00+05:00", None),
        ("inline.md", "when", "text", "0001-01-01T00:00:00+05:00", None),
        ("late.md", "end", "text", "9999-12-31T23:59:00-05:00", None),
    ]
    assert vault.find("start = '0001-01-01T00:00:00+05:00'").paths() == ["early.md"]
    # The incremental path, through the API: written, then indexed.
    zone = dt.timezone(dt.timedelta(hours=5))
    vault.update("good.md", set={"minw": dt.datetime(1, 1, 1, tzinfo=zone)})
    assert vault.find("minw exists").paths() == ["good.md"]
    assert vault.sql("SELECT type FROM properties WHERE key = 'minw'").first() == {"type": "text"}
    (vault.root / "more.md").write_text("---\nstart: 9999-12-31T23:59:00-05:00\n---\n")
    assert vault.sync().added == ("more.md",)
