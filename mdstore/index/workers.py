"""Parsing many files on all cores, in worker processes of our own.

``multiprocessing`` (spawn/forkserver) re-imports the caller's ``__main__`` in every worker, which
re-runs an unguarded user script and breaks ``python -``; ``fork`` is unsafe in a process with
DuckDB threads. So workers are plain ``python -m mdstore.index.workers`` processes fed over pipes:
length-prefixed pickles of (root, [(path, mtime)], max_bytes) in, lists of results out.
"""

from __future__ import annotations

import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any

_HEADER = struct.Struct("!Q")


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _recv(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def parse_parallel(
    root: str,
    items: list[tuple[str, float]],
    max_bytes: int,
    link_style: str,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Results of ``sync.load_note`` for every item, in order, computed by ``workers`` processes."""
    from .sync import load_note

    total = len(items)
    chunk = max(32, min(400, total // (workers * 6) or 32))
    chunks = [(i, items[i : i + chunk]) for i in range(0, total, chunk)]
    results: list[Any] = [None] * total
    lock = threading.Lock()
    done = [0]
    errors: list[BaseException] = []

    def run_worker() -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mdstore.index.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            while True:
                with lock:
                    if not chunks or errors:
                        break
                    start, part = chunks.pop(0)
                _send(proc.stdin, (root, part, max_bytes, link_style))
                out = _recv(proc.stdout)
                with lock:
                    results[start : start + len(out)] = out
                    done[0] += len(out)
                if progress:
                    progress(done[0], total)
        except BaseException as exc:  # noqa: BLE001 - a dead worker: finish its chunks in-process below
            with lock:
                errors.append(exc)
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
            proc.stdout.close()

    threads = [threading.Thread(target=run_worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whatever a failed worker left undone (or never started) is parsed here, one by one.
    for start, part in chunks:
        results[start : start + len(part)] = [
            load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part
        ]
    return results


Item = tuple[str, float]  # (vault-relative path, mtime)


def parse_stream(
    root: str,
    items: list[Item],
    max_bytes: int,
    link_style: str,
    workers: int,
    chunk: int = 250,
) -> Iterator[tuple[list[Item], list[Any]]]:
    """``(items, results)`` of ``sync.load_note`` a chunk at a time, as ``workers`` processes finish
    them (not in order), so a caller can write each chunk and let it go: memory follows the chunk,
    not the vault. A worker that dies has its chunk parsed again in this process; every item is
    answered exactly once."""
    from .sync import load_note

    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    lock = threading.Lock()
    out: queue.Queue[tuple[list[Item], list[Any]] | None] = queue.Queue(maxsize=workers * 2)
    stop = threading.Event()  # the consumer went away: workers stop taking chunks

    def take() -> list[Item] | None:
        with lock:
            return chunks.pop(0) if chunks and not stop.is_set() else None

    def run_worker() -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mdstore.index.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdin is not None and proc.stdout is not None
        alive = True
        try:
            while (part := take()) is not None:
                results: list[Any] | None = None
                if alive:
                    try:
                        _send(proc.stdin, (root, part, max_bytes, link_style))
                        results = _recv(proc.stdout)
                    except (OSError, EOFError, pickle.UnpicklingError):
                        alive = False  # the worker died: this thread parses in-process from now on
                if results is None or len(results) != len(part):
                    results = [load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part]
                out.put((part, results))
        finally:
            out.put(None)
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    threads = [threading.Thread(target=run_worker, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    finished = 0
    try:
        while finished < len(threads):
            got = out.get()
            if got is None:
                finished += 1
            else:
                yield got
    finally:
        stop.set()
        while finished < len(threads):  # let blocked workers put their last chunk and end
            if out.get() is None:
                finished += 1


def _serve() -> None:
    from .sync import load_note

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            root, part, max_bytes, link_style = _recv(stdin)
        except EOFError:
            return
        _send(stdout, [load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part])


if __name__ == "__main__":
    _serve()
