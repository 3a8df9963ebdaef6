"""The related-notes model's vectors, stored term-major: one posting list per word (the notes that
have it, in row order, and their weights), so a query reads the posting lists of its own words
instead of every note's vector — its cost follows how common its words are, not the whole matrix.

Words are numbered by their place in the model's *vocabulary* (the sorted hashed columns that have a
weight). Each note's own word numbers are kept too (2 bytes a word while the vocabulary has at most
65,536 words), so a note's vector is read back from the posting lists by a binary search per word,
never by a pass over them. Memory: 8 bytes a (note, word) pair plus those 2 (or 4) — against 8 for
the note-major matrix this replaces, which a query had to read in full.
"""

from __future__ import annotations

from typing import Any

_SMALL_TERMS = 1 << 16  # vocabularies up to this size number a note's words in 2 bytes


def _term_dtype(vocab_size: int) -> Any:
    import numpy as np

    return np.uint16 if vocab_size <= _SMALL_TERMS else np.int32


class Postings:
    """Vectors of ``n_rows`` notes over ``vocab`` (sorted int32 hashed columns), term-major."""

    def __init__(self, vocab: Any, indptr: Any, rows: Any, data: Any, row_ptr: Any, row_terms: Any) -> None:
        from scipy import sparse

        self.vocab = vocab
        self.indptr, self.rows, self.data = indptr, rows, data
        self.row_ptr, self.row_terms = row_ptr, row_terms
        self.n_rows = len(row_ptr) - 1
        self._columns = sparse.csc_matrix((data, rows, indptr), shape=(self.n_rows, len(vocab)))

    @classmethod
    def from_arrays(cls, arrays: Any) -> Postings:
        names = ("vocab", "indptr", "rows", "data", "row_ptr", "row_terms")
        return cls(*(arrays[name] for name in names))

    def arrays(self) -> dict[str, Any]:
        return {
            "vocab": self.vocab, "indptr": self.indptr, "rows": self.rows, "data": self.data,
            "row_ptr": self.row_ptr, "row_terms": self.row_terms,
        }  # fmt: skip

    @property
    def nnz(self) -> int:
        return len(self.rows)

    # -- queries ------------------------------------------------------------------------------

    def row(self, row: int) -> tuple[Any, Any]:
        """The vector of ``row``: its word numbers (ascending) and weights (float32)."""
        import numpy as np

        terms = self.row_terms[self.row_ptr[row] : self.row_ptr[row + 1]].astype(np.int64)
        lo, hi = self.indptr[terms].astype(np.int64), self.indptr[terms + 1].astype(np.int64)
        while True:  # one binary search per word, all words at once: the row in each posting list
            open_ = lo < hi
            if not open_.any():
                break
            mid = (lo + hi) // 2
            below = open_ & (self.rows[np.minimum(mid, self.nnz - 1)] < row)
            lo = np.where(below, mid + 1, lo)
            hi = np.where(open_ & ~below, mid, hi)
        return terms, self.data[lo]

    def scores(self, terms: Any, weights: Any) -> Any:
        """Every row's dot product with the vector (``terms``, ``weights``), float32: only the
        posting lists of ``terms`` are read."""
        import numpy as np

        if self.n_rows == 0 or len(terms) == 0:
            return np.zeros(self.n_rows, dtype=np.float32)
        return self._columns[:, terms] @ np.asarray(weights, dtype=np.float32)

    def terms_of(self, columns: Any) -> Any:
        """Vocabulary numbers of hashed ``columns`` that are all in the vocabulary."""
        import numpy as np

        return np.searchsorted(self.vocab, columns)

    # -- changes ------------------------------------------------------------------------------

    def select(self, keep: Any) -> Postings:
        """Only the rows where ``keep`` (bool, one per row) is true, renumbered in their order."""
        import numpy as np

        if keep.all():
            return self
        entry_keep = keep[self.rows]
        gone = np.flatnonzero(~entry_keep)
        gone_columns = np.searchsorted(self.indptr, gone, side="right") - 1
        removed = np.zeros(len(self.indptr), dtype=np.int64)
        np.cumsum(np.bincount(gone_columns, minlength=len(self.vocab)), out=removed[1:])
        indptr = (self.indptr - removed).astype(self.indptr.dtype)
        renumber = (np.cumsum(keep) - 1).astype(np.int32)
        rows = renumber[self.rows[entry_keep]]
        lengths = np.diff(self.row_ptr)
        row_ptr = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
        np.cumsum(lengths[keep], out=row_ptr[1:])
        row_terms = self.row_terms[np.repeat(keep, lengths)]
        return Postings(self.vocab, indptr, rows, self.data[entry_keep], row_ptr, row_terms)

    def append(self, new: Any) -> Postings:
        """These rows followed by ``new`` (a CSR matrix over the vocabulary's numbers)."""
        import numpy as np

        if new.shape[0] == 0:
            return self
        added = new.tocsc()
        added.sort_indices()
        counts = np.diff(added.indptr)
        indptr = self.indptr.astype(np.int64) + added.indptr
        # a posting list keeps its rows in order: the new rows (numbered last) go at its end
        at = np.repeat(indptr[1:] - counts - added.indptr[:-1], counts) + np.arange(added.nnz)
        old = np.ones(indptr[-1], dtype=bool)
        old[at] = False
        rows = np.empty(indptr[-1], dtype=np.int32)
        data = np.empty(indptr[-1], dtype=np.float32)
        rows[old], data[old] = self.rows, self.data
        rows[at], data[at] = added.indices + self.n_rows, added.data
        row_ptr = np.concatenate([self.row_ptr, self.row_ptr[-1] + new.indptr[1:]])
        row_terms = np.concatenate([self.row_terms, new.indices.astype(self.row_terms.dtype)])
        return Postings(self.vocab, indptr.astype(self.indptr.dtype), rows, data, row_ptr, row_terms)


class PostingsWriter:
    """Postings written a chunk of rows at a time into arrays sized once from the number of rows
    each word will have (``counts``): no copy of the whole is ever made."""

    def __init__(self, vocab: Any, counts: Any) -> None:
        import numpy as np

        self._vocab = vocab
        total = int(counts.sum())
        self._indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(counts, out=self._indptr[1:])
        self._fill = self._indptr[:-1].copy()
        self._rows = np.empty(total, dtype=np.int32)
        self._data = np.empty(total, dtype=np.float32)
        self._terms = np.empty(total, dtype=_term_dtype(len(vocab)))
        self._lengths: list[Any] = []
        self._n = 0
        self._written = 0

    def add(self, chunk: Any) -> None:
        """Rows of ``chunk`` (a CSR matrix over the vocabulary's numbers), after those added."""
        import numpy as np

        columns = chunk.tocsc()
        columns.sort_indices()
        counts = np.diff(columns.indptr)
        at = np.repeat(self._fill - columns.indptr[:-1], counts) + np.arange(columns.nnz)
        self._rows[at] = columns.indices + self._n
        self._data[at] = columns.data
        self._fill += counts
        self._terms[self._written : self._written + chunk.nnz] = chunk.indices
        self._written += chunk.nnz
        self._lengths.append(np.diff(chunk.indptr))
        self._n += chunk.shape[0]

    def finish(self) -> Postings:
        import numpy as np

        if not np.array_equal(self._fill, self._indptr[1:]):
            raise ValueError("the rows added do not match the word counts the postings were sized for")
        row_ptr = np.zeros(self._n + 1, dtype=np.int64)
        if self._lengths:
            np.cumsum(np.concatenate(self._lengths), out=row_ptr[1:])
        index = np.int32 if self._indptr[-1] < 2**31 else np.int64
        return Postings(self._vocab, self._indptr.astype(index), self._rows, self._data, row_ptr, self._terms)
