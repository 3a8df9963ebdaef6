"""Parsing many files on all cores, in worker processes of our own.

``multiprocessing`` (spawn/forkserver) re-imports the caller's ``__main__`` in every worker, which
re-runs an unguarded user script and breaks ``python -``; ``fork`` is unsafe in a process with
DuckDB threads. So workers are plain ``python -m mdstore.index.workers`` processes fed over pipes:
length-prefixed pickles of (root, [(path, mtime)], max_bytes, link_style, derive) in, (results,
derived) out. ``derive`` names what else a worker computes from each parsed note while it has it
(``search.coldfeed.derive``: the search document, the related-notes word counts), so that a cold
build parses every file once, on every core, for all the indexes.
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
    """Results of ``sync.load_note`` for every item, in order, computed by ``workers`` processes
    (``parse_stream``: a dead worker's chunk is parsed again in this process, never dropped)."""
    total = len(items)
    chunk = max(32, min(400, total // (workers * 6) or 32))
    position = {rel: i for i, (rel, _) in enumerate(items)}
    results: list[Any] = [None] * total
    done = 0
    for part, parsed, _ in parse_stream(root, items, max_bytes, link_style, workers, chunk):
        for (rel, _), result in zip(part, parsed, strict=True):
            results[position[rel]] = result
        done += len(part)
        if progress:
            progress(done, total)
    return results


Item = tuple[str, float]  # (vault-relative path, mtime)
Chunk = tuple[list[Item], list[Any], list[Any]]  # items, their load_note results, what was derived


def load_chunk(
    root: str, part: list[Item], max_bytes: int, link_style: str, derive: tuple[str, ...]
) -> tuple[list[Any], list[Any]]:
    """``load_note`` of every item and, for each parsed note, what ``derive`` names (else None)."""
    from ..notes.model import Note
    from .sync import load_note

    results = [load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part]
    if not derive:
        return results, [None] * len(results)
    from ..search.coldfeed import derived_from

    return results, [derived_from(r, derive) if isinstance(r, Note) else None for r in results]


def parse_stream(
    root: str,
    items: list[Item],
    max_bytes: int,
    link_style: str,
    workers: int,
    chunk: int = 250,
    derive: tuple[str, ...] = (),
) -> Iterator[Chunk]:
    """``(items, results, derived)`` of ``load_chunk`` a chunk at a time, as ``workers`` processes
    finish them (not in order), so a caller can write each chunk and let it go: memory follows the
    chunk, not the vault. A worker that dies has its chunk parsed again in this process; every item
    is answered exactly once."""
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    lock = threading.Lock()
    out: queue.Queue[Chunk | None] = queue.Queue(maxsize=workers * 2)
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
                answer: tuple[list[Any], list[Any]] | None = None
                if alive:
                    try:
                        _send(proc.stdin, (root, part, max_bytes, link_style, derive))
                        answer = _recv(proc.stdout)
                    except (OSError, EOFError, pickle.UnpicklingError):
                        alive = False  # the worker died: this thread parses in-process from now on
                if answer is None or len(answer[0]) != len(part):
                    answer = load_chunk(root, part, max_bytes, link_style, derive)
                out.put((part, *answer))
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
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            root, part, max_bytes, link_style, derive = _recv(stdin)
        except EOFError:
            return
        _send(stdout, load_chunk(root, part, max_bytes, link_style, derive))


if __name__ == "__main__":
    _serve()
