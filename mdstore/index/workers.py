"""Reading and parsing the files a sync needs, in this process or, when there are many, on all
cores in worker processes of our own.

``multiprocessing`` (spawn/forkserver) re-imports the caller's ``__main__`` in every worker, which
re-runs an unguarded user script and breaks ``python -``; ``fork`` is unsafe in a process with
DuckDB threads. So workers are plain ``python -m mdstore.index.workers`` processes fed over pipes:
length-prefixed pickles of (root, [(path, mtime)], max_bytes, link_style, derive, rows) in,
(results, derived, tables) out. ``derive`` names functions (``"package.module:function"``) that a
worker also applies to each parsed note while it has it — the search side asks for its search
document and word counts — so that a cold build parses every file once, on every core, for all the
indexes. With ``rows`` (a cold build) the worker also turns its notes into the index tables' rows
(column lists: pyarrow would cost each worker ~90 MB) and sends back a ``Parsed`` summary instead
of each note: the syncing process only resolves the links and appends, so it is not the one core
that every note waits for.

A worker that dies (killed, out of memory, a crash in a parser) loses nothing: the chunk it was
parsing is put back and parsed in this process, and the failure is reported. A file is never
taken for vanished because its result is missing: only ``GONE``, which ``open`` itself said, means
that, and the sync still asks the file system again before it removes a note.
"""

from __future__ import annotations

import enum
import functools
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
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


@dataclass(frozen=True)
class Parsed:
    """What a cold build keeps of a note whose rows its parse worker made (``load_chunk(rows=True)``)."""

    path: str
    hash: str
    aliases: tuple[str, ...]
    issue: ParseIssue | None  # the note's ``parse_issue``, when part of it could not be read


Result = Note | ParseIssue | Unparsed | Parsed
Tables = dict[str, dict[str, list[Any]]]  # table name -> its columns (``rows.RowSet.cols``)


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


Item = tuple[str, float]  # (vault-relative path, mtime)
# items, their results, what was derived for them, and (with ``rows``) their rows, one Tables a part
Chunk = tuple[list[Item], list[Result], list[Any], list[Tables]]


def load_chunk(
    root: str,
    part: Sequence[Item],
    max_bytes: int,
    link_style: str,
    derive: tuple[str, ...] = (),
    rows: bool = False,
) -> tuple[list[Result], list[Any], Tables]:
    """``load_note`` of every item and, for each parsed note, ``{spec: function(note)}`` for each
    function named in ``derive`` (None for a result that is not a note). With ``rows``, each note
    is returned as its ``Parsed`` summary and its rows come in the tables (links unresolved)."""
    results: list[Result] = [load_note(root, rel, mtime, max_bytes, link_style) for rel, mtime in part]
    derived: list[Any] = [derived_for(r, derive) if derive and isinstance(r, Note) else None for r in results]
    if not rows:
        return results, derived, {}
    return _with_rows(results, derived)


def _with_rows(results: list[Result], derived: list[Any]) -> tuple[list[Result], list[Any], Tables]:
    from ..notes.parse import parse_issue
    from .rows import RowSet

    rowset = RowSet()
    summaries: list[Result] = []
    for result in results:
        if isinstance(result, Note):
            rowset.add_note(result, _unresolved)
            issue = parse_issue(result) if result.error else None
            summaries.append(Parsed(result.path, result.hash, tuple(result.aliases), issue))
        else:
            summaries.append(result)
    tables = {table: columns for table, columns in rowset.cols.items() if rowset.count(table)}
    return summaries, derived, tables


def _unresolved(link: Any, source: str) -> None:
    return None  # links are resolved by the syncing process, which knows every path


def derived_for(note: Note, derive: tuple[str, ...]) -> dict[str, Any]:
    """``{spec: function(note)}`` for each function named in ``derive``."""
    return {spec: _function(spec)(note) for spec in derive}


@functools.cache
def _function(spec: str) -> Callable[[Note], Any]:
    """The function named ``"package.module:function"`` (named by the layer that asks for it)."""
    import importlib

    module, _, name = spec.partition(":")
    function: Callable[[Note], Any] = getattr(importlib.import_module(module), name)
    return function


def stream_notes(
    config: Config,
    items: Sequence[Item],
    size: int,
    failures: list[ParseIssue] | None = None,
    derive: tuple[str, ...] = (),
    rows: bool = False,
) -> Iterator[Chunk]:
    """``(items, results, derived, tables)`` of ``load_chunk`` about ``size`` at a time (not in
    order), in worker processes when there are at least ``[index] parallel_threshold`` items and
    more than one core to use. A worker's failure is appended to ``failures``; its chunk is still
    answered."""
    root = str(config.root)
    max_bytes = config.vault.max_note_bytes
    style = config.vault.link_style
    workers = config.index.parse_workers or (os.cpu_count() or 1)
    if workers > 1 and len(items) >= config.index.parallel_threshold:
        chunk = max(32, min(400, len(items) // (workers * 6) or 32, size))
        pending: Chunk = ([], [], [], [])
        stream = parse_stream(root, list(items), max_bytes, style, workers, chunk, failures, derive, rows)
        # The short last chunks (``_chunked``) go on as they come: what the caller does with the
        # last one is all that is left to do once the workers are done.
        unsent, tail = len(items), _tail(len(items), chunk, workers)
        for part, results, derived, tables in stream:
            pending[0].extend(part)
            pending[1].extend(results)
            pending[2].extend(derived)
            pending[3].extend(tables)
            unsent -= len(part)
            if len(pending[0]) >= size or unsent <= tail:
                yield pending
                pending = ([], [], [], [])
        if pending[0]:
            yield pending
        return
    for start in range(0, len(items), size):
        part = list(items[start : start + size])
        results, derived, rowtables = load_chunk(root, part, max_bytes, style, derive, rows)
        yield part, results, derived, [rowtables]


def load_notes(config: Config, items: Sequence[Item], progress: Progress | None = None) -> Loaded:
    """Every item read and parsed (``stream_notes``), results in the order of ``items``."""
    total = len(items)
    position = {rel: i for i, (rel, _) in enumerate(items)}
    results: list[Result] = [Unparsed.NOT_PARSED] * total
    failures: list[ParseIssue] = []
    done = 0
    for part, parsed, _, _ in stream_notes(config, items, 100, failures):
        for (rel, _), result in zip(part, parsed, strict=True):
            results[position[rel]] = result
        done += len(part)
        if progress:
            progress(done, total)
    if progress and not total:
        progress(0, 0)
    return Loaded(results, failures)


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
    if not isinstance(exc, OSError | EOFError) and proc.poll() is None:
        return f"sent an answer that could not be read ({type(exc).__name__}: {exc})"
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return f"{type(exc).__name__}: {exc}"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited with status {code}" if code else f"{type(exc).__name__}: {exc}"


def _tail(total: int, chunk: int, workers: int) -> int:
    """How many of ``total`` items go in the short chunks at the end (``_chunked``)."""
    short = max(1, chunk // 4)
    return min(total // 4, workers * chunk) // short * short


def _chunked(items: list[Item], chunk: int, workers: int) -> list[list[Item]]:
    """``items`` in chunks of ``chunk``, but the last ones a quarter of that: the workers then
    finish within a short chunk of each other, and no core idles while one parses a whole chunk."""
    short = max(1, chunk // 4)
    body = len(items) - _tail(len(items), chunk, workers)
    chunks = [items[i : min(i + chunk, body)] for i in range(0, body, chunk)]
    return chunks + [items[i : i + short] for i in range(body, len(items), short)]


def parse_stream(
    root: str,
    items: list[Item],
    max_bytes: int,
    link_style: str,
    workers: int,
    chunk: int = 250,
    failures: list[ParseIssue] | None = None,
    derive: tuple[str, ...] = (),
    rows: bool = False,
) -> Iterator[Chunk]:
    """``(items, results, derived, [tables])`` of ``load_chunk`` a chunk at a time, as ``workers``
    processes finish them (not in order), so a caller can write each chunk and let it go: memory
    follows the chunk, not the vault. A worker that dies has its chunk parsed again in this process
    and its failure appended to ``failures``; every item is answered exactly once."""
    chunks = _chunked(items, chunk, workers)
    lock = threading.Lock()
    out: queue.Queue[Chunk | None] = queue.Queue(maxsize=workers * 2)
    stop = threading.Event()  # the consumer went away: workers stop taking chunks

    def take() -> list[Item] | None:
        with lock:
            return chunks.pop(0) if chunks and not stop.is_set() else None

    def failed(part: list[Item], why: str) -> None:
        if failures is not None:
            failures.append(
                ParseIssue(
                    part[0][0],
                    f"parse worker {why} while parsing this file and {len(part) - 1} others;"
                    " they were parsed again in the syncing process",
                    "worker",
                )
            )

    def run_worker() -> None:
        proc: subprocess.Popen[bytes] | None = None
        try:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "mdstore.index.workers"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as exc:  # the interpreter not executable by this user, no processes left
                not_started: OSError | None = exc
            else:
                not_started = None
            alive = proc is not None
            while (part := take()) is not None:
                answer: tuple[list[Result], list[Any], Tables] | None = None
                if not_started is not None:
                    failed(part, f"could not start ({type(not_started).__name__}: {not_started})")
                    not_started = None
                if alive and proc is not None and proc.stdin is not None and proc.stdout is not None:
                    try:
                        _send(proc.stdin, (root, part, max_bytes, link_style, derive, rows))
                        answer = _recv(proc.stdout)
                        if answer is not None and len(answer[0]) != len(part):
                            sent = f"{len(answer[0])} results for {len(part)} files"
                            raise EOFError(f"the parse worker sent {sent}")
                    except Exception as exc:  # a dead worker, or an answer that does not decode
                        alive = False  # this thread parses in-process from now on
                        answer = None
                        failed(part, _describe(proc, exc))
                if answer is None:
                    answer = load_chunk(root, part, max_bytes, link_style, derive, rows)
                out.put((part, answer[0], answer[1], [answer[2]]))
        finally:
            out.put(None)
            if proc is not None:
                for stream in (proc.stdin, proc.stdout):
                    try:
                        if stream is not None:
                            stream.close()
                    except OSError:
                        pass  # a broken pipe to a dead worker
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

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
            request = _recv(stdin)
        except EOFError:
            return
        _send(stdout, load_chunk(*request))


if __name__ == "__main__":
    # Serve from the module imported by its name, not from ``__main__``: results must pickle as
    # ``mdstore.index.workers.Unparsed``, the class the syncing process knows.
    from mdstore.index.workers import _serve as serve

    serve()
