"""The daemon's heartbeat file, ``.mdstore/watch.json``, and how others read it.

The daemon rewrites it (atomically) after each sync and every ``heartbeat_interval`` seconds when
idle; it removes it on a clean exit. A file whose pid is dead was left by a killed daemon: stale.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from ..config import Config
from .ownership import ROLE, holder_pid, pid_alive

STATUS_NAME = "watch.json"


def status_path(config: Config) -> Path:
    return config.state_dir / STATUS_NAME


def write_status(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def remove_status(path: Path) -> None:
    path.unlink(missing_ok=True)


def daemon_status(config: Config) -> dict[str, Any]:
    """Whether a watcher daemon serves this vault: ``{"running": bool, "state": "running" | "stale"
    | "not running", ...}`` plus, from its heartbeat: pid, started_at, last_event_at, last_sync_at,
    backlog, lag_seconds, heartbeat_age_seconds. Cheap (one small file read, no socket)."""
    path = status_path(config)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"running": False, "state": "not running"}
    except (OSError, ValueError):
        return {"running": False, "state": "unknown", "detail": f"unreadable {path}"}
    pid = info.get("pid")
    alive = isinstance(pid, int) and pid_alive(pid) and _holds_lock(config, pid)
    out: dict[str, Any] = {"running": alive, "state": "running" if alive else "stale"}
    for key in (
        "pid",
        "ready",
        "backlog",
        "lag_seconds",
        "syncs",
        "full_scans",
        "overflows",
        "events",
        "socket",
    ):
        if key in info:
            out[key] = info[key]
    for key in ("started_at", "last_event_at", "last_sync_at", "heartbeat_at"):
        if info.get(key):
            out[key] = dt.datetime.fromtimestamp(info[key]).isoformat(timespec="seconds")
    if info.get("heartbeat_at"):
        out["heartbeat_age_seconds"] = round(time.time() - info["heartbeat_at"], 1)
    if not alive:
        out["detail"] = f"left by pid {pid}, which no longer runs (killed?); start `mdstore watch` again"
    return out


def _holds_lock(config: Config, pid: int) -> bool:
    """The owner lock file names this pid as a watcher (a reused pid of another program does not)."""
    from ..index.lock import OwnerLock

    holder = OwnerLock(config.state_dir).holder()
    return holder_pid(holder) == pid and bool(holder and holder.endswith(f"({ROLE})"))
