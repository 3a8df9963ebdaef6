"""A note that is not UTF-8 text (UTF-16/32, binary, a NUL byte, Latin-1, stray bytes) is never
rewritten: every edit refuses it with one NoteParseError naming the file, and a move leaves its
links as they are and reports it."""

from __future__ import annotations

import pytest

from mdstore.errors import NoteParseError
from tests.conftest import cli_run

NOT_TEXT = {
    "utf16.md": "---\ntags: [win]\n---\n# Notepad note\nHello\n".encode("utf-16"),
    "utf16be.md": "\ufeff# Notepad note\n".encode("utf-16-be"),
    "utf32.md": "# Note\n".encode("utf-32"),
    "binary.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "nul.md": b"---\na: 1\n---\ntext\x00more\n",
    "latin1.md": "Caf\xe9 latin1\n".encode("latin-1"),
    "stray.md": "---\na: 1\n---\ncaf\xe9 ".encode() + b"\xe9\n",
}


@pytest.mark.parametrize("name", sorted(NOT_TEXT))
def test_no_edit_rewrites_a_note_that_is_not_utf8_text(make_vault, name):
    v = make_vault(NOT_TEXT)
    edits = {
        "set": lambda: v.update(name, set={"who": "Zo\xeb"}),
        "unset": lambda: v.update(name, unset=["a"]),
        "body": lambda: v.update(name, body="new body\n"),
        "append": lambda: v.append(name, "more"),
        "append under": lambda: v.append(name, "more", under_heading="Log"),
    }
    for what, edit in edits.items():
        with pytest.raises(NoteParseError, match=f"^{name}: is not UTF-8 text"):
            edit()
        assert (v.root / name).read_bytes() == NOT_TEXT[name], what
    with pytest.raises(NoteParseError, match=name):
        with v.batch() as b:
            b.create("new.md", body="new")
            b.update(name, set={"k": 1})
    assert not (v.root / "new.md").exists()


def test_a_template_that_is_not_utf8_text_is_refused(make_vault):
    v = make_vault({"templates/t.md": "# {{title}} caf\xe9\n".encode("latin-1")})
    with pytest.raises(NoteParseError, match="^templates/t.md: is not UTF-8 text"):
        v.create("new.md", template="t", variables={"who": "Zo\xeb"})
    assert not (v.root / "new.md").exists()


def test_cli_set_refuses_with_exit_7(make_vault):
    v = make_vault(NOT_TEXT)
    for name in ("utf16.md", "latin1.md", "binary.md"):
        result = cli_run("set", name, "who=Zo\xeb", vault=v.root)
        assert result.exit_code == 7, result.output
        assert f"{name}: is not UTF-8 text" in result.output and "Traceback" not in result.output
        assert "Updated" not in result.output
        assert (v.root / name).read_bytes() == NOT_TEXT[name]
    result = cli_run("append", "nul.md", "more", vault=v.root)
    assert result.exit_code == 7 and (v.root / "nul.md").read_bytes() == NOT_TEXT["nul.md"]


def test_a_move_leaves_links_in_a_note_that_is_not_utf8_text_and_reports_it(make_vault):
    latin = "[[target]] caf\xe9\n".encode("latin-1")
    moved = "[up](../root.md) caf\xe9\n".encode("latin-1")
    v = make_vault({
        "target.md": "# T\n",
        "latin.md": latin,
        "nul.md": b"[[target]] " + b"x" * 9000 + b"\x00\n",  # parsed: the NUL is past the sniff
        "utf8.md": "[[target]] caf\xe9\n",
        "proj/a.md": moved,
        "root.md": "root\n",
    })
    v.sync()
    report = v.move("target.md", "archive/renamed.md")
    assert report.rewritten == ("utf8.md",)
    assert report.skipped == ("latin.md", "nul.md")
    assert (v.root / "latin.md").read_bytes() == latin
    assert (v.root / "utf8.md").read_text() == "[[renamed]] caf\xe9\n"
    assert (v.root / "archive/renamed.md").read_text() == "# T\n"
    result = cli_run("mv", "proj", "deep/er/proj", "--json", vault=v.root)
    assert result.exit_code == 0 and '"skipped": ["deep/er/proj/a.md"]' in result.output
    assert (v.root / "deep/er/proj/a.md").read_bytes() == moved
