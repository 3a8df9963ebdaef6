"""Related notes: a TF-IDF model of the vault (scikit-learn), kept in a folder the caller gives.

``fit`` learns the vocabulary and IDF from every note; ``update`` re-vectorises only the changed
notes with that vocabulary (cheap; IDF and new words wait for the next fit) and counts the drift;
``refit_due`` says when enough has changed that a fit is worth it. Vectors are L2-normalised, so
a dot product is the cosine similarity.

On disk (no pickle): ``model.npz`` — the sparse matrix, the IDF, the paths and the counters — and
``vocabulary-<fit id>.json``, written once per fit, before the ``model.npz`` that names it; each
file is replaced atomically, so a reader sees one whole model or the previous one.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from mdstore.errors import NoteNotFound
from mdstore.notes.model import Note
from mdstore.search.analysis import tokens

FORMAT_VERSION = 1
MODEL_FILE = "model.npz"
SCORE_DIGITS = 6  # scores are rounded so that equal similarities tie exactly and order by path
SMALL_VAULT = 50  # below this many notes keep every word: document-frequency cut-offs would empty it


def note_text(note: Note) -> str:
    """What the model reads of a note: the title counts twice, then aliases, tags, headings, body."""
    parts = [note.title, note.title, *note.aliases, *note.tags, *(h.text for h in note.headings), note.body]
    return "\n".join(parts)


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
        self._vocabulary: dict[str, int] = {}
        self._idf: Any = None
        self._hashes: list[str] = []  # Note.hash per row, parallel to _paths
        self._stamp: int | None = None
        self._fit_id = ""
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
        """Rows for ``texts`` with the fitted vocabulary and IDF: sublinear TF × IDF, L2-normalised.
        Done with numpy and scipy alone: importing scikit-learn costs about a second, more than a
        ``similar`` query or a one-note update is worth (only ``fit`` needs it)."""
        import numpy as np
        from scipy import sparse

        idf = np.asarray(self._idf, dtype=np.float64)
        indptr, columns, weights = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for term in tokens(text):
                column = self._vocabulary.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            row = np.asarray(sorted(counts), dtype=np.int64)
            tf_idf = (1.0 + np.log(np.asarray([counts[c] for c in row], dtype=np.float64))) * idf[row]
            norm = float(np.linalg.norm(tf_idf))
            columns.append(row)
            weights.append(tf_idf / norm if norm > 0 else tf_idf)
            indptr.append(indptr[-1] + len(row))
        # float32 halves the file rewritten by every update; scores are rounded to 6 digits anyway
        return sparse.csr_matrix(
            (
                np.concatenate(weights).astype(np.float32) if weights else np.zeros(0, np.float32),
                np.concatenate(columns) if columns else np.zeros(0, np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(texts), len(self._vocabulary)),
            dtype=np.float32,
        )

    def _vectorize_all(self, texts: Sequence[str]) -> Any:
        """``_vectorize`` for a whole vault (``fit``, which has scikit-learn loaded): its counting
        is faster in bulk, and the rows are the same."""
        import numpy as np
        from scipy import sparse
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        counts = CountVectorizer(analyzer=tokens, vocabulary=self._vocabulary, dtype=np.float64).transform(
            texts
        )
        counts.data = 1.0 + np.log(counts.data)
        weighted = counts @ sparse.diags(self._idf)
        return normalize(sparse.csr_matrix(weighted), norm="l2", copy=False).astype(np.float32)

    def fit(self, notes: Iterable[Note], stamp: int | None = None) -> None:
        """Learn the vocabulary and IDF from ``notes`` (the whole vault) and vectorise them;
        ``stamp`` is saved with the model in the same file."""
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        chosen = sorted({note.path: note for note in notes}.values(), key=lambda n: n.path)
        texts = [note_text(note) for note in chosen]
        large = len(chosen) >= SMALL_VAULT
        vectorizer = TfidfVectorizer(
            analyzer=tokens, sublinear_tf=True, min_df=2 if large else 1, max_df=0.5 if large else 1.0
        )
        self._clear()
        try:
            vectorizer.fit(texts)
            self._vocabulary = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
            self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        except ValueError:  # no words at all (empty notes, or none left after the cut-offs)
            self._vocabulary, self._idf = {}, np.zeros(0)
        self._paths = [note.path for note in chosen]
        self._hashes = [note.hash for note in chosen]
        self._stamp = stamp
        self._rows = {path: i for i, path in enumerate(self._paths)}
        # an empty vocabulary gives rows of zeros (scikit-learn refuses one)
        self._matrix = self._vectorize_all(texts) if self._vocabulary else self._vectorize(texts)
        self._fit_id = uuid.uuid4().hex
        self._fitted_count = len(chosen)
        self._save(new_vocabulary=True)

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
            self._save(new_vocabulary=False)

    def flush(self) -> None:
        """Save updates that the save interval held back."""
        if self._dirty and self._matrix is not None:
            self._save(new_vocabulary=False)

    # -- queries ------------------------------------------------------------------------------

    def _ranked(self, vector: Any, k: int, exclude: Collection[str]) -> list[tuple[str, float]]:
        import numpy as np

        if self._matrix is None or self._matrix.shape[0] == 0 or k <= 0:
            return []
        scores = np.asarray((self._matrix @ vector.T).todense()).ravel().round(SCORE_DIGITS)
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

    def _vocabulary_file(self, fit_id: str) -> Path:
        return self.folder / f"vocabulary-{fit_id}.json"

    def _replace(self, target: Path, write: Any) -> None:
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)

    def _save(self, *, new_vocabulary: bool) -> None:
        import numpy as np

        self.folder.mkdir(parents=True, exist_ok=True)
        if new_vocabulary:
            terms = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
            data = json.dumps(terms, ensure_ascii=False).encode("utf-8")
            self._replace(self._vocabulary_file(self._fit_id), lambda h: h.write(data))
        matrix = self._matrix
        arrays = {
            "data": matrix.data,
            "indices": matrix.indices,
            "indptr": matrix.indptr,
            "shape": np.asarray(matrix.shape, dtype=np.int64),
            "idf": self._idf,
            "paths": np.asarray(self._paths, dtype=str),
            "hashes": np.asarray(self._hashes, dtype=str),
            "stamp": np.asarray(-1 if self._stamp is None else self._stamp, dtype=np.int64),
            "counters": np.asarray([FORMAT_VERSION, self._fitted_count, self._drift], dtype=np.int64),
            "fit_id": np.asarray(self._fit_id),
        }
        self._replace(self.folder / MODEL_FILE, lambda h: np.savez(h, **arrays))
        self._loaded_mtime = (self.folder / MODEL_FILE).stat().st_mtime_ns
        self._dirty = False
        self._last_save = time.monotonic()
        for old in self.folder.glob("vocabulary-*.json"):
            if old != self._vocabulary_file(self._fit_id):
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
                fit_id = str(files["fit_id"])
                idf = files["idf"]
                paths = [str(p) for p in files["paths"]]
                # files of an earlier mdstore lack these: no hashes and no stamp mean "repair by refit"
                hashes = [str(h) for h in files["hashes"]] if "hashes" in files else [""] * len(paths)
                stamp = int(files["stamp"]) if "stamp" in files else -1
            terms = json.loads(self._vocabulary_file(fit_id).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError):  # damaged or half-written by a crashed version: refit
            return
        self._vocabulary = {term: i for i, term in enumerate(terms)}
        self._idf, self._matrix, self._paths, self._fit_id = idf, matrix, paths, fit_id
        self._rows = {path: i for i, path in enumerate(paths)}
        self._hashes, self._stamp = hashes, (None if stamp < 0 else stamp)
        self._fitted_count, self._drift = fitted_count, drift
