"""Pub/sub channels on the spool: ``channels/<channel>/<seq>.json``, one file per message.

Delivery guarantee: a subscription receives every message published on its channel after it was
opened, in publish order, each once, while its process lives. A *durable* subscription (a name)
saves its position after each message and resumes from it, so across restarts it gets every message
still within the retention at least once (a crash between the handler and the save repeats one).
Messages are deleted after the retention whether or not anyone read them; a handler's exception is
logged and does not stop the subscription.

Ordering works because a publisher takes the sequence number and renames its file into place under
the queue lock: message ``n`` is visible before message ``n + 1`` exists.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import QueueError
from .files import fsync_dir, write_temp
from .protocol import MessageHandler
from .sequence import Sequence

log = logging.getLogger("mdstore.queue")

CHANNELS = "channels"
_CURSORS = ".cursors"
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


class Channels:
    def __init__(
        self, queue_dir: Path, seq: Sequence, durable: bool, retention: float, poll_interval: float
    ) -> None:
        self.queue_dir = queue_dir
        self.dir = queue_dir / CHANNELS
        self._seq = seq
        self._durable = durable
        self._retention = retention
        self._poll = poll_interval
        self._subs: list[ChannelSubscription] = []

    def publish(self, channel: str, message: Any, token: str) -> None:
        folder = self._folder(channel)
        try:
            data = json.dumps({"message": message, "published_at": time.time()}, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise QueueError(f"channel {channel!r}: message is not JSON-serialisable: {exc}") from exc
        tmp = write_temp(self.queue_dir, token, data.encode(), self._durable)
        with self._seq.locked():
            os.rename(tmp, folder / f"{self._seq.take():016x}.json")
        if self._durable:
            fsync_dir(folder)

    def subscribe(
        self, channel: str, handler: MessageHandler, *, durable: str | None = None
    ) -> ChannelSubscription:
        folder = self._folder(channel)
        cursor_file = None
        if durable is not None:
            _check(durable, "durable subscription name")
            (folder / _CURSORS).mkdir(exist_ok=True)
            cursor_file = folder / _CURSORS / durable
        start = None
        if cursor_file is not None and cursor_file.exists():
            start = int(cursor_file.read_text().strip() or "0", 16)
        if start is None:
            # Under the lock, every message up to the current number is already in place.
            with self._seq.locked():
                start = self._seq.current()
        sub = ChannelSubscription(channel, folder, handler, start, cursor_file, self._poll)
        self._subs.append(sub)
        sub.start()
        return sub

    def prune(self) -> int:
        cutoff = time.time() - self._retention
        removed = 0
        for channel in _listdir(self.dir):
            for name in _listdir(self.dir / channel):
                path = self.dir / channel / name
                try:
                    if name.endswith(".json") and os.stat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
        self._subs.clear()

    def _folder(self, channel: str) -> Path:
        _check(channel, "channel name")
        folder = self.dir / channel
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class ChannelSubscription:
    """Delivers a channel's messages to a handler on a background (daemon) thread."""

    def __init__(
        self,
        channel: str,
        folder: Path,
        handler: MessageHandler,
        start: int,
        cursor_file: Path | None,
        poll_interval: float,
    ) -> None:
        self.channel = channel
        self._folder = folder
        self._handler = handler
        self.position = start
        self._cursor_file = cursor_file
        self._poll = poll_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"mdstore-sub-{channel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        step = 0.001
        while not self._stop.is_set():
            if self._deliver():
                step = 0.001
                continue
            self._stop.wait(step)
            step = min(step * 2, self._poll)

    def _deliver(self) -> bool:
        pending = sorted(n for n in _listdir(self._folder) if n.endswith(".json") and _seq(n) > self.position)
        for name in pending:
            if self._stop.is_set():
                return True
            try:
                message = json.loads((self._folder / name).read_bytes())["message"]
            except FileNotFoundError:
                message = _PRUNED
            except (ValueError, KeyError, TypeError) as exc:
                log.error("channel %s: message %s is unreadable (%s); skipped", self.channel, name, exc)
                message = _PRUNED
            if message is not _PRUNED:
                try:
                    self._handler(message)
                except Exception:
                    log.exception("channel %s: handler failed on message %s", self.channel, name)
            self.position = _seq(name)
            if self._cursor_file is not None:
                tmp = self._cursor_file.with_name(f".{self._cursor_file.name}.{os.getpid()}")
                tmp.write_text(f"{self.position:x}\n")
                os.replace(tmp, self._cursor_file)
        return bool(pending)


_PRUNED = object()


def _seq(name: str) -> int:
    try:
        return int(name[:-5], 16)
    except ValueError:
        return -1


def _check(value: str, what: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value) or value == _CURSORS:
        raise QueueError(f"{what} {value!r} must be 1-100 letters, digits, '-', '_' or '.'")


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []
