"""Atomic writes: content, permissions, folders, temp-file hygiene, exclusive creation."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mdstore.errors import NoteNotFound, NoteParseError, WriteConflict
from mdstore.notes.fileio import (
    atomic_write,
    create_exclusive,
    is_temp_name,
    read_note_bytes,
    temp_name_for,
)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "n.md"
    atomic_write(target, b"one")
    assert target.read_bytes() == b"one"
    atomic_write(target, b"two\r\nlines")
    assert target.read_bytes() == b"two\r\nlines"
    assert names(tmp_path) == ["n.md"]


def test_atomic_write_keeps_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "n.md"
    target.write_bytes(b"x")
    os.chmod(target, 0o600)
    atomic_write(target, b"y")
    assert target.stat().st_mode & 0o7777 == 0o600


def test_atomic_write_creates_missing_folders(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a" / "b" / "n.md", b"x")
    assert (tmp_path / "a/b/n.md").read_bytes() == b"x"


def test_atomic_write_writes_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_bytes(b"old")
    (tmp_path / "link.md").symlink_to("real.md")
    atomic_write(tmp_path / "link.md", b"new")
    assert (tmp_path / "link.md").is_symlink()
    assert (tmp_path / "real.md").read_bytes() == b"new"


def test_failed_write_removes_temp_and_keeps_original(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(OSError):
        atomic_write(tmp_path / "folder.md", b"x")
    assert names(tmp_path) == ["folder.md"]
    (tmp_path / "n.md").write_bytes(b"keep")
    with pytest.raises(TypeError):
        atomic_write(tmp_path / "n.md", "not bytes")  # type: ignore[arg-type]
    assert (tmp_path / "n.md").read_bytes() == b"keep"
    assert names(tmp_path) == ["folder.md", "n.md"]


def test_temp_names_are_recognisable() -> None:
    name = temp_name_for("Some note.md")
    assert is_temp_name(name)
    assert "Some note.md" in name
    assert len(temp_name_for("x" * 250 + ".md").encode()) < 255
    assert not is_temp_name("note.md")
    assert not is_temp_name(".mdstore-tmp.note.md")


def test_create_exclusive_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "n.md"
    create_exclusive(target, b"first")
    with pytest.raises(WriteConflict, match="n.md"):
        create_exclusive(target, b"second")
    assert target.read_bytes() == b"first"
    assert names(tmp_path) == ["n.md"]


def test_create_exclusive_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "n.md").symlink_to("nowhere.md")
    with pytest.raises(WriteConflict):
        create_exclusive(tmp_path / "n.md", b"x")
    assert not (tmp_path / "nowhere.md").exists()


def test_racing_creators_exactly_one_wins(tmp_path: Path) -> None:
    for round_ in range(10):
        target = tmp_path / f"n{round_}.md"
        wins: list[bytes] = []
        losses: list[bytes] = []
        barrier = threading.Barrier(4)

        def create(
            data: bytes,
            target: Path = target,
            wins: list[bytes] = wins,
            losses: list[bytes] = losses,
            barrier: threading.Barrier = barrier,
        ) -> None:
            barrier.wait()
            try:
                create_exclusive(target, data)
                wins.append(data)
            except WriteConflict:
                losses.append(data)

        threads = [threading.Thread(target=create, args=(bytes([65 + i]) * 1000,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(wins) == 1 and len(losses) == 3
        assert target.read_bytes() == wins[0]
    assert not [p for p in tmp_path.iterdir() if is_temp_name(p.name)]


def test_read_note_bytes(tmp_path: Path) -> None:
    (tmp_path / "n.md").write_bytes(b"12345")
    assert read_note_bytes(tmp_path / "n.md", 5) == b"12345"
    with pytest.raises(NoteParseError, match="limit"):
        read_note_bytes(tmp_path / "n.md", 4)
    with pytest.raises(NoteNotFound, match="missing.md"):
        read_note_bytes(tmp_path / "missing.md", 10)


def test_sync_file_system_flushes_or_names_the_path(tmp_path: Path) -> None:
    from mdstore.notes.fileio import can_sync_file_system, sync_file_system

    if not can_sync_file_system():
        with pytest.raises(OSError, match="syncfs"):
            sync_file_system(tmp_path)
        return
    sync_file_system(tmp_path)  # a folder on the file system: flushes, returns nothing
    with pytest.raises(FileNotFoundError) as info:
        sync_file_system(tmp_path / "missing")
    assert str(tmp_path / "missing") in str(info.value)


def test_file_hash_is_the_content_hash_of_the_bytes(tmp_path: Path) -> None:
    from mdstore.notes.model import content_hash, file_hash

    for name, data in [("empty", b""), ("bad-utf8.md", b"\xff\xfe x"), ("big", b"0123456789" * 300_000)]:
        (tmp_path / name).write_bytes(data)
        assert file_hash(str(tmp_path / name)) == content_hash(data)
    with pytest.raises(FileNotFoundError):
        file_hash(str(tmp_path / "missing"))
    with pytest.raises(IsADirectoryError):
        file_hash(str(tmp_path))
