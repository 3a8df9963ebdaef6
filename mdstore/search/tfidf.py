"""Related notes: a TF-IDF model of the vault (scikit-learn's formulas, numpy/scipy matrices),
kept in a folder the caller gives.

Words are hashed into ``N_FEATURES`` columns (``term_counts``, stateless: worker processes compute
it while they parse), so a model is built a chunk of notes at a time (``builder``): each chunk's
counts are added and the document frequencies summed, and the IDF is known once every note has
been seen — the corpus is never held. Columns whose document frequency is below 2 or above half the
notes get no weight (an IDF of 0), as a vocabulary cut-off would. ``update`` re-vectorises only the
changed notes with that IDF (cheap; new words wait for the next fit) and counts the drift;
``refit_due`` says when enough has changed that a fit is worth it. Vectors are L2-normalised, so a
dot product is the cosine similarity. They are kept term-major (``postings``): a query reads only
the posting lists of its own words, and the scores are exactly those of a pass over every vector.

On disk (no pickle): ``model.npz`` — the postings, the IDF's non-zero columns, the paths and the
counters — replaced atomically, so a reader sees one whole model or the previous one.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from mdstore.errors import NoteNotFound
from mdstore.notes.model import Note
from mdstore.search.analysis import tokens
from mdstore.search.postings import Postings, PostingsWriter

FORMAT_VERSION = 3  # 3: term-major postings (2: a note-major matrix)
MODEL_FILE = "model.npz"
SCORE_DIGITS = 6  # scores are rounded so that equal similarities tie exactly and order by path
SMALL_VAULT = 50  # below this many notes keep every word: document-frequency cut-offs would empty it
N_FEATURES = 1 << 20  # hashed columns: a million, so that words seldom share one
# A build joins its chunks' counts into blocks of this many words: glibc gives an array of 32 MB
# or more back to the system when it is freed, so the blocks let go while the model is written
# leave room for it instead of staying in the heap beside it.
_BLOCK = 1 << 23
_WEIGH_ROWS = 2000
_MASK = N_FEATURES - 1

Counts = tuple[Any, Any]
"""A note's hashed words: numpy arrays of the sorted column numbers (int32) and their sublinear
term frequencies, 1 + ln tf (float32)."""


def note_text(note: Note) -> str:
    """What the model reads of a note: the title counts twice, then aliases, tags, headings, body."""
    parts = [note.title, note.title, *note.aliases, *note.tags, *(h.text for h in note.headings), note.body]
    return "\n".join(parts)


def text_counts(text: str) -> Counts:
    """The hashed, sublinear term frequencies of ``text`` (crc32: the same in every process)."""
    return token_counts(tokens(text))


def token_counts(terms: Sequence[str]) -> Counts:
    """``text_counts`` of a text whose ``tokens`` are ``terms`` (in any order)."""
    import numpy as np

    hashed = np.fromiter(map(_column, terms), dtype=np.int32, count=len(terms))
    columns, tf = np.unique(hashed, return_counts=True)  # words sharing a column: one count
    return columns, (1.0 + np.log(tf.astype(np.float32))).astype(np.float32)


@lru_cache(maxsize=200_000)
def _column(token: str) -> int:
    """The hashed column of a word (crc32: the same in every process)."""
    return zlib.crc32(token.encode("utf-8")) & _MASK


def term_counts(note: Note) -> Counts:
    return text_counts(note_text(note))


def _matrix(rows: Sequence[Counts]) -> Any:
    """A CSR matrix of ``rows`` (float32: half the memory while a build holds them)."""
    import numpy as np
    from scipy import sparse

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(columns) for columns, _ in rows], out=indptr[1:])
    if not rows:
        return sparse.csr_matrix((0, N_FEATURES), dtype=np.float32)
    indices = np.concatenate([columns for columns, _ in rows]).astype(np.int32, copy=False)
    data = np.concatenate([values for _, values in rows]).astype(np.float32, copy=False)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), N_FEATURES))


def _weighted(counts: Any, idf: Any, vocab: Any) -> Any:
    """Rows of sublinear counts → TF-IDF, L2-normalised, float32, as a CSR matrix over the numbers
    of ``vocab`` (the columns with a weight; the others are dropped)."""
    import numpy as np
    from scipy import sparse

    n = counts.shape[0]
    kept = idf[counts.indices] > 0
    columns = counts.indices[kept]
    values = counts.data[kept] * idf[columns]
    ends = np.concatenate([[0], np.cumsum(kept)])[counts.indptr]
    lengths = np.diff(ends)
    norms = np.sqrt(np.bincount(np.repeat(np.arange(n), lengths), weights=values * values, minlength=n))
    norms[norms == 0] = 1.0
    values = (values / np.repeat(norms, lengths)).astype(np.float32)
    if len(columns) < len(vocab):
        terms = np.searchsorted(vocab, columns).astype(np.int32)
    else:  # a lookup table: cheaper than a binary search per word for a chunk of notes
        table = np.zeros(N_FEATURES, dtype=np.int32)
        table[vocab] = np.arange(len(vocab), dtype=np.int32)
        terms = table[columns]
    return sparse.csr_matrix((values, terms, ends.astype(np.int64)), shape=(n, len(vocab)))


class ModelBuild:
    """A model fitted a chunk of notes at a time: ``add`` each chunk, then ``commit`` (or drop it;
    nothing is written before ``commit``). Memory: the counts of the notes added so far, which is
    about the size of the model itself, and the model takes their place as it is written."""

    def __init__(self, model: TfidfModel, stamp: int | None) -> None:
        import numpy as np

        self._model = model
        self._stamp = stamp
        self._chunks: list[Any] = []  # blocks of at least _BLOCK words, then the newest chunks
        self._small = 0  # chunks at the end of _chunks not joined into a block yet
        self._paths: list[str] = []
        self._hashes: list[str] = []
        self._df = np.zeros(N_FEATURES, dtype=np.int64)

    def add(self, notes: Sequence[Note], counts: Sequence[Counts | None] | None = None) -> None:
        """Add ``notes``; ``counts[i]`` is ``term_counts(notes[i])`` when already computed."""
        if not notes:
            return
        rows = [
            given if given is not None else term_counts(note)
            for note, given in zip(notes, counts or [None] * len(notes), strict=True)
        ]
        self.add_counts([note.path for note in notes], [note.hash for note in notes], rows)

    def add_counts(self, paths: Sequence[str], hashes: Sequence[str], rows: Sequence[Counts]) -> None:
        """Add the notes at ``paths`` (with these content hashes) by their ``term_counts``."""
        import numpy as np

        if not rows:
            return
        chunk = _matrix(rows)
        self._df += np.bincount(chunk.indices, minlength=N_FEATURES)
        self._chunks.append(chunk)
        self._small += 1
        recent = self._chunks[-self._small :]
        if sum(c.nnz for c in recent) >= _BLOCK:
            from scipy import sparse

            self._chunks[-self._small :] = [sparse.vstack(recent, format="csr")]
            self._small = 0
        self._paths += paths
        self._hashes += hashes

    def commit(self) -> None:
        import numpy as np

        total = len(self._paths)
        df = self._df
        if total >= SMALL_VAULT:
            keep = (df >= 2) & (df <= 0.5 * total)
        else:
            keep = df >= 1
        idf = np.zeros(N_FEATURES, dtype=np.float64)
        idf[keep] = np.log((1.0 + total) / (1.0 + df[keep])) + 1.0  # smooth IDF, as scikit-learn's
        vocab = np.flatnonzero(keep).astype(np.int32)
        writer = PostingsWriter(vocab, df[vocab])
        chunks, self._chunks, self._small = self._chunks, [], 0
        while chunks:  # each block's counts are let go once written: memory stays ~1x the model
            block = chunks.pop(0)
            for start in range(0, block.shape[0], _WEIGH_ROWS):  # weighing makes copies: a few rows at a time
                writer.add(_weighted(block[start : start + _WEIGH_ROWS], idf, vocab))
            del block
        self._model._install(writer.finish(), idf, self._paths, self._hashes, self._stamp)


class TfidfModel:
    """TF-IDF vectors of the notes, persisted in ``folder``."""

    def __init__(
        self, folder: Path, *, refit_ratio: float = 0.2, refit_min: int = 20, save_interval: float = 0.0
    ) -> None:
        self.folder = Path(folder)
        self.refit_ratio = refit_ratio
        self.refit_min = refit_min
        # Rewriting the whole model (~20 MB at 10k notes) on every edit costs more than the edit;
        # with an interval, updates are saved at most that often and by flush(). A save that never
        # happens (a crash) only leaves an older stamp on disk, which the caller repairs.
        self.save_interval = save_interval
        self._dirty = False
        self._last_save = 0.0
        self._loaded_mtime: int | None = None
        self._clear()

    def _clear(self) -> None:
        self._vectors: Postings | None = None  # one row per path
        self._paths: list[str] = []
        self._rows: dict[str, int] = {}
        self._idf: Any = None  # N_FEATURES weights, 0 for the columns cut off
        self._hashes: list[str] = []  # Note.hash per row, parallel to _paths
        self._stamp: int | None = None
        self._fitted_count = 0
        self._drift = 0

    # -- state --------------------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        self._load()
        return self._vectors is not None

    @property
    def drift(self) -> int:
        """Notes added, changed or deleted since the last fit."""
        self._load()
        return self._drift

    @property
    def refit_due(self) -> bool:
        """Whether enough changed since the last fit (or there was none) that ``fit`` should run."""
        self._load()
        if self._vectors is None:
            return True
        return self._drift >= max(self.refit_min, self.refit_ratio * self._fitted_count)

    def stamp(self) -> int | None:
        """The caller's stamp saved with the last ``fit``/``update`` (``None`` if none was given)."""
        self._load()
        return self._stamp

    def hashes(self) -> dict[str, str]:
        """``path → Note.hash`` of every note in the model (to repair only what differs)."""
        self._load()
        return dict(zip(self._paths, self._hashes, strict=True))

    def __len__(self) -> int:
        self._load()
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        self._load()
        return path in self._rows

    # -- vectors ------------------------------------------------------------------------------

    def _vectorize(self, texts: Sequence[str]) -> Any:
        """Rows for ``texts`` with the fitted IDF: sublinear TF × IDF, L2-normalised."""
        assert self._vectors is not None
        return _weighted(_matrix([text_counts(text) for text in texts]), self._idf, self._vectors.vocab)

    def builder(self, stamp: int | None = None) -> ModelBuild:
        """A fit fed a chunk of notes at a time (``ModelBuild``): the corpus is never held."""
        return ModelBuild(self, stamp)

    def fit(self, notes: Iterable[Note], stamp: int | None = None) -> None:
        """Learn the IDF from ``notes`` (the whole vault) and vectorise them; ``stamp`` is saved
        with the model in the same file. A path given twice counts once (the last one)."""
        build = self.builder(stamp)
        build.add(sorted({note.path: note for note in notes}.values(), key=lambda n: n.path))
        build.commit()

    def _install(
        self, vectors: Postings, idf: Any, paths: list[str], hashes: list[str], stamp: int | None
    ) -> None:
        """A freshly fitted model replaces this one and is saved."""
        self._clear()
        self._vectors, self._idf = vectors, idf
        self._paths, self._hashes, self._stamp = paths, hashes, stamp
        self._rows = {path: i for i, path in enumerate(paths)}
        self._fitted_count = len(paths)
        try:
            self._save()
        except BaseException:
            # Not saved, so not fitted: the files (if any) are read again, and their stamp tells
            # the next sync to fit the model again.
            self._clear()
            self._loaded_mtime = None
            raise

    def update(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int | None = None) -> None:
        """Re-vectorise ``upserts`` and drop ``deletes`` with the current vocabulary (no refit);
        ``stamp`` is saved with the model in the same file."""
        import numpy as np

        self._load()
        if self._vectors is None:
            raise NoteNotFound("the related-notes model has not been fitted yet: call fit() first")
        gone = set(deletes) | {note.path for note in upserts}
        keep = [i for i, path in enumerate(self._paths) if path not in gone]
        fresh = {note.path: note for note in upserts}
        kept_paths = [self._paths[i] for i in keep]
        new_rows = self._vectorize([note_text(fresh[p]) for p in fresh])
        mask = np.zeros(len(self._paths), dtype=bool)
        mask[keep] = True
        self._vectors = self._vectors.select(mask).append(new_rows)
        self._paths = kept_paths + list(fresh)
        self._hashes = [self._hashes[i] for i in keep] + [note.hash for note in fresh.values()]
        self._stamp = stamp
        self._rows = {path: i for i, path in enumerate(self._paths)}
        self._drift += len(fresh) + len([p for p in set(deletes) if p not in fresh])
        self._dirty = True
        if time.monotonic() - self._last_save >= self.save_interval:
            self._save()

    def flush(self) -> None:
        """Save updates that the save interval held back."""
        if self._dirty and self._vectors is not None:
            self._save()

    # -- queries ------------------------------------------------------------------------------

    def _ranked(self, terms: Any, weights: Any, k: int, exclude: Collection[str]) -> list[tuple[str, float]]:
        import numpy as np

        if self._vectors is None or self._vectors.n_rows == 0 or k <= 0:
            return []
        scores = self._vectors.scores(terms, weights).round(SCORE_DIGITS)
        want = k + len(exclude)
        if want < len(scores):
            # every row scoring at least the want-th best: ties at the cut all stay, so the
            # order by path below does not depend on where a row sits in the matrix
            cut = np.partition(scores, len(scores) - want)[len(scores) - want]
            rows = np.flatnonzero(scores >= max(cut, np.float32(1e-12)))
        else:
            rows = np.flatnonzero(scores > 0)
        found = [(float(scores[row]), self._paths[row]) for row in rows]
        found = [(score, path) for score, path in found if score > 0.0 and path not in exclude]
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(path, score) for score, path in found[:k]]

    def related(self, path: str, k: int = 10, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        """The ``k`` notes most similar to the note at ``path`` (not itself), best first, ties by path."""
        self._load()
        if path not in self._rows:
            raise NoteNotFound(f"{path} is not in the related-notes model")
        assert self._vectors is not None
        terms, weights = self._vectors.row(self._rows[path])
        return self._ranked(terms, weights, k, {path, *exclude})

    def similar(self, text: str, k: int = 10, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        """The ``k`` notes most similar to ``text``, best first, ties by path."""
        self._load()
        if self._vectors is None:
            return []
        vector = self._vectorize([text])
        return self._ranked(vector.indices, vector.data, k, set(exclude))

    # -- files --------------------------------------------------------------------------------

    def _replace(self, target: Path, write: Any) -> None:
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)

    def _save(self) -> None:
        import numpy as np

        self.folder.mkdir(parents=True, exist_ok=True)
        assert self._vectors is not None
        arrays = {
            **self._vectors.arrays(),
            "idf_values": self._idf[self._vectors.vocab],
            "paths": np.asarray(self._paths, dtype=str),
            "hashes": np.asarray(self._hashes, dtype=str),
            "stamp": np.asarray(-1 if self._stamp is None else self._stamp, dtype=np.int64),
            "counters": np.asarray([FORMAT_VERSION, self._fitted_count, self._drift], dtype=np.int64),
        }
        self._replace(self.folder / MODEL_FILE, lambda h: np.savez(h, **arrays))
        self._loaded_mtime = (self.folder / MODEL_FILE).stat().st_mtime_ns
        self._dirty = False
        self._last_save = time.monotonic()
        for old in self.folder.glob("vocabulary-*.json"):  # the files of an earlier format
            old.unlink(missing_ok=True)

    def _load(self) -> None:
        """Read the files if another process (or nobody yet) changed them since the last read."""
        try:
            mtime = (self.folder / MODEL_FILE).stat().st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):  # no model (its folder may be a file)
            if self._loaded_mtime is not None:
                self._clear()
                self._loaded_mtime = None
            return
        if mtime == self._loaded_mtime or self._dirty:
            return  # unchanged, or ours is newer than the file until flush()
        import numpy as np

        self._clear()
        self._loaded_mtime = mtime
        try:
            with np.load(self.folder / MODEL_FILE, allow_pickle=False) as files:
                version, fitted_count, drift = (int(x) for x in files["counters"])
                if version != FORMAT_VERSION:
                    return  # an older format: not fitted, the caller refits
                vectors = Postings.from_arrays(files)
                idf = np.zeros(N_FEATURES, dtype=np.float64)
                idf[vectors.vocab] = files["idf_values"]
                paths = [str(p) for p in files["paths"]]
                # files of an earlier mdstore lack these: no hashes and no stamp mean "repair by refit"
                hashes = [str(h) for h in files["hashes"]] if "hashes" in files else [""] * len(paths)
                stamp = int(files["stamp"]) if "stamp" in files else -1
        except (OSError, ValueError, KeyError):  # damaged or half-written by a crashed version: refit
            return
        self._idf, self._vectors, self._paths = idf, vectors, paths
        self._rows = {path: i for i, path in enumerate(paths)}
        self._hashes, self._stamp = hashes, (None if stamp < 0 else stamp)
        self._fitted_count, self._drift = fitted_count, drift
