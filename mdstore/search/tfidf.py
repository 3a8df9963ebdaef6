"""Related notes: a TF-IDF model of the vault (scikit-learn's formulas, numpy/scipy matrices),
kept in a folder the caller gives.

Words are hashed into ``N_FEATURES`` columns (``term_counts``, stateless: worker processes compute
it while they parse), so a model is built a chunk of notes at a time (``builder``): each chunk's
counts are added and the document frequencies summed, and the IDF is known once every note has
been seen — the corpus is never held. Columns whose document frequency is below 2 or above half the
notes get no weight (an IDF of 0), as a vocabulary cut-off would. ``update`` re-vectorises only the
changed notes with that IDF (cheap; new words wait for the next fit) and counts the drift;
``refit_due`` says when enough has changed that a fit is worth it. Vectors are L2-normalised, so a
dot product is the cosine similarity.

On disk (no pickle): ``model.npz`` — the sparse matrix, the IDF's non-zero columns, the paths and
the counters — replaced atomically, so a reader sees one whole model or the previous one.
"""

from __future__ import annotations

import os
import time
import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from mdstore.errors import NoteNotFound
from mdstore.notes.model import Note
from mdstore.search.analysis import tokens

FORMAT_VERSION = 2
MODEL_FILE = "model.npz"
SCORE_DIGITS = 6  # scores are rounded so that equal similarities tie exactly and order by path
SMALL_VAULT = 50  # below this many notes keep every word: document-frequency cut-offs would empty it
N_FEATURES = 1 << 20  # hashed columns: a million, so that words seldom share one
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
    import numpy as np

    counts = Counter(zlib.crc32(token.encode("utf-8")) & _MASK for token in tokens(text))
    columns = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    order = np.argsort(columns)
    return columns[order], (1.0 + np.log(tf[order])).astype(np.float32)


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


def _weighted(counts: Any, idf: Any) -> Any:
    """Rows of sublinear counts → TF-IDF, L2-normalised, float32 (scores are rounded to 6 digits)."""
    import numpy as np

    weighted = counts.copy()
    weighted.data = weighted.data * idf[weighted.indices]
    weighted.eliminate_zeros()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    weighted.data /= np.repeat(norms, np.diff(weighted.indptr))
    return weighted.astype(np.float32)


class ModelBuild:
    """A model fitted a chunk of notes at a time: ``add`` each chunk, then ``commit`` (or drop it;
    nothing is written before ``commit``). Memory: the counts of the notes added so far, which is
    about the size of the model itself."""

    def __init__(self, model: TfidfModel, stamp: int | None) -> None:
        import numpy as np

        self._model = model
        self._stamp = stamp
        self._chunks: list[Any] = []
        self._paths: list[str] = []
        self._hashes: list[str] = []
        self._df = np.zeros(N_FEATURES, dtype=np.int64)

    def add(self, notes: Sequence[Note], counts: Sequence[Counts | None] | None = None) -> None:
        """Add ``notes``; ``counts[i]`` is ``term_counts(notes[i])`` when already computed."""
        import numpy as np

        if not notes:
            return
        rows = [
            given if given is not None else term_counts(note)
            for note, given in zip(notes, counts or [None] * len(notes), strict=True)
        ]
        chunk = _matrix(rows)
        self._df += np.bincount(chunk.indices, minlength=N_FEATURES)
        self._chunks.append(chunk)
        self._paths += [note.path for note in notes]
        self._hashes += [note.hash for note in notes]

    def commit(self) -> None:
        import numpy as np
        from scipy import sparse

        total = len(self._paths)
        df = self._df
        if total >= SMALL_VAULT:
            keep = (df >= 2) & (df <= 0.5 * total)
        else:
            keep = df >= 1
        idf = np.zeros(N_FEATURES, dtype=np.float64)
        idf[keep] = np.log((1.0 + total) / (1.0 + df[keep])) + 1.0  # smooth IDF, as scikit-learn's
        chunks, self._chunks = self._chunks, []
        weighted = [_weighted(_matrix([]), idf)]
        while chunks:  # each chunk's counts are let go once weighted: memory stays ~2x the model
            weighted.append(_weighted(chunks.pop(0), idf))
        matrix = sparse.vstack(weighted, format="csr")
        self._model._install(matrix, idf, self._paths, self._hashes, self._stamp)


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
        self._matrix: Any = None  # scipy CSR, one row per path
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
        return self._matrix is not None

    @property
    def drift(self) -> int:
        """Notes added, changed or deleted since the last fit."""
        self._load()
        return self._drift

    @property
    def refit_due(self) -> bool:
        """Whether enough changed since the last fit (or there was none) that ``fit`` should run."""
        self._load()
        if self._matrix is None:
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
        return _weighted(_matrix([text_counts(text) for text in texts]), self._idf)

    def builder(self, stamp: int | None = None) -> ModelBuild:
        """A fit fed a chunk of notes at a time (``ModelBuild``): the corpus is never held."""
        return ModelBuild(self, stamp)

    def fit(self, notes: Iterable[Note], stamp: int | None = None) -> None:
        """Learn the IDF from ``notes`` (the whole vault) and vectorise them; ``stamp`` is saved
        with the model in the same file. A path given twice counts once (the last one)."""
        build = self.builder(stamp)
        build.add(sorted({note.path: note for note in notes}.values(), key=lambda n: n.path))
        build.commit()

    def _install(self, matrix: Any, idf: Any, paths: list[str], hashes: list[str], stamp: int | None) -> None:
        """A freshly fitted model replaces this one and is saved."""
        self._clear()
        self._matrix, self._idf = matrix, idf
        self._paths, self._hashes, self._stamp = paths, hashes, stamp
        self._rows = {path: i for i, path in enumerate(paths)}
        self._fitted_count = len(paths)
        self._save()

    def update(self, upserts: Sequence[Note], deletes: Sequence[str], stamp: int | None = None) -> None:
        """Re-vectorise ``upserts`` and drop ``deletes`` with the current vocabulary (no refit);
        ``stamp`` is saved with the model in the same file."""
        from scipy import sparse

        self._load()
        if self._matrix is None:
            raise NoteNotFound("the related-notes model has not been fitted yet: call fit() first")
        gone = set(deletes) | {note.path for note in upserts}
        keep = [i for i, path in enumerate(self._paths) if path not in gone]
        fresh = {note.path: note for note in upserts}
        kept_paths = [self._paths[i] for i in keep]
        new_rows = self._vectorize([note_text(fresh[p]) for p in fresh])
        self._matrix = sparse.vstack([self._matrix[keep], new_rows], format="csr")
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
        if self._dirty and self._matrix is not None:
            self._save()

    # -- queries ------------------------------------------------------------------------------

    def _ranked(self, vector: Any, k: int, exclude: Collection[str]) -> list[tuple[str, float]]:
        import numpy as np

        if self._matrix is None or self._matrix.shape[0] == 0 or k <= 0:
            return []
        # a dense query vector: one pass over the matrix's non-zeros (a sparse product is ~6x slower)
        dense = np.zeros(N_FEATURES, dtype=np.float32)
        dense[vector.indices] = vector.data
        scores = (self._matrix @ dense).round(SCORE_DIGITS)
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
        vector = self._matrix[self._rows[path]]
        return self._ranked(vector, k, {path, *exclude})

    def similar(self, text: str, k: int = 10, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        """The ``k`` notes most similar to ``text``, best first, ties by path."""
        self._load()
        if self._matrix is None:
            return []
        return self._ranked(self._vectorize([text]), k, set(exclude))

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
        matrix = self._matrix
        weighted = np.flatnonzero(self._idf)
        arrays = {
            "data": matrix.data,
            "indices": matrix.indices,
            "indptr": matrix.indptr,
            "shape": np.asarray(matrix.shape, dtype=np.int64),
            "idf_columns": weighted.astype(np.int32),
            "idf_values": self._idf[weighted],
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
        except FileNotFoundError:
            if self._loaded_mtime is not None:
                self._clear()
                self._loaded_mtime = None
            return
        if mtime == self._loaded_mtime or self._dirty:
            return  # unchanged, or ours is newer than the file until flush()
        import numpy as np
        from scipy import sparse

        self._clear()
        self._loaded_mtime = mtime
        try:
            with np.load(self.folder / MODEL_FILE, allow_pickle=False) as files:
                version, fitted_count, drift = (int(x) for x in files["counters"])
                if version != FORMAT_VERSION:
                    return  # an older format: not fitted, the caller refits
                shape = tuple(int(x) for x in files["shape"])
                matrix = sparse.csr_matrix((files["data"], files["indices"], files["indptr"]), shape=shape)
                idf = np.zeros(N_FEATURES, dtype=np.float64)
                idf[files["idf_columns"]] = files["idf_values"]
                paths = [str(p) for p in files["paths"]]
                # files of an earlier mdstore lack these: no hashes and no stamp mean "repair by refit"
                hashes = [str(h) for h in files["hashes"]] if "hashes" in files else [""] * len(paths)
                stamp = int(files["stamp"]) if "stamp" in files else -1
        except (OSError, ValueError, KeyError):  # damaged or half-written by a crashed version: refit
            return
        self._idf, self._matrix, self._paths = idf, matrix, paths
        self._rows = {path: i for i, path in enumerate(paths)}
        self._hashes, self._stamp = hashes, (None if stamp < 0 else stamp)
        self._fitted_count, self._drift = fitted_count, drift
