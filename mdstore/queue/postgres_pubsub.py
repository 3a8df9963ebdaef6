"""Pub/sub on the Postgres queue: messages are rows of ``mdstore_messages``, announced by NOTIFY.

Same guarantee as the spool's channels: a subscription gets every message published on its channel
after it opened, in publish order, each once while it lives; a durable one (a name) stores its
position in ``mdstore_cursors`` after each message and resumes from it. Publishers of one channel
take a transaction lock on it, so sequence order is commit order and a reader never skips a message
that commits late. A subscription has its own connection and thread; NOTIFY wakes it, and it also
looks five times a second in case a notification was lost with a connection.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from ..errors import QueueError
from ..pg.link import Link
from .job import to_json
from .postgres_schema import MESSAGE_CHANNEL
from .protocol import MessageHandler

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("mdstore.queue")

_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")
_NOW = "extract(epoch FROM clock_timestamp())::float8"
_RECHECK = 0.2  # seconds between looks without a notification (and between checks for close)
_BATCH = 500


def _check(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise QueueError(f"{what} {value!r} must be 1-100 letters, digits, '.', '-' or '_'")
    return value


class PgChannels:
    def __init__(self, link: Link, queue: str, poll_interval: float) -> None:
        self._link = link
        self._queue = queue
        self._poll = poll_interval
        self._subs: list[PgSubscription] = []

    def publish(self, channel: str, message: Any) -> None:
        _check(channel, "channel")
        data = to_json(f"channel {channel!r}", message)
        topic = f"{self._queue}/{channel}"

        def run(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (topic,))
                conn.execute(
                    "INSERT INTO mdstore_messages (queue, channel, message, published_at) "
                    f"VALUES (%s, %s, %s::jsonb, {_NOW})",
                    (self._queue, channel, data),
                )
                conn.execute("SELECT pg_notify(%s, %s)", (MESSAGE_CHANNEL, topic))

        self._link.call(run)

    def subscribe(
        self, channel: str, handler: MessageHandler, *, durable: str | None = None
    ) -> PgSubscription:
        _check(channel, "channel")
        if durable is not None:
            _check(durable, "durable subscription name")
        start = None
        if durable is not None:
            row = self._link.call(
                lambda conn: conn.execute(
                    "SELECT position FROM mdstore_cursors WHERE queue = %s AND channel = %s AND name = %s",
                    (self._queue, channel, durable),
                ).fetchone()
            )
            start = None if row is None else int(row[0])
        if start is None:
            # Every publish still in flight takes a higher number than the highest committed one.
            row = self._link.call(
                lambda conn: conn.execute(
                    "SELECT coalesce(max(seq), 0) FROM mdstore_messages WHERE queue = %s AND channel = %s",
                    (self._queue, channel),
                ).fetchone()
            )
            start = int(row[0]) if row else 0
        sub = PgSubscription(self._link, self._queue, channel, handler, start, durable)
        self._subs.append(sub)
        sub.start()
        return sub

    def prune(self, retention: float) -> int:
        return int(
            self._link.call(
                lambda conn: (
                    conn.execute(
                        f"DELETE FROM mdstore_messages WHERE queue = %s AND published_at < {_NOW} - %s",
                        (self._queue, retention),
                    ).rowcount
                )
            )
        )

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
        self._subs.clear()


class PgSubscription:
    def __init__(
        self, link: Link, queue: str, channel: str, handler: MessageHandler, start: int, durable: str | None
    ) -> None:
        self.channel = channel
        self._link = link
        self._queue = queue
        self._topic = f"{queue}/{channel}"
        self._handler = handler
        self._position = start
        self._durable = durable
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"mdstore-sub-{channel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = self._link.open()
                    conn.execute(f"LISTEN {MESSAGE_CHANNEL}")
                self._deliver(conn)
                for _ in conn.notifies(timeout=_RECHECK, stop_after=1):
                    pass
            except Exception as exc:  # noqa: BLE001 - reconnect after any connection trouble
                log.warning("subscription to %s: %s; reconnecting", self.channel, exc)
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(0.5)
        if conn is not None:
            conn.close()

    def _deliver(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            rows = conn.execute(
                "SELECT seq, message FROM mdstore_messages WHERE queue = %s AND channel = %s AND seq > %s "
                "ORDER BY seq LIMIT %s",
                (self._queue, self.channel, self._position, _BATCH),
            ).fetchall()
            if not rows:
                return
            for seq, message in rows:
                if self._stop.is_set():
                    return
                try:
                    self._handler(message)
                except Exception:  # noqa: BLE001 - a handler's bug must not end the subscription
                    log.exception("subscription to %s: handler failed", self.channel)
                self._position = seq
                if self._durable is not None:
                    conn.execute(
                        "INSERT INTO mdstore_cursors (queue, channel, name, position) "
                        "VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (queue, channel, name) DO UPDATE SET position = EXCLUDED.position",
                        (self._queue, self.channel, self._durable, seq),
                    )
