"""How a Whoosh index is rebuilt: a writer that costs less per posting than Whoosh's own.

A cold build of a 10k-note vault makes about 7.5M postings (title, headings, body, the all-words
``content`` field, the unstemmed ``vocabulary``). Whoosh's writer handles each of them on its own
from the tokenizer to the postings file, which is nearly all of a rebuild's time. This writer
counts a document's text fields a field at a time, pools each term's postings in arrays (spilled
whole terms at a time to sorted runs when the pool fills, merged term by term), reads each
document's field lengths once, and hands the postings to Whoosh's codec a block at a time
(``whoosh_pool.py``). The segment it writes is Whoosh's own, byte for byte.

In parallel, ``procs`` worker processes are forked at once (Whoosh's ``MpWriter`` with one
segment per worker) and take documents, or notes whose documents they make themselves, in batch
files; a cold build holds the batches back until the structured index is complete (``hold``).
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mdstore.errors import IndexBusy, MdstoreError
from mdstore.search.whoosh_pool import POOL_LIMIT_MB, CompactPool, text_postings, write_term

if TYPE_CHECKING:
    from mdstore.notes.model import Note
    from mdstore.search.documents import SearchDocument
    from mdstore.search.whoosh_engine import WhooshBackend

LOCK_TIMEOUT = 10.0
_COUNTS_HANDED = 2000  # notes' word counts handed to the related-notes model at a time


def _segment_writer_class() -> Any:
    from whoosh.writing import SegmentWriter

    class CompactWriter(SegmentWriter):
        """Whoosh's segment writer on a ``CompactPool``: the text fields' postings of a document
        are counted a field at a time (``text_postings``) and written a block at a time."""

        def __init__(self, ix: Any, limitmb: int = POOL_LIMIT_MB, **kwargs: Any) -> None:
            super().__init__(ix, limitmb=limitmb, **kwargs)
            self.pool.cleanup()  # type: ignore[has-type]  # Whoosh's own pool, still empty
            self.pool = CompactPool(self._tempstorage, limitmb)
            # what this writer's add_document leaves to Whoosh's: spelling words, term vectors
            self._plain_schema = not any(
                field.vector or field.separate_spelling() for _, field in self.schema.items()
            )

        def add_document(self, **fields: Any) -> None:
            if not self._plain_schema or any(name.startswith("_") for name in fields):
                super().add_document(**fields)  # boosts, custom stored values: Whoosh's own way
                return
            self._check_state()
            schema = self.schema
            docnum = self.docnum
            names = sorted(fields)
            self._check_fields(schema, names)
            perdoc = self.perdocwriter
            perdoc.start_doc(docnum)
            try:
                for name in names:
                    value = fields[name]
                    if value is None:
                        continue
                    field = schema[name]
                    length = self._index(name, field, value, docnum) if field.indexed else 0
                    perdoc.add_field(name, field, value if field.stored else None, length)
                    if field.column_type:
                        perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
            except Exception:
                perdoc.cancel_doc()
                raise
            perdoc.finish_doc()
            self._added = True
            self.docnum += 1

        def _index(self, name: str, field: Any, value: Any, docnum: int) -> int:
            """Pool the postings of one field's value; returns the field's length (its number
            of words, for a scorable field)."""
            found = text_postings(field, value)
            if found is not None:
                self.pool.add_field(name, docnum, found.terms, found.weights, found.values)
                return found.length if field.scorable else 0
            postings = list(field.index(value))
            weights = [weight * 1.0 for _, _, weight, _ in postings]  # times the document's boost, 1
            self.pool.add_field(name, docnum, [p[0] for p in postings], weights, [p[3] for p in postings])
            return sum(freq for _, freq, _, _ in postings) if field.scorable else 0

        def _flush_segment(self) -> None:
            self.perdocwriter.close()
            lengths = self.per_document_reader() if self.codec.length_stats else None
            try:
                self._write_postings(lengths)
            finally:
                self.fieldwriter.close()
                if lengths is not None:
                    lengths.close()

        def _write_postings(self, lengths: Any) -> None:
            writer = self.fieldwriter
            columns: dict[str, list[int]] = {}
            count = self.docnum - self.docbase

            def column(fieldname: str) -> list[int]:
                # Whoosh stores a length in one byte: read back what it stored, once per document
                if lengths is None:
                    return [0] * count
                return [lengths.doc_field_length(docnum, fieldname, 0) for docnum in range(count)]

            field = None
            for (fieldname, btext), entry in self.pool.terms():
                if fieldname != field:
                    if field is not None:
                        writer.finish_field()
                    writer.start_field(fieldname, self.schema[fieldname])
                    field = fieldname
                    if fieldname not in columns:
                        columns[fieldname] = column(fieldname)
                write_term(writer, btext, entry, columns[fieldname])
            if field is not None:
                writer.finish_field()

    return CompactWriter


def batch_item(note: Note) -> bytes:
    """``note`` as a parallel build's workers read it from a batch file: pickled, with only what
    ``build_document`` reads (a cold build's parse workers make these, so the syncing process only
    writes the bytes)."""
    lean = replace(note, frontmatter={}, links=(), tasks=(), fields=(), block_ids=())
    return pickle.dumps((1, lean), protocol=pickle.HIGHEST_PROTOCOL)


def _parallel_writer_class() -> Any:
    from whoosh.multiproc import MpWriter, SubWriterTask

    writer_class = _segment_writer_class()

    class Task(SubWriterTask):
        """A forked worker writing its own segment with a ``CompactWriter``; a batch holds field
        values (``(0, fields)``, Whoosh's form) or notes that it analyses itself (``(1, note)``).
        A job naming a counts file also gets each note's related-notes word counts, taken from
        the same analysis, written there for the parent (``ParallelWriter.count_words``)."""

        def run(self) -> None:
            ix = self.storage.open_index(self.indexname)
            writer = self.writer = writer_class(ix, _lk=False, **self.kwargs)
            while self.running:
                job = self.jobqueue.get()
                if job is None:
                    break
                self._process_file(*job)
            if not self.running:
                writer.cancel()
                return
            fieldnames = writer.pool.fieldnames
            segment = writer._finalize_segment()
            self.resultqueue.put((None, fieldnames, segment), timeout=5)

        def _process_file(self, filename: str, count: int, counts_name: str | None = None) -> None:
            from mdstore.search.coldfeed import document_and_counts
            from mdstore.search.documents import build_document
            from mdstore.search.whoosh_engine import document_fields

            temp = self.writer.temp_storage()
            counted: list[tuple[str, str, Any]] = []
            with temp.open_file(filename).raw_file() as source:
                for _ in range(count):
                    code, value = pickle.load(source)
                    if code == 1 and counts_name is not None:
                        doc, counts = document_and_counts(value)
                        counted.append((value.path, value.hash, counts))
                        fields = document_fields(doc)
                    else:
                        fields = document_fields(build_document(value)) if code == 1 else value
                    self.writer.add_document(**fields)
            if counts_name is not None:
                with temp.create_file(counts_name).raw_file() as out:
                    pickle.dump(counted, out, protocol=pickle.HIGHEST_PROTOCOL)
            temp.delete_file(filename)

    class ParallelWriter(MpWriter):
        """Whoosh's multi-process writer, one segment per worker, its workers ``Task``s. Batches
        are written to files as they come; while ``held`` (a cold build, until the structured
        index is complete) their names wait here instead of going to the workers."""

        held: list[tuple[str, int, str | None]] | None = None
        docbuffer: list[tuple[int, Any] | bytes]
        on_counts: Callable[[list[str], list[str], list[Any]], None] | None = None
        counts_files: list[str]
        sent = 0  # documents and notes given to the workers
        replacing = False  # this commit drops every older segment (CLEAR)

        def _new_task(self) -> Any:
            task = Task(
                self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment
            )
            self.tasks.append(task)
            task.start()
            return task

        def add_note_item(self, item: bytes) -> None:
            """A note as ``batch_item`` pickled it, for the workers to analyse."""
            self.docbuffer.append(item)
            if len(self.docbuffer) >= self.batchsize:
                self._enqueue()
            self._added_sub = True

        def _enqueue(self) -> None:
            from whoosh.util import random_name

            name = f"{random_name()}.doclist"
            with self.temp_storage().create_file(name).raw_file() as out:
                for item in self.docbuffer:
                    if isinstance(item, bytes):  # pickled already (``batch_item``)
                        out.write(item)
                    else:
                        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
            counts_name = None
            if self.on_counts is not None:
                counts_name = f"{name}.counts"
                self.counts_files.append(counts_name)
            job = (name, len(self.docbuffer), counts_name)
            self.sent += len(self.docbuffer)
            self.docbuffer = []
            if self.held is not None:
                self.held.append(job)
            else:
                self.jobqueue.put(job)

        def release(self) -> None:
            """Hand the held batches to the workers and the next ones as they come."""
            held, self.held = self.held or [], None
            for job in held:
                self.jobqueue.put(job)

        def count_words(self, receive: Callable[[list[str], list[str], list[Any]], None]) -> None:
            """Have the workers also compute each note's related-notes word counts; ``receive``
            gets them (paths, hashes, counts) during the commit, once every worker is done."""
            self.on_counts = receive
            self.counts_files = []

        def commit(self, *args: Any, **kwargs: Any) -> None:
            from whoosh.writing import CLEAR

            self.release()
            self.replacing = kwargs.get("mergetype") is CLEAR
            super().commit(*args, **kwargs)

        def _commit_toc(self, segments: Any) -> None:
            # Every worker has finished (MpWriter joined them). Whoosh leaves out the segment of a
            # worker that died without a word; the index would then miss notes for good, under a
            # stamp that says it is complete. So the documents are counted, and the commit fails.
            if self.replacing and self._added_sub:
                written = sum(segment.doc_count_all() for segment in segments)
                if written != self.sent:
                    raise MdstoreError(
                        f"a search index worker process stopped before it finished ({written} of "
                        f"{self.sent} documents written): the search index was left as it was"
                    )
            # The temporary folder, which holds the counts files, is not removed yet: the counts
            # are handed over before the new segments become visible.
            if self.on_counts is not None:
                self._hand_over_counts()
            super()._commit_toc(segments)

        def _hand_over_counts(self) -> None:
            assert self.on_counts is not None
            temp = self.temp_storage()
            paths: list[str] = []
            hashes: list[str] = []
            counts: list[Any] = []
            names, self.counts_files = self.counts_files, []
            for name in names:
                with temp.open_file(name).raw_file() as source:
                    for path, hash_, count in pickle.load(source):
                        paths.append(path)
                        hashes.append(hash_)
                        counts.append(count)
                temp.delete_file(name)
                if len(paths) >= _COUNTS_HANDED:
                    self.on_counts(paths, hashes, counts)
                    paths, hashes, counts = [], [], []
            if paths:
                self.on_counts(paths, hashes, counts)

        def cancel(self) -> None:
            # Nothing the workers write is wanted, and Whoosh's cancel leaves them waiting on their
            # queue: stop them before the index's lock is released to the next writer.
            try:
                for task in self.tasks:
                    task.terminate()
                    task.join(5)
            finally:
                super().cancel()

    return ParallelWriter


class _ChildrenDieWithUs:
    """Whoosh's parallel writer forks worker processes that wait on a queue from this process: if
    this process is killed they would sleep forever (holding memory and, before the fork guard in
    index/lock.py, the vault's lock). While a parallel build runs, forked children ask the kernel
    to kill them when their parent dies (Linux ``PR_SET_PDEATHSIG``)."""

    active = False

    def after_fork_in_child(self) -> None:
        if not self.active:
            return
        if not sys.platform.startswith("linux"):
            return
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


_children_die_with_us = _ChildrenDieWithUs()
os.register_at_fork(after_in_child=_children_die_with_us.after_fork_in_child)


def open_writer(
    backend: WhooshBackend, ix: Any, procs: int = 1, hold: bool = False, pool_mb: int = POOL_LIMIT_MB
) -> Any:
    """A rebuild's writer on ``ix``: ``CompactWriter``, or ``procs`` forked workers of it (which,
    with ``hold``, start indexing only at ``release()`` or the commit)."""
    from multiprocessing import Queue

    from whoosh.index import LockError

    kwargs: dict[str, Any] = {"timeout": LOCK_TIMEOUT, "delay": 0.05, "limitmb": pool_mb}
    _children_die_with_us.active = procs > 1
    try:
        if procs > 1:
            import numpy  # noqa: F401 - loaded before the fork, so the workers (which count words with it) share it

            writer = _parallel_writer_class()(ix, procs=procs, multisegment=True, **kwargs)
            writer.jobqueue = Queue()  # whoosh bounds it at procs * 4 batches
            writer.held = [] if hold else None
            while len(writer.tasks) < writer.procs:
                writer._new_task()
        else:
            writer = _segment_writer_class()(ix, **kwargs)
    except LockError as exc:
        raise IndexBusy(f"another process is writing the search index in {backend.folder}") from exc
    finally:
        _children_die_with_us.active = False
    return writer


class WhooshBuild:
    """One rebuild of a Whoosh index: documents in, one commit (``commit``) or none (``cancel``).

    In parallel, ``procs`` worker processes are forked at once (before the caller starts threads
    of its own) and documents go to them in batch files; their queue of batch names is unbounded,
    so a caller that produces faster than Whoosh indexes never waits (the batches wait on disk,
    not in memory). A parallel build also ``takes_notes``: the workers make the search documents
    themselves, so a cold build's parse workers, on the structured index's path, do not. With
    ``hold`` the workers start at the commit, with every core, once the structured index is done."""

    def __init__(
        self, backend: WhooshBackend, ix: Any, stamp: int, parallel: bool, hold: bool = False
    ) -> None:
        from mdstore.search.whoosh_engine import document_fields, meta_fields

        self._fields = document_fields
        self._meta = meta_fields
        self._stamp = stamp
        self.added = 0
        self.takes_notes = parallel
        self._writer = open_writer(backend, ix, backend.procs if parallel else 1, hold and parallel)

    def count_words(self, receive: Callable[[list[str], list[str], list[Any]], None]) -> None:
        """Have the workers (``takes_notes``) compute each note's related-notes word counts too,
        from the analysis they make for the search document; ``receive(paths, hashes, counts)``
        is called with them during ``commit``, before the new index becomes visible. Call it
        before the first note is added."""
        if not self.takes_notes:
            raise ValueError("only a parallel build's workers count words")
        self._writer.count_words(receive)

    def add_notes(self, notes: Sequence[Note]) -> None:
        """Notes whose search documents the workers make (``takes_notes``)."""
        self.add_batch_items([batch_item(note) for note in notes])

    def add_batch_items(self, items: Sequence[bytes]) -> None:
        """Notes as ``batch_item`` made them (a cold build's parse workers do, ``takes_notes``)."""
        try:
            for item in items:
                self._writer.add_note_item(item)
        except BaseException:
            self.cancel()
            raise
        self.added += len(items)

    def add(self, docs: Sequence[SearchDocument]) -> None:
        try:
            for doc in docs:
                self._writer.add_document(**self._fields(doc))
        except BaseException:
            self.cancel()
            raise
        self.added += len(docs)

    def commit(self) -> None:
        from whoosh.writing import CLEAR

        try:
            self._writer.add_document(**self._meta(self._stamp))
            self._writer.commit(mergetype=CLEAR)
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        try:
            self._writer.cancel()
        except Exception:  # noqa: BLE001 - a writer that already failed has nothing left to release
            pass
