"""Spool file names: a job file's name holds its order (priority, sequence), id and claim owner,
so the queue is sorted and searched by listing folders, without reading files."""

from __future__ import annotations

import os
from pathlib import Path

from .job import MAX_PRIORITY, Job, JobState


def stem(priority: int, seq: int, jid: str) -> str:
    # Inverted priority so that a plain name sort puts the highest priority first.
    return f"{MAX_PRIORITY - priority:04d}.{seq:016x}.{jid}"


def job_stem(job: Job) -> str:
    return stem(job.priority, job.seq, job.id)


def split(name: str, count: int) -> list[str] | None:
    parts = name.split(".")
    if len(parts) != count or parts[-1] != "json":
        return None
    return parts


def parse(state: JobState, name: str) -> tuple[int, str, str | None] | None:
    """(sequence, id, claim token) from a job file name, or None if it is not one."""
    parts = name.split(".")
    if state is JobState.DELAYED:
        parts = parts[1:]
    if parts[-1:] != ["json"] or len(parts) < 4 or (state is not JobState.CLAIMED and len(parts) != 4):
        return None
    try:
        seq = int(parts[1], 16)
    except ValueError:
        return None
    token = parts[3] if state is JobState.CLAIMED and len(parts) == 5 else None
    return seq, parts[2], token


def listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def count(path: Path) -> int:
    return sum(1 for n in listdir(path) if n.endswith(".json"))


def unlink(path: Path) -> int:
    try:
        os.unlink(path)
        return 1
    except FileNotFoundError:
        return 0
