"""Path validation: normalisation, attacks refused with InvalidPath, portability, case collisions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mdstore.errors import InvalidPath, NoteNotFound
from mdstore.notes.paths import validate_folder_path, validate_note_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("note", "note.md"),
        ("note.md", "note.md"),
        ("Note.MD", "Note.MD"),
        ("a/b/c", "a/b/c.md"),
        ("./a//b/./c.md", "a/b/c.md"),
        ("v1.2", "v1.2.md"),
        ("Ünïcode 日本 #tag [x]", "Ünïcode 日本 #tag [x].md"),
        (".hidden/n", ".hidden/n.md"),
    ],
)
def test_normalises(tmp_path: Path, given: str, expected: str) -> None:
    assert validate_note_path(tmp_path, given) == expected


def test_extension_options(tmp_path: Path) -> None:
    assert validate_note_path(tmp_path, "x.txt", add_extension=False) == "x.txt"
    assert validate_note_path(tmp_path, "x.txt", extensions=(".md", ".txt")) == "x.txt"
    assert validate_note_path(tmp_path, "x", extensions=(".markdown",)) == "x.markdown"


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/etc/passwd", "absolute"),
        ("\\server\\x", "absolute"),
        ("\\\\server\\share\\x.md", "network"),
        ("C:\\x.md", "drive"),
        ("c:/x.md", "drive"),
        ("c:x.md", "refuse"),
        ("../x", r"'\.\.'"),
        ("a/../../x", r"'\.\.'"),
        ("a\\..\\x", r"'\.\.'"),
        ("a\0b", "NUL"),
        ("a\nb", "control"),
        ("a\x7fb", "control"),
        (".git/config", r"\.git/"),
        ("sub/.git/HEAD", r"\.git/"),
        (".GIT/config", r"\.GIT/"),
        (".mdstore/index.duckdb", r"\.mdstore/"),
        (".obsidian/app.json", r"\.obsidian/"),
        (".trash/n.md", r"\.trash/"),
        ("a:b", "refuse"),
        ("what?", "refuse"),
        ('say "hi"', "refuse"),
        ("a<b>", "refuse"),
        ("a|b", "refuse"),
        ("a*b", "refuse"),
        ("a\\b", "refuse"),
        ("CON", "device"),
        ("nul.md", "device"),
        ("folder/com1.txt", "device"),
        ("Lpt9", "device"),
        ("trailing.", "dot or space"),
        ("folder./n", "dot or space"),
        ("space /n", "dot or space"),
        ("x" * 300, "longer"),
        (".mdstore-tmp.0123456789abcdef.n.md.tmp", "temp"),
        ("/", "absolute"),
        (".", "root"),
    ],
)
def test_refuses_and_writes_nothing(tmp_path: Path, given: str, reason: str) -> None:
    with pytest.raises(InvalidPath, match=reason) as info:
        validate_note_path(tmp_path, given, add_extension=False)
    assert str(info.value).startswith("path ")
    assert list(tmp_path.iterdir()) == []


def test_error_names_the_argument(tmp_path: Path) -> None:
    with pytest.raises(InvalidPath, match="^dst "):
        validate_note_path(tmp_path, "../x", argument="dst")


def test_symlink_escaping_the_vault(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "outside"
    vault.mkdir()
    outside.mkdir()
    (vault / "out").symlink_to(outside)
    (vault / "file.md").symlink_to(outside / "secret.md")
    (vault / "gitlink").symlink_to(".git")
    for given in ("out/x.md", "file.md", "gitlink/config"):
        with pytest.raises(InvalidPath):
            validate_note_path(vault, given, add_extension=False)
    assert list(outside.iterdir()) == []


def test_symlink_inside_the_vault_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    assert validate_note_path(tmp_path, "alias/n") == "alias/n.md"


def test_case_only_collision(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_bytes(b"x")
    (tmp_path / "Folder").mkdir()
    with pytest.raises(InvalidPath, match="only in case"):
        validate_note_path(tmp_path, "Note.md")
    with pytest.raises(InvalidPath, match="only in case"):
        validate_note_path(tmp_path, "folder/new.md")
    assert validate_note_path(tmp_path, "note.md") == "note.md"
    assert validate_note_path(tmp_path, "Folder/new") == "Folder/new.md"


def test_case_collision_sees_unicode_normalisation(tmp_path: Path) -> None:
    (tmp_path / "cafe\u0301.md").write_bytes(b"x")  # decomposed, as macOS writes it
    with pytest.raises(InvalidPath, match="only in case"):
        validate_note_path(tmp_path, "CAF\u00c9.md")


def test_existing_non_portable_names_stay_addressable(tmp_path: Path) -> None:
    (tmp_path / "a:b.md").write_bytes(b"x")
    assert validate_note_path(tmp_path, "a:b.md", must_exist=True) == "a:b.md"


def test_must_exist_and_folders(tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    (tmp_path / "n.md").write_bytes(b"x")
    with pytest.raises(NoteNotFound):
        validate_note_path(tmp_path, "missing", must_exist=True)
    with pytest.raises(InvalidPath, match="folder"):
        validate_note_path(tmp_path, "f", add_extension=False)
    with pytest.raises(InvalidPath, match="is a file"):
        validate_note_path(tmp_path, "n.md/x")
    assert validate_folder_path(tmp_path, "f/", must_exist=True) == "f"
    assert validate_folder_path(tmp_path, "new/sub") == "new/sub"
    with pytest.raises(InvalidPath, match="is a file"):
        validate_folder_path(tmp_path, "n.md")
    with pytest.raises(NoteNotFound):
        validate_folder_path(tmp_path, "nope", must_exist=True)
    with pytest.raises(InvalidPath):
        validate_folder_path(tmp_path, ".git")
    with pytest.raises(InvalidPath, match="root"):
        validate_folder_path(tmp_path, "./")


def test_not_a_string(tmp_path: Path) -> None:
    with pytest.raises(InvalidPath, match="string"):
        validate_note_path(tmp_path, os.fspath(tmp_path).encode())  # type: ignore[arg-type]
