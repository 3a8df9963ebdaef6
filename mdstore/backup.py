"""Backups: one archive (``.tar.gz``) of a vault's files, its ``mdstore.toml`` and its pending work,
with a manifest of SHA-256 hashes, and the restore that recreates the vault from it.

What goes in: every file of the vault folder (notes, attachments, ``.git`` history, the config)
except ``.mdstore/``, whose indexes are rebuilt from the files; from ``.mdstore/`` only the work
still to do: waiting and dead jobs of the spool queues and pending outbox intents. The manifest
(``MANIFEST.json``, the archive's last member) lists each file with its size and hash, so
``verify`` finds a truncated, edited, added or missing file and names it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import STATE_DIR, in_vault
from .errors import BackupError

MANIFEST = "MANIFEST.json"
FORMAT = 1
# The parts of .mdstore/ that hold work not yet done (everything else there is rebuilt).
_KEPT_STATE = ("queue/*/new/*", "queue/*/delayed/*", "queue/*/dead/*", "outbox/pending/*")


@dataclass(frozen=True)
class BackupReport:
    archive: Path
    files: int
    bytes: int


def backup(root: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None) -> BackupReport:
    """Write an archive of the vault at ``root`` to ``dest`` (a file, or a folder to put it in;
    default: the current folder). The archive appears whole or not at all."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise BackupError(f"no vault folder at {root}")
    target = Path(dest) if dest is not None else Path.cwd()
    if target.is_dir():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = target / f"{root.name}-{stamp}.mdstore.tar.gz"
    target = target.resolve()
    if in_vault(target, root) is not None:
        raise BackupError(f"{target}: write the backup outside the vault (or under {STATE_DIR}/)")
    files: dict[str, dict[str, object]] = {}
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", dir=target.parent)
    os.close(fd)
    try:
        # Level 1: 3-4x faster than gzip's 9 on notes, for archives ~20 % larger.
        with tarfile.open(tmp_name, "w:gz", compresslevel=1) as tar:
            for rel in _members(root):
                path = root / rel
                digest = hashlib.sha256()
                with open(path, "rb") as fh:
                    data = fh.read()
                digest.update(data)
                info = tar.gettarinfo(str(path), arcname=rel)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                files[rel] = {"sha256": digest.hexdigest(), "size": len(data)}
            manifest = {
                "format": FORMAT,
                "vault": root.name,
                "created": dt.datetime.now().isoformat(),
                "files": files,
            }
            raw = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        with open(tmp_name, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except OSError as exc:
        raise BackupError(f"cannot write the backup {target}: {exc}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return BackupReport(target, len(files), sum(int(str(f["size"])) for f in files.values()))


def verify(archive: str | os.PathLike[str]) -> int:
    """Check every file of ``archive`` against its manifest; the number of files, or a
    ``BackupError`` naming the first file that is missing, extra, truncated or changed."""
    archive = Path(archive)
    seen: dict[str, str] = {}
    manifest = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    manifest = json.loads(_read(tar, member))
                elif member.isfile():
                    seen[member.name] = hashlib.sha256(_read(tar, member)).hexdigest()
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        where = f" after {sorted(seen)[-1]}" if seen else ""
        raise BackupError(f"{archive}: damaged or truncated archive{where}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: no {MANIFEST} of format {FORMAT}: not an mdstore backup, or truncated")
    listed = manifest.get("files", {})
    for rel, entry in sorted(listed.items()):
        if rel not in seen:
            raise BackupError(f"{archive}: {rel} is in the manifest but missing from the archive")
        if seen[rel] != entry.get("sha256"):
            raise BackupError(
                f"{archive}: {rel} does not match its SHA-256 in the manifest (edited or damaged)"
            )
    for rel in sorted(set(seen) - set(listed)):
        raise BackupError(f"{archive}: {rel} is in the archive but not in its manifest")
    return len(listed)


def restore(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> int:
    """Recreate the vault of ``archive`` in ``dest`` (a new or empty folder); verified first. The
    number of files restored."""
    dest = Path(dest).resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(
            f"{dest}: restore needs a new or empty folder (it holds files; nothing was written)"
        )
    count = verify(archive)
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=dest))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name != MANIFEST]
            tar.extractall(staging, members=members, filter="data")
        for entry in staging.iterdir():
            os.replace(entry, dest / entry.name)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"cannot restore {archive} into {dest}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _members(root: Path) -> Iterator[str]:
    """Vault-relative paths to archive, sorted."""
    state = root / STATE_DIR
    paths: list[str] = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        if here == root and STATE_DIR in dirs:
            dirs.remove(STATE_DIR)
        dirs.sort()
        for name in names:
            path = here / name
            if path.is_file() and not path.is_symlink():
                paths.append(path.relative_to(root).as_posix())
    for pattern in _KEPT_STATE:
        paths.extend(p.relative_to(root).as_posix() for p in state.glob(pattern) if p.is_file())
    yield from sorted(paths)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(member)
    if fh is None:
        raise ValueError(f"{member.name} cannot be read")
    data = fh.read()
    if len(data) != member.size:
        raise ValueError(f"{member.name} is truncated")
    return data
