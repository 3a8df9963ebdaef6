"""Reading and parsing the files a sync needs, in this process or, when there are many, on all
cores in worker processes of our own.

``multiprocessing`` (spawn/forkserver) re-imports the caller's ``__main__`` in every worker, which
re-runs an unguarded user script and breaks ``python -``; ``fork`` is unsafe in a process with
DuckDB threads. So workers are plain ``python -m mdstore.index.workers`` processes fed over pipes:
length-prefixed pickles of (root, [(path, mtime)], max_bytes, link_style) in, lists of results out.

A worker that dies (killed, out of memory, a crash in a parser) loses nothing: the chunk it was
parsing is put back and parsed in this process, and the failure is reported. A file is never
taken for vanished because its result is missing: only ``GONE``, which ``open`` itself said, means
that, and the sync still asks the file system again before it removes a note.
"""

from __future__ import annotations

import enum
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ..notes.model import Note, ParseIssue

if TYPE_CHECKING:
    from ..config import Config

_HEADER = struct.Struct("!Q")
Progress = Callable[[int, int], None]


class Unparsed(enum.Enum):
    """A result that is not a note. Enum members keep their identity through pickling."""

    GONE = "gone"  # open() said the file does not exist (or is a folder)
    NOT_PARSED = "not parsed"  # no result came back: never read as "deleted"


Result = Note | ParseIssue | Unparsed


@dataclass
class Loaded:
    """The results of one batch, in the order asked, and what went wrong with the workers."""

    results: list[Result]
    failures: list[ParseIssue] = field(default_factory=list)


def load_note(root: str, rel: str, mtime: float, max_bytes: int, link_style: str = "obsidian") -> Result:
    """Read and parse one file: ``GONE`` when it vanished, a ParseIssue when it cannot be read.
    Top level so that worker processes can run it."""
    from ..notes.parse import parse_note

    try:
        with open(os.path.join(root, rel), "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return Unparsed.GONE
    except OSError as exc:
        return ParseIssue(rel, f"cannot read: {exc.strerror or exc}", "unreadable")
    return parse_note(rel, data, mtime=mtime, max_bytes=max_bytes, link_style=link_style)


def load_notes(
    config: Config, items: Sequence[tuple[str, float]], progress: Progress | None = None
) -> Loaded:
    """Every item (path, mtime) read and parsed, in worker processes when there are at least
    ``[index] parallel_threshold`` of them and more than one core to use."""
    root = str(config.root)
    max_bytes = config.vault.max_note_bytes
    style = config.vault.link_style
    workers = config.index.parse_workers or (os.cpu_count() or 1)
    total = len(items)
    if workers > 1 and total >= config.index.parallel_threshold:
        return parse_parallel(root, list(items), max_bytes, style, workers, progress)
    out: list[Result] = []
    for i, (rel, mtime) in enumerate(items):
        out.append(load_note(root, rel, mtime, max_bytes, style))
        if progress and i % 100 == 0:
            progress(i, total)
    if progress:
        progress(total, total)
    return Loaded(out)


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _recv(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the parse worker closed its output")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the parse worker died while sending its results")
    return pickle.loads(data)


def _describe(proc: subprocess.Popen[bytes], exc: BaseException) -> str:
    """Why a worker failed, in words: its exit status when it died, else the error."""
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return f"{type(exc).__name__}: {exc}"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited with status {code}" if code else f"{type(exc).__name__}: {exc}"


def parse_parallel(
    root: str,
    items: list[tuple[str, float]],
    max_bytes: int,
    link_style: str,
    workers: int,
    progress: Progress | None = None,
) -> Loaded:
    """Results of ``load_note`` for every item, in order, computed by ``workers`` processes."""
    total = len(items)
    chunk = max(32, min(400, total // (workers * 6) or 32))
    chunks = [(i, items[i : i + chunk]) for i in range(0, total, chunk)]
    results: list[Result] = [Unparsed.NOT_PARSED] * total
    lock = threading.Lock()
    done = [0]
    failures: list[ParseIssue] = []

    def run_worker() -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mdstore.index.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdin is not None and proc.stdout is not None
        current: tuple[int, list[tuple[str, float]]] | None = None
        try:
            while True:
                with lock:
                    if not chunks or failures:
                        break
                    current = chunks.pop(0)
                start, part = current
                _send(proc.stdin, (root, part, max_bytes, link_style))
                out = _recv(proc.stdout)
                if len(out) != len(part):
                    raise EOFError(f"the parse worker sent {len(out)} results for {len(part)} files")
                with lock:
                    results[start : start + len(out)] = out
                    done[0] += len(out)
                    current = None
                if progress:
                    progress(done[0], total)
        except BaseException as exc:  # noqa: BLE001 - a dead worker: its chunk is parsed in-process below
            why = _describe(proc, exc)
            with lock:
                if current is not None:  # always, as only sending and receiving can fail
                    chunks.append(current)  # in flight when the worker failed: parse it again
                    part = current[1]
                    failures.append(
                        ParseIssue(
                            part[0][0],
                            f"parse worker {why} while parsing this file and {len(part) - 1} others;"
                            " they were parsed again in the syncing process",
                            "worker",
                        )
                    )
        finally:
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass  # a broken pipe to a dead worker
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    threads = [threading.Thread(target=run_worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whatever a failed worker left undone, in flight or never started, is parsed here.
    for start, part in sorted(chunks):
        results[start : start + len(part)] = [
            load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part
        ]
    if progress:
        progress(total, total)
    return Loaded(results, failures)


def _serve() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            root, part, max_bytes, link_style = _recv(stdin)
        except EOFError:
            return
        _send(stdout, [load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part])


if __name__ == "__main__":
    _serve()
