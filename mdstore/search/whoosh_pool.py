"""The postings of a Whoosh rebuild, held per term in arrays and written a block at a time.

Whoosh's own writer handles a posting at a time from end to end: the tokenizer makes a token
object per word, the field's format yields a tuple per term, the pool keeps a five-item tuple per
posting, and the codec's postings writer takes them one call each. For a 10k-note vault that is
~7.5M postings (~750 a note), and nearly all of a rebuild's time. Here the text fields mdstore
indexes (already analysed: a regular-expression tokenizer only splits them) are counted in one
pass per field and value (``text_postings``); the pool keeps each term's document numbers,
weights and value bytes in arrays (``CompactPool``); and each term's postings go to the codec's
writer as whole blocks (``write_term``). The bytes written are those Whoosh's writer writes.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import pickle
from array import array
from collections import Counter
from collections.abc import Iterator
from operator import itemgetter
from typing import Any, NamedTuple

POOL_LIMIT_MB = 64  # postings each writer pools in memory before it spills a run to disk
_RUN_BLOCK = 4096  # terms per pickle in a spilled run
_TERM_BYTES = 400  # what a new term costs the pool besides its postings (dict slot, key, arrays)
_POSTING_BYTES = 20  # a posting's term number, document number, weight and value length

Entry = tuple[array, array, bytearray, array]
"""A term's postings: document numbers ('I'), weights ('d'), value bytes end to end, and each
value's length ('I')."""


def _new_entry() -> Entry:
    return array("I"), array("d"), bytearray(), array("I")


_SINGLE_LIMIT = 4096  # positions whose one-position value is kept (most terms occur once a field)


class Postings(NamedTuple):
    """One document's postings in one field: terms, weights, value bytes; and the field's length."""

    terms: list[bytes]
    weights: list[float]
    values: list[bytes]
    length: int


def text_postings(field: Any, value: Any) -> Postings | None:
    """What ``field.index(value)`` gives, computed without Whoosh's token objects, for a string
    value of a field whose analyzer is a plain ``RegexTokenizer`` and whose format counts
    frequencies or positions; None for anything else (the caller then asks the field)."""
    from whoosh.analysis import RegexTokenizer
    from whoosh.formats import Frequency, Positions

    analyzer = field.analyzer
    kind = type(field.format)
    if (
        not isinstance(value, str)
        or type(analyzer) is not RegexTokenizer
        or analyzer.gaps
        or analyzer.expression.groups
        or kind not in (Frequency, Positions)
    ):
        return None
    boost = field.format.field_boost
    words = analyzer.expression.findall(value)
    counts = Counter(words)
    terms = [word.encode("utf-8") for word in counts]
    weights = [float(n) * boost for n in counts.values()]
    if kind is Frequency:
        return Postings(terms, weights, list(map(_pack_uint(), counts.values())), len(words))
    # Positions: the deltas between a term's positions, pickled; a term that occurs once (most)
    # has one position, whose encoding is made once per writer process
    first = dict(zip(reversed(words), range(len(words) - 1, -1, -1), strict=True))
    repeated: dict[str, list[int]] = {word: [] for word, n in counts.items() if n > 1}
    if repeated:
        for pos, word in enumerate(words):
            found = repeated.get(word)
            if found is not None:
                found.append(pos)
    values = [
        _encode_positions(repeated[word]) if n > 1 else _one_position(first[word])
        for word, n in counts.items()
    ]
    return Postings(terms, weights, values, len(words))


@functools.cache
def _pack_uint() -> Any:
    from whoosh.system import pack_uint

    return pack_uint


def _encode_positions(positions: list[int]) -> bytes:
    """Whoosh's ``Positions.encode``: the count, then the pickled deltas."""
    deltas = [positions[0], *[b - a for a, b in zip(positions, positions[1:], strict=False)]]
    return bytes(_pack_uint()(len(deltas)) + pickle.dumps(deltas, 2))


@functools.lru_cache(maxsize=_SINGLE_LIMIT)
def _one_position(position: int) -> bytes:
    return _encode_positions([position])


class _FieldLog:
    """One field's postings in the order they came (document by document), each term numbered
    once: appending a document's postings is a few C-level ``extend`` calls, and the term-major
    order Whoosh writes is made once, by sorting (``invert``)."""

    def __init__(self) -> None:
        self.numbers: dict[bytes, int] = {}
        self.counter = itertools.count()  # a term keeps the first number it drew (gaps are fine)
        self.terms = array("I")  # numbers stay below 2**32: a log is emptied when the pool spills
        self.docnums = array("I")
        self.weights = array("d")
        self.values = bytearray()
        self.lengths = array("I")

    def add(self, docnum: int, terms: list[bytes], weights: list[float], values: list[bytes]) -> int:
        """Append one document's postings; returns the bytes they added to the log."""
        before = len(self.numbers)
        self.terms.extend(map(self.numbers.setdefault, terms, self.counter))
        self.docnums.extend(itertools.repeat(docnum, len(terms)))
        self.weights.extend(weights)
        joined = b"".join(values)
        self.values += joined
        self.lengths.extend(map(len, values))
        added = len(self.numbers) - before
        return _POSTING_BYTES * len(terms) + len(joined) + _TERM_BYTES * added

    def invert(self) -> Iterator[tuple[bytes, Entry]]:
        """Every term with its postings in document order, sorted by term. The log is let go
        once its postings are sorted: besides the sorted copy, only one term's arrays at a time
        are made, and the values are gathered a slice at a time (their index takes 8 bytes a byte)."""
        import numpy as np

        ordered = sorted(self.numbers.items(), key=itemgetter(0))
        self.numbers = {}
        rank = np.zeros(len(ordered) and max(number for _, number in ordered) + 1, dtype=np.int32)
        rank[np.fromiter((number for _, number in ordered), dtype=np.int64, count=len(ordered))] = np.arange(
            len(ordered), dtype=np.int32
        )
        keys = rank[np.frombuffer(self.terms, dtype=np.uint32)]
        del rank
        self.terms = array("I")
        order = np.argsort(keys, kind="stable")  # a term's postings keep their document order
        per_term = np.bincount(keys, minlength=len(ordered)).tolist()
        del keys
        docnums = np.frombuffer(self.docnums, dtype=np.uint32)[order].tobytes()
        self.docnums = array("I")
        weights = np.frombuffer(self.weights, dtype=np.float64)[order].tobytes()
        self.weights = array("d")
        lengths_in = np.frombuffer(self.lengths, dtype=np.uint32)
        lengths = lengths_in[order]
        values = _gathered(np.frombuffer(self.values, dtype=np.uint8), lengths_in, order, lengths)
        del lengths_in, order
        self.lengths = array("I")
        self.values = bytearray()
        lengths_bytes = lengths.tobytes()
        ends = np.cumsum(lengths, dtype=np.int64)  # not a list: a Python int a posting costs 36 bytes
        del lengths
        at = 0
        value_at = 0
        for (btext, _), count in zip(ordered, per_term, strict=True):
            if not count:
                continue
            stop = at + count
            value_stop = int(ends[stop - 1])
            entry = _new_entry()
            entry[0].frombytes(docnums[4 * at : 4 * stop])
            entry[1].frombytes(weights[8 * at : 8 * stop])
            entry[2].extend(values[value_at:value_stop])
            entry[3].frombytes(lengths_bytes[4 * at : 4 * stop])
            yield btext, entry
            at, value_at = stop, value_stop


_GATHER = 1 << 15  # postings whose value bytes are gathered at a time (their index: 8 bytes a byte)


def _gathered(data: Any, lengths_in: Any, order: Any, lengths: Any) -> bytes:
    """The values (``data``, each ``lengths_in`` long, end to end) in ``order``."""
    import numpy as np

    if not len(order):
        return b""
    if int(lengths_in.min()) == int(lengths_in.max()):  # one size: rows of a matrix
        width = int(lengths_in[0])
        return data.reshape(-1, width)[order].tobytes() if width else b""
    starts = np.cumsum(lengths_in, dtype=np.int64) - lengths_in
    parts = []
    for first in range(0, len(order), _GATHER):
        sizes = lengths[first : first + _GATHER].astype(np.int64)
        before = np.cumsum(sizes) - sizes
        shift = np.repeat(starts[order[first : first + _GATHER]] - before, sizes)
        parts.append(data[np.arange(int(sizes.sum()), dtype=np.int64) + shift].tobytes())
    return b"".join(parts)


class CompactPool:
    """Whoosh's posting pool (``add``, ``fieldnames``, ``cleanup``) keeping each field's postings
    in arrays (``_FieldLog``); ``add_field`` takes one document's postings of one field at once.
    ``terms()`` gives them back sorted by (field, term), postings in document order (documents
    are numbered in the order they are added)."""

    def __init__(self, tempstore: Any, limitmb: int = POOL_LIMIT_MB) -> None:
        self.fieldnames: set[str] = set()
        self._tempstore = tempstore
        self._limit = limitmb * 1024 * 1024
        self._fields: dict[str, _FieldLog] = {}
        self._size = 0
        self._runs: list[str] = []

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        fieldname, btext, docnum, weight, value = item
        self.add_field(fieldname, docnum, [btext], [weight], [value or b""])

    def add_field(
        self, fieldname: str, docnum: int, terms: list[bytes], weights: list[float], values: list[bytes]
    ) -> None:
        """One document's postings in ``fieldname``: its terms, their weights and value bytes."""
        if not terms:
            return
        log = self._fields.get(fieldname)
        if log is None:
            log = self._fields[fieldname] = _FieldLog()
            self.fieldnames.add(fieldname)
        self._size += log.add(docnum, terms, weights, values)
        if self._size > self._limit:
            self._spill()

    def _sorted(self) -> Iterator[tuple[tuple[str, bytes], Entry]]:
        """The pooled terms sorted by (field, term), made as they are taken; the pool is empty."""
        fields, self._fields = self._fields, {}
        self._size = 0
        for fieldname in sorted(fields):
            log = fields.pop(fieldname)
            for btext, entry in log.invert():
                yield (fieldname, btext), entry

    def _spill(self) -> None:
        """Write the pooled terms, sorted, as one run of blocks, and start an empty pool."""
        from whoosh.util import random_name

        name = f"{random_name()}.cpool"
        items = self._sorted()
        with self._tempstore.create_file(name).raw_file() as out:
            while block := list(itertools.islice(items, _RUN_BLOCK)):
                pickle.dump(block, out, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(name)

    def _read_run(self, name: str) -> Iterator[tuple[tuple[str, bytes], Entry]]:
        with self._tempstore.open_file(name).raw_file() as source:
            while True:
                try:
                    block = pickle.load(source)
                except EOFError:
                    break
                yield from block
        self._tempstore.delete_file(name)

    def terms(self) -> Iterator[tuple[tuple[str, bytes], Entry]]:
        """Every ``((field, term), postings)``, sorted; the runs are read back as merged. Runs
        are older than the pool and hold lower document numbers, and ``heapq.merge`` keeps the
        order of its sources for equal terms, so a term's postings stay in document order."""
        current = self._sorted()
        runs, self._runs = self._runs, []
        if not runs:
            yield from current
            return
        sources = [self._read_run(name) for name in runs] + [current]
        merged = heapq.merge(*sources, key=itemgetter(0))
        for key, group in itertools.groupby(merged, key=itemgetter(0)):
            parts = [entry for _, entry in group]
            if len(parts) == 1:
                yield key, parts[0]
                continue
            joined = _new_entry()
            for part in parts:
                for mine, theirs in zip(joined, part, strict=True):
                    mine.extend(theirs)
            yield key, joined

    def cleanup(self) -> None:
        self._fields = {}
        self._size = 0
        for name in self._runs:
            try:
                self._tempstore.delete_file(name)
            except OSError:
                pass
        self._runs = []


def write_term(fieldwriter: Any, btext: bytes, entry: Entry, doclengths: list[int]) -> None:
    """One term's postings to Whoosh's field writer a block at a time, leaving the postings
    writer in the state its ``add_posting`` would have left it in, posting by posting: full blocks
    of ``blocklimit`` postings written as the next one arrives, the last one by ``finish_term``."""
    docnums, weights, values, lengths = entry
    fieldwriter.start_term(btext)
    writer = fieldwriter._postwriter
    size = writer._format.fixed_value_size()
    data = bytes(values)
    if size == 0:
        split: list[bytes] = []
    elif size is not None and size > 0 and len(data) == size * len(docnums):
        split = []  # joined per block below: what the codec makes of a fixed-size list
    else:
        ends = list(itertools.accumulate(lengths))
        split = [data[end - length : end] for end, length in zip(ends, lengths, strict=True)]
    limit = writer._blocklimit
    total = len(docnums)
    for start in range(0, total, limit):
        end = min(start + limit, total)
        if start:
            writer._write_block()
        block_weights = weights[start:end]
        writer._ids = docnums[start:end]
        writer._weights = array("f", block_weights)
        if size == 0:
            writer._values = []
        elif split:
            writer._values = [value for value in split[start:end] if value]
        else:
            writer._values = [data[start * size : end * size]]
        heaviest = max(block_weights)
        writer._maxweight = heaviest if heaviest > 0 else 0
        block_lengths = [length for length in map(doclengths.__getitem__, docnums[start:end]) if length]
        writer._minlength = min(block_lengths) if block_lengths else None
        writer._maxlength = max(block_lengths) if block_lengths else 0
    fieldwriter.finish_term()
