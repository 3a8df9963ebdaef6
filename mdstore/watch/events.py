"""From watchdog events to vault paths in the backlog.

Only names matter here, never file contents: what a path holds is decided later, from the file
system, by the sync (it stats and hashes). Ignored: the state folder, editor and mdstore temp files,
the vault's ignore rules, and ``.git/`` except a change that moves HEAD (checkout, reset, pull,
rebase), which asks for a full scan. An overflowed inotify queue (events were lost; watchdog's only
signal is a log record) asks for one too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..config import STATE_DIR, Config
from ..index.scan import IGNORE_FILES, IgnoreRules
from ..notes.fileio import is_temp_name
from .backlog import Backlog

log = logging.getLogger("mdstore.watch")

# Loggers on which watchdog reports a kernel queue overflow.
OVERFLOW_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")
_HEAD_FILES = frozenset({".git/HEAD", ".git/ORIG_HEAD", ".git/packed-refs"})


def event_filter() -> list[type]:
    """The event classes the watcher needs; the rest are not even asked of the kernel (the daemon's
    own reads would otherwise come back as open/close events)."""
    from watchdog import events as ev

    return [
        ev.FileCreatedEvent,
        ev.FileDeletedEvent,
        ev.FileModifiedEvent,
        ev.FileMovedEvent,
        ev.FileClosedEvent,
        ev.DirCreatedEvent,
        ev.DirDeletedEvent,
        ev.DirMovedEvent,
    ]


class EventRouter:
    """A watchdog event handler (duck-typed: watchdog calls ``dispatch``) feeding the backlog."""

    def __init__(self, config: Config, backlog: Backlog) -> None:
        self.config = config
        self.backlog = backlog
        self.prefix = str(config.root).rstrip(os.sep) + os.sep
        self._rules_lock = threading.Lock()
        self.rules = IgnoreRules(config.root, config.vault.ignore)
        self.count = 0
        self.last_event_at: float | None = None

    def dispatch(self, event: Any) -> None:
        self.count += 1
        self.last_event_at = time.time()
        try:
            self._route(event)
        except Exception:  # an unexpected name must not stop the watcher: rescan instead
            log.exception("cannot handle %r; a full scan follows", event)
            self.backlog.request_full("error")

    def reload_rules(self) -> None:
        with self._rules_lock:
            self.rules = IgnoreRules(self.config.root, self.config.vault.ignore)

    def _route(self, event: Any) -> None:
        kind = event.event_type
        is_dir = event.is_directory
        if kind == "moved":
            # Renamed into place from a temp file: the save is complete. A rename of a note keeps
            # both ends on the same timing, so they land in one batch (a move, not delete + create).
            from_note = self._path(event.src_path, is_dir, "gone")
            self._path(event.dest_path, is_dir, "new", final=not from_note)
        elif kind == "deleted":
            self._path(event.src_path, is_dir, "gone")
        elif kind == "created":
            self._path(event.src_path, is_dir, "new")
        elif kind == "modified" and not is_dir:
            self._path(event.src_path, False, "changed")
        elif kind == "closed":
            self._path(event.src_path, False, "changed", final=True)

    def _path(self, path: str | bytes, is_dir: bool, how: str, final: bool = False) -> bool:
        """Put a path in the backlog; False when it is not the vault's (ignored, temp, outside)."""
        text = os.fsdecode(path)
        if not text.startswith(self.prefix):
            return False  # the vault folder itself, or a move's other end outside it
        rel = text[len(self.prefix) :].replace(os.sep, "/")
        top = rel.split("/", 1)[0]
        if top == ".git":
            if _moves_head(rel):
                self.backlog.request_full("git")
            return False
        if top == STATE_DIR:
            return False
        if rel in IGNORE_FILES:
            self.reload_rules()
            self.backlog.request_full("ignore rules changed")
            return False
        rules = self.rules
        if is_dir:
            if rules.ignored(rel, is_dir=True):
                return False
            if how == "gone":
                self.backlog.folder_gone(rel)
            elif how == "new":
                self.backlog.folder_new(rel)
            return True
        if is_temp_name(rel.rsplit("/", 1)[-1]) or rules.ignored(rel, is_dir=False):
            return False
        self.backlog.add(rel, final=final)
        return True


def _moves_head(rel: str) -> bool:
    if rel.endswith(".lock"):
        return False
    return rel in _HEAD_FILES or rel.startswith(".git/refs/heads/")


class OverflowAlarm(logging.Handler):
    """Turns watchdog's "Inotify queue overflowed" log record into a full scan."""

    def __init__(self, backlog: Backlog) -> None:
        super().__init__(logging.WARNING)
        self.backlog = backlog
        self.overflows = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to report
            return
        if "overflow" in text.lower():
            self.overflows += 1
            self.backlog.request_full("overflow")

    def attach(self) -> None:
        for name in OVERFLOW_LOGGERS:
            logger = logging.getLogger(name)
            if not logger.isEnabledFor(logging.WARNING):
                logger.setLevel(logging.WARNING)  # the record is our only signal: it must be made
            logger.addHandler(self)

    def detach(self) -> None:
        for name in OVERFLOW_LOGGERS:
            logging.getLogger(name).removeHandler(self)


def files_under(root: Path, folder: str, rules: IgnoreRules) -> list[str]:
    """Every file below ``folder`` (vault-relative), minus ignored ones: for a folder that appeared."""
    out: list[str] = []
    base = root / folder
    for dirpath, dirnames, filenames in os.walk(base):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        dirnames[:] = [d for d in dirnames if not rules.ignored(f"{rel_dir}/{d}", is_dir=True)]
        for name in filenames:
            rel = f"{rel_dir}/{name}"
            if not is_temp_name(name) and not rules.ignored(rel, is_dir=False):
                out.append(rel)
    return out
