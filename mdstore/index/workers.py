"""Parsing many files on all cores, in worker processes of our own.

``multiprocessing`` (spawn/forkserver) re-imports the caller's ``__main__`` in every worker, which
re-runs an unguarded user script and breaks ``python -``; ``fork`` is unsafe in a process with
DuckDB threads. So workers are plain ``python -m mdstore.index.workers`` processes fed over pipes:
length-prefixed pickles of (root, [(path, mtime)], max_bytes) in, lists of results out.
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
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
