"""In-process retrieval over memory texts (insights, session entries): BM25 over the terms the
vault's search engine indexes, and nearest vectors. Both are updated one document at a time, so a
store or an append costs the same whatever the memory's size (docs/memory.md, *Ranking*).

BM25 is Robertson's (k1 1.2, b 0.75, idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``), the formula
Whoosh's default scorer uses, over ``mdstore.search.analysis.tokens`` (the engine's analyzer).
A document may carry weighted *context* terms besides its own (a session entry: the turns around
it): they add ``weight × count`` to a term's frequency and to the document's length, as a second
field does in BM25F; a document's own terms are what ``terms`` returns and snapshots keep.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

K1 = 1.2
B = 0.75
MIN_SIMILARITY = 0.1


class Corpus:
    """Documents by key: their term counts (an inverted index) and optionally a vector each."""

    def __init__(self) -> None:
        import numpy as np

        self._slot: dict[str, int] = {}
        self._keys: list[str | None] = []
        self._counts: list[Counter[str] | None] = []
        self._context: list[Mapping[str, float] | None] = []
        self._postings: dict[str, tuple[list[int], list[float]]] = {}
        self._arrays: dict[str, tuple[Any, Any]] = {}  # postings as numpy arrays, rebuilt when they grow
        self._lengths = np.zeros(16, dtype=np.float64)
        self._live = np.zeros(16, dtype=bool)
        self._vectors: Any = None
        self._total = 0.0

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def keys(self) -> list[str]:
        return list(self._slot)

    def add(
        self,
        key: str,
        tokens: Sequence[str],
        vector: Any = None,
        context: Mapping[str, float] | None = None,
    ) -> None:
        """Add (or replace) a document: its analysed ``tokens``, its unit ``vector`` and its
        weighted ``context`` terms (term → weighted count)."""
        if key in self._slot:
            self.remove(key)
        slot = len(self._keys)
        self._grow(slot + 1)
        self._keys.append(key)
        self._slot[key] = slot
        counts = Counter(tokens)
        self._counts.append(counts)
        context = {t: w for t, w in (context or {}).items() if w > 0} or None
        self._context.append(context)
        frequencies: dict[str, float] = dict(counts)
        for term, weight in (context or {}).items():
            frequencies[term] = frequencies.get(term, 0.0) + weight
        for term, tf in frequencies.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = ([], [])
            postings[0].append(slot)
            postings[1].append(tf)
            self._arrays.pop(term, None)
        length = len(tokens) + sum((context or {}).values())
        self._lengths[slot] = length
        self._live[slot] = True
        self._total += length
        if vector is not None:
            self.set_vector(key, vector)

    def remove(self, key: str) -> None:
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        self._keys[slot] = None
        self._counts[slot] = None
        self._context[slot] = None
        self._live[slot] = False
        self._total -= float(self._lengths[slot])
        if len(self._keys) > 64 and len(self._slot) * 2 < len(self._keys):
            self._compact()

    def terms(self, key: str) -> list[str]:
        """The document's own terms (in no particular order)."""
        counts = self._counts[self._slot[key]]
        return list(counts.elements()) if counts is not None else []

    def counts(self, key: str) -> Counter[str]:
        """The document's own terms with their counts (not to be changed)."""
        return self._counts[self._slot[key]] or Counter()

    def vectors_of(self, keys: Sequence[str]) -> Any:
        """The vectors of ``keys`` as one array (rows in their order)."""
        return self._vectors[[self._slot[k] for k in keys]]

    def vector(self, key: str) -> Any:
        """The document's vector (a copy), ``None`` when there are no vectors."""
        if self._vectors is None:
            return None
        return self._vectors[self._slot[key]].copy()

    def set_vector(self, key: str, vector: Any) -> None:
        import numpy as np

        slot = self._slot[key]
        row = np.asarray(vector, dtype=np.float32).ravel()
        if self._vectors is None or self._vectors.shape[1] != row.shape[0]:
            self._vectors = np.zeros((len(self._live), row.shape[0]), dtype=np.float32)
        self._vectors[slot] = row

    def set_vectors(self, keys: Sequence[str], matrix: Any) -> None:
        for key, row in zip(keys, matrix, strict=True):
            self.set_vector(key, row)

    def drop_vectors(self) -> None:
        self._vectors = None

    @property
    def has_vectors(self) -> bool:
        return self._vectors is not None

    # -- ranking -------------------------------------------------------------------------------

    def bm25(
        self, terms: Mapping[str, float], limit: int, admit: Callable[[str], bool] | None = None
    ) -> list[str]:
        """The best ``limit`` keys for ``terms`` (term → weight), best first, among those ``admit``
        accepts."""
        import numpy as np

        n = len(self._slot)
        if not n or not terms:
            return []
        average = max(self._total / n, 1.0)
        scores = np.zeros(len(self._keys), dtype=np.float32)
        for term, boost in terms.items():
            found = self._array(term)
            if found is None:
                continue
            slots, tfs = found
            df = int(self._live[slots].sum())
            if not df:
                continue
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            norm = K1 * (1.0 - B + B * self._lengths[slots] / average)
            scores[slots] += (boost * idf) * tfs * (K1 + 1.0) / (tfs + norm)
        scores[~self._live[: len(scores)]] = 0.0
        hit = np.flatnonzero(scores > 0)
        return self._best(hit, scores[hit], limit, admit)

    def nearest(self, query: Any, limit: int, admit: Callable[[str], bool] | None = None) -> list[str]:
        """The ``limit`` keys whose vectors are closest to the unit ``query`` (cosine at least
        ``MIN_SIMILARITY``: a nearly orthogonal vector is no match, only rounding)."""
        import numpy as np

        if self._vectors is None or not self._slot:
            return []
        count = len(self._keys)
        # einsum, not BLAS: a multi-threaded BLAS call on a busy machine stalls for milliseconds.
        sims = np.einsum("ij,j->i", self._vectors[:count], np.asarray(query, dtype=np.float32))
        sims[~self._live[:count]] = 0.0
        hit = np.flatnonzero(sims >= MIN_SIMILARITY)
        return self._best(hit, sims[hit], limit, admit)

    def neighbours(self, query: Any, slots_from: Iterable[str]) -> dict[str, float]:
        """Cosine of ``query`` to the vectors of the given keys (absent keys are left out)."""
        import numpy as np

        if self._vectors is None:
            return {}
        keys = [k for k in slots_from if k in self._slot]
        if not keys:
            return {}
        rows = self._vectors[[self._slot[k] for k in keys]]
        sims = np.einsum("ij,j->i", rows, np.asarray(query, dtype=np.float32))
        return dict(zip(keys, map(float, sims), strict=True))

    # -- internals -----------------------------------------------------------------------------

    def _best(self, slots: Any, scores: Any, limit: int, admit: Callable[[str], bool] | None) -> list[str]:
        """Keys of the best-scored ``slots`` that ``admit`` accepts; equal scores keep slot order
        (the order documents were added), so a ranking is the same on every run."""
        import numpy as np

        out: list[str] = []
        seen: set[int] = set()  # a wider pass may order ties at its old edge differently
        want = limit if admit is None else limit * 4
        done = 0
        while done < len(slots):
            if len(slots) > want:
                part = np.argpartition(-scores, want - 1)[:want]
                part = part[np.lexsort((slots[part], -scores[part]))]
            else:
                part = np.lexsort((slots, -scores))
            for i in part[done:]:
                slot = int(slots[i])
                key = self._keys[slot]
                if key is not None and slot not in seen and (admit is None or admit(key)):
                    seen.add(slot)
                    out.append(key)
                    if len(out) == limit:
                        return out
            done = len(part)
            want = min(want * 8, len(slots))
        return out

    def _array(self, term: str) -> tuple[Any, Any] | None:
        import numpy as np

        found = self._arrays.get(term)
        if found is None:
            postings = self._postings.get(term)
            if postings is None:
                return None
            found = self._arrays[term] = (
                np.asarray(postings[0], dtype=np.int64),
                np.asarray(postings[1], dtype=np.float32),
            )
        return found

    def _grow(self, size: int) -> None:
        import numpy as np

        if size <= len(self._live):
            return
        capacity = max(size, len(self._live) * 2)
        lengths = np.zeros(capacity, dtype=np.float64)
        lengths[: len(self._lengths)] = self._lengths
        live = np.zeros(capacity, dtype=bool)
        live[: len(self._live)] = self._live
        self._lengths, self._live = lengths, live
        if self._vectors is not None:
            vectors = np.zeros((capacity, self._vectors.shape[1]), dtype=np.float32)
            vectors[: len(self._vectors)] = self._vectors
            self._vectors = vectors

    def _compact(self) -> None:
        """Rebuild without the removed documents' slots."""
        kept = [
            (k, c, x, s)
            for s, (k, c, x) in enumerate(zip(self._keys, self._counts, self._context, strict=True))
            if k and c is not None
        ]
        vectors = self._vectors
        self.__init__()  # type: ignore[misc]
        for key, counts, context, slot in kept:
            self.add(key, list(counts.elements()), None if vectors is None else vectors[slot], context)
