"""A connection that comes back: one autocommit connection shared by a process's threads, reopened
after the server restarts or the network drops.

A statement that fails because the connection broke is retried on a new connection until
``reconnect_seconds`` have passed, then ``BackendUnavailable`` says so. A server that was never
reached is reported at once (a wrong URL should not look like a hang). Its outcome may be unknown
(the server may have committed it before the connection broke), so what runs through ``call`` must be
safe to repeat: the queue's statements are (ids are deterministic, claims are fenced).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import BackendUnavailable
from .connect import CONNECT_TIMEOUT, connect, describe, not_allowed

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("mdstore.pg")
T = TypeVar("T")


class Link:
    def __init__(
        self,
        url: str,
        *,
        timeout: float = CONNECT_TIMEOUT,
        reconnect_seconds: float = 30.0,
        application_name: str = "mdstore",
    ) -> None:
        self.url = url
        self.label = describe(url)
        self.timeout = timeout
        self.reconnect_seconds = reconnect_seconds
        self.application_name = application_name
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._connected_once = False

    def open(self) -> psycopg.Connection[Any]:
        """A new autocommit connection to the same server (for LISTEN, owned by the caller)."""
        return connect(
            self.url, autocommit=True, timeout=self.timeout, application_name=self.application_name
        )

    def call(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``fn(connection)`` under the link's lock, on a working connection."""
        import psycopg

        deadline: float | None = None
        pause = 0.05
        with self._lock:
            while True:
                if self._closed:
                    raise BackendUnavailable(f"the connection to {self.label} is closed")
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = self.open()
                        self._connected_once = True
                    return fn(self._conn)
                except psycopg.errors.InsufficientPrivilege as exc:  # logged in, without rights
                    raise not_allowed(
                        self.label,
                        exc,
                        "the team queue",
                        "an administrator runs `mdstore team init` (it sets the queue up for "
                        "members) and `mdstore team members add ROLE`, or "
                        '[queue] backend = "spool" keeps the jobs local',
                    ) from None
                except (psycopg.OperationalError, psycopg.InterfaceError, BackendUnavailable) as exc:
                    self._drop()
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + self.reconnect_seconds
                        log.warning("lost the connection to %s; reconnecting", self.label)
                    if now >= deadline or not self._connected_once:
                        if isinstance(exc, BackendUnavailable):
                            raise
                        raise BackendUnavailable(f"the team database {self.label} is unreachable") from None
                    time.sleep(min(pause, max(0.0, deadline - now)))
                    pause = min(pause * 2, 1.0)

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - it is broken already; closing is best effort
                pass
        self._conn = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop()
