"""The git repository a vault lives in: finding it, running git, mapping paths.

The vault may be the repository's top folder or any folder below it; git always runs at the top,
so every path given to git is repository-relative and every path returned is vault-relative.
Commands go through the git binary (``repo.git``), which is several times faster than GitPython's
pure-Python index on large trees. GitPython is imported here, lazily, and nowhere else.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import re
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..config import STATE_DIR
from ..errors import (
    BackendUnavailable,
    ConfigError,
    HistoryError,
    InvalidPath,
    MdstoreError,
    NotAGitRepo,
    RevisionNotFound,
    VaultNotFound,
)

if TYPE_CHECKING:
    import git

# Paths we hand to git are names, not patterns: "a[1].md" or "*.md" must mean that one file.
LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}
_IDENTITY_HINTS = ("tell me who you are", "empty ident name", "unable to auto-detect email")
_RESERVED = (STATE_DIR, ".git")
_LOCK_RETRIES, _LOCK_WAIT = 10, 0.1  # wait up to ~1 s for a busy index.lock


def not_a_repo(root: Path) -> NotAGitRepo:
    return NotAGitRepo(f"vault {root} is not a git repository (run `mdstore init --git` or `git init`)")


class GitRepo:
    """One vault's handle on the git repository that contains it."""

    def __init__(self, vault_root: Path) -> None:
        import git

        self.vault_root = Path(vault_root)
        resolved = self.vault_root.resolve()
        if not resolved.is_dir():
            raise VaultNotFound(f"no vault folder at {vault_root}")
        try:
            repo = git.Repo(resolved, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise not_a_repo(self.vault_root) from exc
        except git.GitCommandNotFound as exc:
            raise BackendUnavailable("git is not installed or not on PATH") from exc
        if repo.bare or repo.working_tree_dir is None:
            repo.close()
            raise not_a_repo(self.vault_root)
        self.top = Path(repo.working_tree_dir).resolve()
        try:
            rel = resolved.relative_to(self.top)
        except ValueError as exc:  # the vault is inside .git/ or reached through an odd symlink
            repo.close()
            raise not_a_repo(self.vault_root) from exc
        self.prefix = "" if str(rel) == "." else rel.as_posix()
        self.repo = repo
        # One lock per repository handle: git's own index.lock makes concurrent commands fail rather
        # than wait, and GitPython's persistent cat-file process serves one request at a time.
        self.lock = threading.RLock()

    def close(self) -> None:
        self.repo.close()

    # -- paths -------------------------------------------------------------------------------

    def to_repo(self, path: str) -> str:
        """The repository path of vault-relative ``path``; ``InvalidPath`` if it is not one."""
        pure = PurePosixPath(path)
        if not path or pure.is_absolute() or ".." in pure.parts or not pure.parts or "\x00" in path:
            raise InvalidPath(f"{path!r} is not a vault-relative path")
        if pure.parts[0] in _RESERVED:
            raise InvalidPath(f"{path!r} is inside {pure.parts[0]}/, which is not part of the notes")
        return posixpath.join(self.prefix, *pure.parts) if self.prefix else "/".join(pure.parts)

    def from_vault(self, path: str) -> str:
        """Like ``to_repo`` without the checks, for paths git gave us (they may start with ``../``)."""
        return posixpath.normpath(posixpath.join(self.prefix, path)) if self.prefix else path

    def to_vault(self, repo_path: str) -> str:
        """Vault-relative form of a repository path (``../x`` when it lies outside the vault)."""
        if not self.prefix:
            return repo_path
        if repo_path.startswith(self.prefix + "/"):
            return repo_path[len(self.prefix) + 1 :]
        return posixpath.relpath(repo_path, self.prefix)

    def in_vault(self, repo_path: str) -> bool:
        rel = self.to_vault(repo_path)
        return not rel.startswith("../") and rel.split("/", 1)[0] not in _RESERVED

    def vault_pathspec(self) -> list[str]:
        """Pathspecs for the whole vault folder minus its state folder (magic, not literal)."""
        state = posixpath.join(self.prefix, STATE_DIR) if self.prefix else STATE_DIR
        include = f":(top,literal){self.prefix}" if self.prefix else ":(top)"
        return [include, f":(top,exclude,literal){state}"]

    # -- running git -------------------------------------------------------------------------

    def run(
        self,
        *args: str,
        literal: bool = False,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        tolerate: str | None = None,
    ) -> bytes:
        """Run ``git ARGS`` at the repository top and return its raw stdout.

        ``literal`` makes pathspecs plain names; ``stdin`` feeds e.g. ``--pathspec-from-file=-``;
        a failure whose message contains ``tolerate`` counts as success (stdout is then lost).
        """
        import git

        full_env = dict(env or {})
        if literal:
            full_env.update(LITERAL)
        istream = None
        if stdin is not None:
            istream = tempfile.TemporaryFile()  # subprocess needs a real file descriptor
            istream.write(stdin)
            istream.seek(0)
        try:
            for attempt in itertools.count():
                if istream is not None:
                    istream.seek(0)
                try:
                    out: bytes = self.repo.git.execute(
                        ["git", *args],
                        istream=istream,
                        env=full_env,
                        stdout_as_string=False,
                        strip_newline_in_stdout=False,
                    )
                    return out
                except git.GitCommandError as exc:
                    stderr = _stderr(exc)
                    if tolerate is not None and tolerate in stderr:
                        return b""
                    # Another git (an editor plugin, the user's shell) holds the index for a moment.
                    if "index.lock" in stderr and attempt < _LOCK_RETRIES:
                        time.sleep(_LOCK_WAIT)
                        continue
                    raise self.failure(args[0], stderr) from exc
        except git.GitCommandNotFound as exc:
            raise BackendUnavailable("git is not installed or not on PATH") from exc
        finally:
            if istream is not None:
                istream.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def probe(self, *args: str, literal: bool = False) -> tuple[int, bytes]:
        """Run a git command whose failure is an answer (``rev-parse --verify``): (status, stdout)."""
        result: Any = self.repo.git.execute(
            ["git", *args],
            env=LITERAL if literal else {},
            with_exceptions=False,
            with_extended_output=True,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
        status, out, _err = result
        return int(status), out

    def failure(self, command: str, stderr: str) -> MdstoreError:
        if any(hint in stderr for hint in _IDENTITY_HINTS):
            return ConfigError(
                "git does not know who is committing: set git.author_name and git.author_email in "
                "mdstore.toml, or run `git config user.name NAME` and `git config user.email EMAIL`"
            )
        return HistoryError(f"git {command} failed in {self.top}: {_one_line(stderr)}")

    # -- objects -----------------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit HEAD points to, or ``None`` before the first commit."""
        from git.refs.symbolic import SymbolicReference

        try:
            return SymbolicReference.dereference_recursive(self.repo, "HEAD")
        except (ValueError, OSError):
            status, out = self.probe("rev-parse", "--verify", "--quiet", "HEAD")
            return out.decode("ascii").strip() if status == 0 else None

    def resolve(self, rev: str) -> str:
        """The full hash of the commit ``rev`` names; ``RevisionNotFound`` naming ``rev`` if none."""
        if not rev or rev.startswith("-") or any(c in rev for c in "\n\x00"):
            raise RevisionNotFound(f"{rev!r} is not a revision")
        status, out = self.probe("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if status != 0:
            raise RevisionNotFound(f"unknown revision {rev!r}: no such commit, branch or tag in {self.top}")
        return out.decode("ascii").strip()

    def blob(self, commit: str, repo_path: str) -> bytes | None:
        """The bytes of ``repo_path`` in ``commit``, or ``None`` if it holds no such file."""
        # --filters: the bytes a checkout would write (eol / .gitattributes conversions applied).
        status, out = self.probe("cat-file", "--filters", f"{commit}:{repo_path}")
        return out if status == 0 else None

    def object_data(self, sha: str) -> bytes:
        """Bytes of one object through git's persistent ``cat-file --batch`` (no process per call)."""
        with self.lock:
            return self.repo.git.get_object_data(sha)[3]


def _stderr(exc: git.GitCommandError) -> str:
    # GitPython wraps stderr as "\n  stderr: '...'"; keep what git said.
    text = str(exc.stderr or "")
    match = re.search(r"stderr: '(.*)'\s*$", text, re.S)
    return (match.group(1) if match else text).strip()


def _one_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    chosen = (errors or lines or ["(no message)"])[0]
    return re.sub(r"^(fatal|error): ", "", chosen)


def fsencode_paths(paths: list[str]) -> bytes:
    """NUL-separated paths for ``--pathspec-from-file=- --pathspec-file-nul``."""
    return b"\x00".join(os.fsencode(p) for p in paths)
