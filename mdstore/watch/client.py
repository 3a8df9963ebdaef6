"""How a process finds the running watcher daemon of its vault (the index owner) and talks to it.

``owner_client(config)`` runs before every index read, so it is cheap: no socket file → None at
once (a stat); otherwise the answer of a real probe (holder of the owner lock is a live watcher, the
socket accepts a connection) is kept for ``PROBE_TTL`` seconds. A call whose connection breaks (the
daemon stopped or restarted) probes again and retries once on the new daemon, or runs in this
process when none is left: every served method is a read or an idempotent sync, so a retry is safe.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import BackendUnavailable
from . import wire
from .wire import SOCKET_NAME

Facade = Callable[[Config], Any]  # a vault class: Config -> a vault with a ``_core``

PROBE_TTL = 1.0
CONNECT_TIMEOUT = 2.0

# socket path -> (expires, socket file identity, client or None)
_cache: dict[Path, tuple[float, tuple[int, int], OwnerClient | None]] = {}
_cache_lock = threading.Lock()


def _close_all() -> None:
    with _cache_lock:
        clients = [entry[2] for entry in _cache.values() if entry[2] is not None]
        _cache.clear()
    for client in clients:
        client.close()


atexit.register(_close_all)


def owner_client(config: Config, facade: Facade | None = None) -> OwnerClient | None:
    """A client of the daemon that owns this vault's index, or None when no daemon runs
    (then the caller reads the index files directly). ``facade`` makes the vault a call runs on
    in this process when the daemon is gone (the caller's own kind: this module never imports it)."""
    path = config.state_dir / SOCKET_NAME
    try:
        st = path.lstat()
    except OSError:
        return None
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        _refuse_other_user(config, path, st.st_uid)
    # A daemon that starts binds a new socket file: a cached "none" for the old one is void.
    ident = (st.st_ino, st.st_mtime_ns)
    now = time.monotonic()
    cached = _cache.get(path)
    if cached is not None and cached[0] > now and cached[1] == ident:
        return cached[2]
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] > now and cached[1] == ident:
            return cached[2]
        client = cached[2] if cached is not None and cached[2] is not None else OwnerClient(config, facade)
        found = client if client.probe() else None
        if found is None:
            client.close()
        _cache[path] = (time.monotonic() + PROBE_TTL, ident, found)
        return found


def _refuse_other_user(config: Config, path: Path, uid: int) -> None:
    """A live watcher of another user owns the index: its socket refuses us, and the index file is
    locked by it, so say so now rather than after ``busy_timeout``. A dead one's socket is stale."""
    from ..index.lock import OwnerLock
    from .ownership import ROLE, holder_alive

    holder = OwnerLock(config.state_dir).holder()
    if not holder or not holder.endswith(f"({ROLE})") or not holder_alive(holder):
        return
    try:
        import pwd

        user = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        user = f"uid {uid}"
    raise BackendUnavailable(
        f"the watcher of this vault ({holder}) runs as user {user}: its socket {path} belongs to that "
        "user and the index is locked by it; run mdstore as that user, or stop that watcher"
    )


def forget(config: Config) -> None:
    """Drop the cached probe (after a connection broke, or when a daemon stopped in this process)."""
    with _cache_lock:
        cached = _cache.pop(config.state_dir / SOCKET_NAME, None)
    if cached is not None and cached[2] is not None:
        cached[2].close()


class OwnerClient:
    """Calls Vault methods in the daemon. Thread-safe: each call borrows an idle connection."""

    def __init__(self, config: Config, facade: Facade | None = None) -> None:
        self._facade = facade
        self.config = config
        self.path = config.state_dir / SOCKET_NAME
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()
        self._local: Any = None

    def probe(self) -> bool:
        """Whether a live watcher daemon answers on the socket."""
        from ..index.lock import OwnerLock
        from .ownership import ROLE, holder_alive

        holder = OwnerLock(self.config.state_dir).holder()
        if not holder or not holder.endswith(f"({ROLE})") or not holder_alive(holder):
            return False
        try:
            sock = self._connect()
        except OSError:
            return False
        self._put(sock)
        return True

    def call(self, name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        """``Vault.<name>(*args, **kwargs)`` in the daemon; its MdstoreError is raised here as the same
        class. Without a daemon any more, in this process."""
        request = ("call", name, tuple(args), dict(kwargs or {}))
        for attempt in range(2):
            try:
                sock = self._take()
            except OSError:
                break
            try:
                wire.send(sock, request)
                reply = wire.recv(sock)
            except wire.ConnectionLost:
                sock.close()
                self._drop_idle()
                if attempt == 0 and self.probe():
                    continue
                break
            self._put(sock)
            if reply[0] == "ok":
                return reply[1]
            raise wire.decode_error(reply[1], reply[2])
        forget(self.config)
        return self._direct(name, args, kwargs or {})

    def subscribe(self, callback: Callable[[Any], None], pattern: str) -> Any:
        """Stream the daemon's change events matching ``pattern`` to ``callback`` on a thread."""
        from .subscriptions import Subscription

        try:
            sock = self._connect()
        except OSError as exc:
            raise BackendUnavailable(f"no watcher daemon answers on {self.path}: {exc}") from exc
        sock.settimeout(None)
        wire.send(sock, ("subscribe", pattern))
        reply = wire.recv(sock)
        if reply[0] != "ok":
            sock.close()
            raise wire.decode_error(reply[1], reply[2])

        def read() -> None:
            import logging

            while True:
                try:
                    message = wire.recv(sock)
                except wire.ConnectionLost:
                    return
                if message[0] == "event":
                    try:
                        callback(message[1])
                    except Exception:
                        logging.getLogger("mdstore.watch").exception("subscriber callback failed")

        def stop() -> None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

        thread = threading.Thread(target=read, name="mdstore-subscription", daemon=True)
        thread.start()
        return Subscription(stop, thread)

    def close(self) -> None:
        self._drop_idle()

    # -- internals -------------------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(str(self.path))
            sock.settimeout(None)  # a call may legitimately wait for a long sync
            if not wire.peer_is_same_user(sock):
                raise ConnectionRefusedError(f"{self.path} is served by another user; refused")
        except BaseException:
            sock.close()
            raise
        return sock

    def _take(self) -> socket.socket:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _put(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < 8:
                self._idle.append(sock)
                return
        sock.close()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()

    def _direct(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The call in this process, on a Vault that never forwards (the daemon is gone)."""
        with self._lock:
            if self._local is None:
                if self._facade is None:
                    from ..errors import BackendUnavailable

                    raise BackendUnavailable(f"the watcher daemon of {self.config.root} is gone")
                local = self._facade(self.config)
                local._core.become_owner()
                self._local = local
            vault = self._local
        method = getattr(vault, name, None)
        if method is None:
            from ..errors import MdstoreError

            raise MdstoreError(f"this version of mdstore has no Vault.{name}()")
        return method(*args, **kwargs)
