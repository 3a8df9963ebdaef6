"""The daemon's socket protocol: length-prefixed pickled frames over ``.mdstore/owner.sock``.

Trust model: pickle runs code when it loads, so both ends accept only a peer of the same user
(the socket file is 0600 in the vault's state folder, and each side checks the other's uid with
``SO_PEERCRED``). Anyone who can connect could already run code as that user.

Frames: 4-byte big-endian length, then a pickle. Requests are ``("call", name, args, kwargs)`` or
``("subscribe", pattern)``; replies are ``("ok", value)``, ``("error", class_name, message)`` or, on a
subscription, ``("event", ChangeEvent)`` frames until either side closes.
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
from typing import Any

from ..errors import ALL_ERRORS, MdstoreError
from .ownership import SOCKET_NAME as SOCKET_NAME  # where it is written (cheap to import)

_HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30  # a result larger than 1 GiB is a bug, not a query


class ConnectionLost(Exception):
    """The other end closed the socket or the connection broke (not an MdstoreError: callers retry)."""


def send(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        sock.sendall(_HEADER.pack(len(data)) + data)
    except OSError as exc:
        raise ConnectionLost(str(exc)) from exc


def recv(sock: socket.socket) -> Any:
    header = _recv_exact(sock, _HEADER.size)
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ConnectionLost(f"frame of {size} bytes refused")
    return pickle.loads(_recv_exact(sock, size))


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        try:
            chunk = sock.recv(min(size - len(buf), 1 << 20))
        except OSError as exc:
            raise ConnectionLost(str(exc)) from exc
        if not chunk:
            raise ConnectionLost("connection closed")
        buf += chunk
    return bytes(buf)


def peer_is_same_user(sock: socket.socket) -> bool:
    """Whether the process at the other end runs as our user (Linux ``SO_PEERCRED``; elsewhere the
    0600 socket file is the only guard)."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:  # pragma: no cover - not Linux
        return True
    creds = sock.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.geteuid()


def encode_error(exc: BaseException) -> tuple[str, str, str]:
    """An exception as a reply: the client raises the same MdstoreError class with the same text."""
    if isinstance(exc, MdstoreError):
        return ("error", type(exc).__name__, str(exc))
    return ("error", "MdstoreError", f"the watcher daemon failed: {type(exc).__name__}: {exc}")


def decode_error(name: str, message: str) -> MdstoreError:
    cls = _error_classes().get(name, MdstoreError)
    return cls(message)


def _error_classes() -> dict[str, type[MdstoreError]]:
    # Every MdstoreError subclass loaded in this process, not only those listed in errors.py.
    found: dict[str, type[MdstoreError]] = {cls.__name__: cls for cls in ALL_ERRORS}
    stack = list(MdstoreError.__subclasses__())
    while stack:
        cls = stack.pop()
        found.setdefault(cls.__name__, cls)
        stack += cls.__subclasses__()
    return found
