"""The Vault write API on real temp vaults: effects checked through the files and the index."""

from __future__ import annotations

import os

import pytest

from mdstore.errors import InvalidPath, NoteNotFound, ValidationError, WriteConflict
from mdstore.notes.model import content_hash

FILES = {
    "a.md": "---\ntitle: A  # kept\nstatus: draft\n---\nBody of [[b]].\n",
    "b.md": "# B\n\nLinks back to [[a]].\n",
    "templates/daily.md": "---\ntags: [daily]\n---\n# {{title}}\nby {{who}} on {{date}}\n",
}


@pytest.fixture
def vault(make_vault):
    v = make_vault(FILES)
    v.sync()
    return v


def test_update_changes_only_the_key_and_is_indexed(vault):
    note = vault.update("a.md", set={"status": "done", "priority": 2})
    assert (vault.root / "a.md").read_text() == (
        "---\ntitle: A  # kept\nstatus: done\npriority: 2\n---\nBody of [[b]].\n"
    )
    assert note.frontmatter["priority"] == 2
    assert vault.find("status = done").column("path") == ["a.md"]


def test_update_without_change_writes_nothing(vault):
    before = os.stat(vault.root / "a.md")
    vault.update("a.md", set={"status": "draft"}, unset=["missing"])
    after = os.stat(vault.root / "a.md")
    assert (before.st_mtime_ns, before.st_ino) == (after.st_mtime_ns, after.st_ino)


def test_unset_and_body(vault):
    vault.update("a", unset=["status"], body="New body.\n")
    assert (vault.root / "a.md").read_text() == "---\ntitle: A  # kept\n---\nNew body.\n"


def test_if_hash_conflict_keeps_both_versions(vault):
    note = vault.get("a.md")
    (vault.root / "a.md").write_text(note.body + "edited in an editor\n")
    with pytest.raises(WriteConflict, match="a.md"):
        vault.update("a.md", set={"x": 1}, if_hash=note.hash)
    assert (vault.root / "a.md").read_text().endswith("edited in an editor\n")
    vault.update("a.md", set={"x": 1}, if_hash=content_hash((vault.root / "a.md").read_bytes()))
    assert "x: 1" in (vault.root / "a.md").read_text()


def test_create_never_overwrites(vault):
    note = vault.create("notes/new", {"status": "new"}, "Hello\n")
    assert note.path == "notes/new.md"
    assert (vault.root / "notes/new.md").read_text() == "---\nstatus: new\n---\nHello\n"
    with pytest.raises(WriteConflict, match="new.md"):
        vault.create("notes/new.md", body="other")
    assert vault.find("status = new").column("path") == ["notes/new.md"]


def test_create_from_template(vault):
    vault.create("daily/2026-01-02", {"mood": "ok"}, "extra\n", template="daily", variables={"who": "Ann"})
    text = (vault.root / "daily/2026-01-02.md").read_text()
    assert text.startswith("---\ntags: [daily]\nmood: ok\n---\n# 2026-01-02\nby Ann on ")
    assert text.endswith("extra\n")
    with pytest.raises(NoteNotFound, match="template"):
        vault.create("x", template="nope")


def test_append_under_heading(vault):
    vault.append("b.md", "- one", under_heading="Log")
    vault.append("b.md", "- two", under_heading="Log")
    assert (vault.root / "b.md").read_text() == "# B\n\nLinks back to [[a]].\n## Log\n- one\n- two\n"


def test_delete_to_trash_and_permanent(vault):
    vault.delete("b.md")
    assert (vault.root / ".trash/b.md").exists() and not (vault.root / "b.md").exists()
    assert vault.find().column("path") == ["a.md", "templates/daily.md"]
    vault.delete("a.md", permanent=True)
    assert not (vault.root / "a.md").exists() and not (vault.root / ".trash/a.md").exists()
    with pytest.raises(NoteNotFound):
        vault.delete("a.md")


@pytest.mark.parametrize(
    "bad",
    ["../x.md", "/etc/passwd", ".git/config", ".mdstore/index.duckdb", "a\x00b.md", "we:ird.md", "x/../../y.md",
     "CON.md", "link/escape.md"],
)
def test_path_attacks_write_nothing(vault, tmp_path, bad):
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    os.symlink(outside, vault.root / "link", target_is_directory=True) if not (vault.root / "link").exists() else None
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if ".mdstore" not in p.parts)
    for call in (
        lambda: vault.create(bad, body="x"),
        lambda: vault.update(bad, set={"a": 1}),
        lambda: vault.move("a.md", bad),
    ):
        with pytest.raises(InvalidPath):
            call()
    after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if ".mdstore" not in p.parts)
    assert before == after


def test_case_only_collision_refused(vault):
    with pytest.raises(InvalidPath, match="case"):
        vault.create("A.md", body="x")


def test_batch_is_all_or_nothing(vault):
    with pytest.raises(WriteConflict):
        with vault.batch() as b:
            b.update("a.md", set={"status": "done"})
            b.create("c.md", body="c")
            b.create("b.md", body="exists")
    assert "status: draft" in (vault.root / "a.md").read_text()
    assert not (vault.root / "c.md").exists()
    with vault.batch() as b:
        b.update("a.md", set={"status": "done"})
        b.update("a.md", set={"n": 1})  # two edits of one note: one write
        b.create("c.md", body="c")
        b.delete("b.md")
    assert vault.find("status = done", "n = 1").column("path") == ["a.md"]
    assert sorted(vault.find().column("path")) == ["a.md", "c.md", "templates/daily.md"]


@pytest.mark.parametrize(
    ("first", "second"),
    [("X.md", "x.md"), ("Inbox/Note.md", "inbox/note.md"), ("Inbox/Note.md", "INBOX/other.md")],
)
def test_a_batch_refuses_two_names_that_differ_only_in_case(vault, first, second):
    with pytest.raises(InvalidPath, match="differs only in case"):
        with vault.batch() as b:
            b.create("c.md", body="c")
            b.create(first, body="1")
            b.create(second, body="2")
    with pytest.raises(InvalidPath, match="differs only in case"):
        with vault.batch() as b:
            b.move("b.md", first)
            b.write_bytes(second, b"2")
    names = sorted(p.name for p in vault.root.iterdir() if p.name != ".mdstore")
    assert names == ["a.md", "b.md", "templates"]
    with vault.batch() as b:  # the same name twice is not a case clash
        b.create("Inbox/One.md", body="1")
        b.create("Inbox/Two.md", body="2")
    assert sorted(p.name for p in (vault.root / "Inbox").iterdir()) == ["One.md", "Two.md"]


def test_cli_batch_refuses_two_names_that_differ_only_in_case(vault):
    from tests.conftest import cli_run

    lines = '{"op": "create", "path": "Inbox/Note.md"}\n{"op": "create", "path": "inbox/note.md"}\n'
    result = cli_run("batch", vault=vault.root, stdin=lines)
    assert result.exit_code == InvalidPath.exit_code and "differs only in case" in result.output
    assert not (vault.root / "Inbox").exists() and not (vault.root / "inbox").exists()


def _age(folder, seconds=60):
    """Make ``folder`` look unchanged for a while (a listing of a fresh folder is never reused)."""
    past = os.stat(folder).st_mtime - seconds
    os.utime(folder, (past, past))


def test_a_batch_sees_a_case_clash_created_in_a_folder_meanwhile(vault):
    # The batch's path checks share each folder's listing while the folder is unchanged.
    (vault.root / "f").mkdir()
    (vault.root / "f/one.md").write_text("one")
    _age(vault.root / "f")
    with pytest.raises(InvalidPath, match="only in case"):
        with vault.batch() as b:
            b.write_bytes("f/two.md", b"two")
            b.write_bytes("f/three.md", b"three")
            (vault.root / "f/note.md").write_text("saved in an editor meanwhile")
            b.write_bytes("f/Note.md", b"clash")
    assert sorted(p.name for p in (vault.root / "f").iterdir()) == ["note.md", "one.md"]


def test_a_batch_sees_a_folder_replaced_by_a_symlink_meanwhile(vault, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (vault.root / "f").mkdir()
    _age(vault.root / "f")
    with pytest.raises(InvalidPath, match="outside the vault"):
        with vault.batch() as b:
            b.write_bytes("f/two.md", b"two")
            (vault.root / "f").rmdir()
            (vault.root / "f").symlink_to(outside)
            b.write_bytes("f/three.md", b"three")
    assert list(outside.iterdir()) == []


def test_exception_in_batch_block_discards(vault):
    with pytest.raises(RuntimeError):
        with vault.batch() as b:
            b.create("c.md", body="c")
            raise RuntimeError("boom")
    assert not (vault.root / "c.md").exists()


def test_bad_values_raise_validation_error(vault):
    with pytest.raises(ValidationError):
        vault.update("a.md", set={"x": object()})


def test_recover_runs_before_first_write(make_vault):
    from mdstore.notes.journal import JOURNAL_DIR

    v = make_vault({"a.md": "a\n"})
    v.sync()
    # An interrupted batch without a plan: its temp file must go, nothing else changes.
    folder = v.root / ".mdstore" / JOURNAL_DIR / "00000000000000000001-dead"
    folder.mkdir(parents=True)
    (v.root / ".mdstore-tmp.0.a.md.tmp").write_text("half")
    (folder / "intent.json").write_text('{"temps": [".mdstore-tmp.0.a.md.tmp"]}')
    v.update("a.md", set={"k": 1})
    assert not folder.exists() and not (v.root / ".mdstore-tmp.0.a.md.tmp").exists()


def test_case_collision_sees_names_added_and_removed_since_the_last_write(vault):
    # The folded names of a folder are remembered between writes; a name another program added
    # or removed since must count (and a removed one must stop counting).
    vault.create("big/n0.md", body="x")
    (vault.root / "big" / "Other.md").write_text("by hand\n")
    with pytest.raises(InvalidPath, match="'Other.md'"):
        vault.create("big/other.md", body="x")
    (vault.root / "big" / "Other.md").unlink()
    vault.create("big/other.md", body="x")
    with pytest.raises(InvalidPath, match="case"):
        vault.create("big/OTHER.md", body="x")
    for n in range(1, 40):
        vault.create(f"big/n{n}.md", body="x")
    with pytest.raises(InvalidPath, match="case"):
        vault.create("big/N39.md", body="x")


@pytest.mark.parametrize(
    "text",
    [
        "---\nMeeting notes\n---\nAnn owns the deploy\n",  # a block that is not YAML
        "---\nowner: ops\n---\nDeploys happen on Fridays\n",  # a block that is YAML
        "+++\nx = 1\n+++\nafter\n",
        '{\n  "a": 1\n}\n',
        "---\nnever closed\n",
    ],
)
def test_a_body_that_looks_like_frontmatter_stays_the_body(vault, text):
    assert vault.create("fm1.md", body=text).body == text
    note = vault.create("fm2.md", {"status": "new"}, text)
    assert note.body == text and note.frontmatter == {"status": "new"}
    vault.update("b.md", body=text)
    assert vault.get("b.md").body == text and vault.get("b.md").frontmatter == {}
    vault.create("empty.md")
    vault.append("empty.md", text)
    assert vault.get("empty.md").body == text and vault.get("empty.md").frontmatter == {}
    vault.update("fm1.md", set={"k": 1})  # the empty block that keeps it body takes the key
    assert vault.get("fm1.md").body == text and vault.get("fm1.md").frontmatter == {"k": 1}
    vault.update("fm1.md", unset=["k"])  # and stays, empty, when the key goes
    assert vault.get("fm1.md").body == text and vault.get("fm1.md").frontmatter == {}


def test_a_file_that_is_not_a_note_is_named_as_such(vault):
    (vault.root / "diagram.png").write_bytes(b"PNG")
    for call in (
        lambda: vault.delete("diagram.png"),
        lambda: vault.update("diagram.png", set={"a": 1}),
        lambda: vault.move("diagram.png", "d.png"),
        lambda: vault.get("diagram.png"),
    ):
        with pytest.raises(NoteNotFound, match=r"'diagram.png' is a file but not a note"):
            call()
    assert (vault.root / "diagram.png").read_bytes() == b"PNG"
    with pytest.raises(NoteNotFound, match=r"no note 'nothere.md'"):
        vault.delete("nothere")
