"""The daemon's side of ``.mdstore/owner.sock``: answers other processes' Vault calls from the
daemon's own Vault (one DuckDB instance, so reads run while the daemon indexes), one thread per
connection. Only the operations it is given (the daemon's
``Watcher._operations``) can be called; see ``wire.py`` for the trust model."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import MdstoreError
from . import wire

log = logging.getLogger("mdstore.watch")

Operation = Callable[..., Any]


class OwnerServer:
    def __init__(
        self,
        path: Path,
        operations: Mapping[str, Operation],
        handle_stream: Callable[[str], tuple[Any, Callable[[], None]]],
    ) -> None:
        self.path = path
        self._operations = dict(operations)
        self._stream = handle_stream
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False

    def start(self) -> None:
        """Bind the socket (replacing a stale one: the caller holds the owner lock) and serve."""
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # created 0600: never a moment where others could connect
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(64)
        self._listener = sock
        self._thread = threading.Thread(target=self._accept_loop, name="mdstore-serve", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, end every connection, remove the socket file."""
        self._closing = True
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.path.unlink(missing_ok=True)

    def _accept_loop(self) -> None:
        listener = self._listener
        while listener is not None and not self._closing:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            if not wire.peer_is_same_user(conn):
                conn.close()
                continue
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="mdstore-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while not self._closing:
                try:
                    request = wire.recv(conn)
                except wire.ConnectionLost:
                    return
                if isinstance(request, tuple) and request and request[0] == "subscribe":
                    self._serve_stream(conn, str(request[1]))
                    return
                wire.send(conn, self._answer(request))
        except wire.ConnectionLost:
            return
        except Exception:  # a reply that cannot be pickled, a bug: drop this client, keep serving
            log.exception("watcher socket connection failed")
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def _answer(self, request: Any) -> Any:
        try:
            if not (isinstance(request, tuple) and len(request) == 4 and request[0] == "call"):
                raise MdstoreError(f"malformed request to the watcher daemon: {type(request).__name__}")
            _, name, args, kwargs = request
            operation = self._operations.get(name) if isinstance(name, str) else None
            if operation is None:
                served = ", ".join(sorted(self._operations))
                raise MdstoreError(
                    f"the watcher daemon does not serve {name!r}: other processes may ask only for {served}"
                )
            return ("ok", operation(*tuple(args), **dict(kwargs)))
        except BaseException as exc:  # sent back and raised in the client
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return wire.encode_error(exc)

    def _serve_stream(self, conn: socket.socket, pattern: str) -> None:
        """A subscription: acknowledge, then send each batch of events as it comes, until the client
        or the daemon closes. A watcher thread notices the client leaving."""
        try:
            batches, stop = self._stream(pattern)
        except MdstoreError as exc:
            wire.send(conn, wire.encode_error(exc))
            return
        wire.send(conn, ("ok", None))

        def watch_peer() -> None:
            try:
                while conn.recv(1):
                    pass
            except OSError:
                pass
            stop()

        threading.Thread(target=watch_peer, name="mdstore-conn-peer", daemon=True).start()
        try:
            for batch in batches:
                for event in batch:
                    wire.send(conn, ("event", event))
        finally:
            stop()
