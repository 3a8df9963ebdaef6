"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a temp folder, start it on a
free port (a Unix socket, plus TCP on 127.0.0.1 where passwords are required), stop it at the end.

The server binaries come from ``pg_config --bindir``. initdb and postgres refuse to run as root, so
as root they run as the ``postgres`` user, with the folders owned by it. Never skipped: a machine
without the binaries fails the tests that need them, loudly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def _bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise RuntimeError("PostgreSQL server binaries not found: pg_config is not on PATH")
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout
    return Path(out.strip())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One PostgreSQL server. ``url(dbname, user)`` gives a libpq URI through the socket (trust
    auth); ``tcp_url`` one through TCP (password auth). ``stop(immediate=True)`` simulates a crash."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="mdstore-pg-"))
        self.data = self.base / "data"
        self.sockdir = self.base / "sock"
        self.sockdir.mkdir()
        self.port = _free_port()
        self.superuser = "postgres"
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chmod(self.base, 0o755)
            for path in (self.base, self.sockdir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            os.chmod(self.sockdir, 0o777)
        self._run(
            "initdb", "-D", str(self.data), "-U", self.superuser, "-E", "UTF8", "--locale=C.UTF-8",
            "--auth-local=trust", "--auth-host=scram-sha-256",
        )
        self.start()

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=self.base)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "log"), "-w", "start")

    def stop(self, *, immediate: bool = False) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate" if immediate else "fast", "-w", "stop")

    def restart(self, *, immediate: bool = False) -> None:
        self.stop(immediate=immediate)
        self.start()

    def url(self, dbname: str = "postgres", user: str | None = None) -> str:
        return f"postgresql://{user or self.superuser}@/{dbname}?host={self.sockdir}&port={self.port}"

    def tcp_url(self, dbname: str, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement.encode())

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its name."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self.sql(f'CREATE DATABASE "{name}"')
        return name

    def create_role(self, name: str, password: str | None = None) -> None:
        self.sql(f'CREATE ROLE "{name}" LOGIN' + (f" PASSWORD '{password}'" if password else ""))

    def close(self) -> None:
        try:
            self.stop(immediate=True)
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)
