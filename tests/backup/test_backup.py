"""``mdstore backup`` / ``backup --verify`` / ``restore``: real vaults, real archives, damaged ones."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from mdstore.backup import backup, restore, verify
from mdstore.errors import BackupError
from mdstore.queue import SpoolQueue
from tests.conftest import cli_run


def make_vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / "People").mkdir(parents=True)
    (root / "mdstore.toml").write_text("[queue]\nfsync = false\n")
    (root / "a.md").write_text("---\ntitle: A\n---\n# A\nsee [[b]]\n")
    (root / "People" / "b.md").write_text("# B ünïcode\n")
    (root / "img.png").write_bytes(bytes(range(256)) * 10)
    (root / ".mdstore" / "index").mkdir(parents=True)
    (root / ".mdstore" / "index" / "index.duckdb").write_bytes(b"not archived")
    queue = SpoolQueue(root / ".mdstore" / "queue", fsync=False)
    queue.enqueue("commit", {"message": "pending"}, key="p")
    queue.close()
    return root


def run(*args: str, code: int = 0) -> str:
    return cli_run(*args, code=code).output


def test_backup_verify_restore_round_trip(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    report = json.loads(run("--vault", str(root), "backup", str(out), "--json"))
    archive = Path(report["archive"])
    assert archive.parent == out and report["files"] == 5
    assert json.loads(run("backup", "--verify", str(archive), "--json")) == {
        "archive": str(archive),
        "files": 5,
        "ok": True,
    }
    restored = tmp_path / "restored"
    run("restore-backup", str(archive), str(restored))
    for rel in ("mdstore.toml", "a.md", "People/b.md", "img.png"):
        assert (restored / rel).read_bytes() == (root / rel).read_bytes()
    assert not (restored / ".mdstore" / "index").exists()  # rebuilt, not archived
    queue = SpoolQueue(restored / ".mdstore" / "queue", fsync=False)
    (job,) = queue.jobs()
    assert job.payload == {"message": "pending"} and job.kind == "commit"
    queue.close()
    # The restored vault works: it indexes.
    assert "a.md" in run("--vault", str(restored), "index") + run("--vault", str(restored), "find", "--json")


def test_restore_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    archive = backup(make_vault(tmp_path), tmp_path / "v.tar.gz").archive
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine.md").write_text("keep me")
    out = run("restore-backup", str(archive), str(target), code=20)
    assert str(target) in out and "empty" in out
    assert [p.name for p in target.iterdir()] == ["mine.md"] and (target / "mine.md").read_text() == "keep me"


def test_truncated_archive_is_named(tmp_path: Path) -> None:
    archive = backup(make_vault(tmp_path), tmp_path / "v.tar.gz").archive
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    out = run("backup", "--verify", str(archive), code=20)
    assert str(archive) in out and ("truncated" in out or "damaged" in out)
    with pytest.raises(BackupError):
        restore(archive, tmp_path / "never")
    assert not (tmp_path / "never").exists() or not any((tmp_path / "never").iterdir())


def rewrite(archive: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Rebuild ``archive`` with ``change(name, data) -> data | None`` applied to each member."""
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar if m.isfile()]  # type: ignore[union-attr]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for member, data in members:
            new = change(member.name, data)
            if new is not None:
                member.size = len(new)
                tar.addfile(member, io.BytesIO(new))
    archive.write_bytes(gzip.compress(buf.getvalue()))


def test_edited_missing_or_extra_files_are_named(tmp_path: Path) -> None:
    archive = backup(make_vault(tmp_path), tmp_path / "v.tar.gz").archive
    original = archive.read_bytes()
    rewrite(archive, lambda name, data: data.replace(b"B", b"C") if name == "People/b.md" else data)
    assert "People/b.md" in run("backup", "--verify", str(archive), code=20)
    archive.write_bytes(original)
    rewrite(archive, lambda name, data: None if name == "a.md" else data)
    assert "a.md" in run("backup", "--verify", str(archive), code=20)
    archive.write_bytes(original)
    assert verify(archive) == 5


def test_backup_inside_the_vault_is_refused(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    out = run("--vault", str(root), "backup", str(root / "b.tar.gz"), code=20)
    assert "outside the vault" in out and not (root / "b.tar.gz").exists()
