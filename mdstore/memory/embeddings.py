"""Vectors for memory: the ``EmbeddingProvider`` protocol and the offline default, LSA.

``LsaEmbeddings`` is latent semantic analysis: TF-IDF over the vault's analysed terms (the same
stemmed tokens the search engine indexes), reduced by a truncated SVD. Words that occur in the
same contexts land near each other, so "puppy" can find a note about a "dog" that never says
"puppy". It needs nothing but scikit-learn and the memory's own texts: no model to download. It is
*fitted* on the corpus the memory hands it (``fit``); other providers simply embed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .retrieval import Corpus
    from .snapshot import Snapshot

Vector = list[float]


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turns text into vectors of ``dimensions`` floats; similar meaning, close vectors."""

    @property
    def dimensions(self) -> int: ...

    def embed(self, text: str) -> Vector: ...

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]: ...


class LsaEmbeddings:
    """Latent semantic analysis over TF-IDF (scikit-learn's ``TruncatedSVD``), fitted on the
    memory's texts. Before ``fit`` (or on fewer than three texts) it embeds to zero vectors.

    Only ``fit`` needs scikit-learn: the fitted model is the terms, their IDF and the SVD's
    components, and a text is projected with numpy alone (sublinear TF × IDF, unit length, times
    the components: what ``TfidfVectorizer`` + ``TruncatedSVD.transform`` compute). So a model saved
    by one process (``state``/``restore``) serves another without importing scikit-learn."""

    def __init__(self, dimensions: int = 64, *, seed: int = 0) -> None:
        self._wanted = dimensions
        self._seed = seed
        self._vocabulary: dict[str, int] = {}
        self._idf: Any = None
        self._components: Any = None  # rank x terms
        self._singular: Any = None
        self._terms: Any = None  # unit term vectors, for similar_terms
        self.fitted_on = 0  # how many texts the model was fitted on
        self.model_id = ""  # names this fitted model (vectors stored for it are valid for it only)

    @property
    def dimensions(self) -> int:
        return self._wanted

    def fit(self, texts: Sequence[str]) -> None:
        import numpy as np
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        from ..search.analysis import tokens

        self._clear()
        if len(texts) < 3:
            return
        tfidf = TfidfVectorizer(analyzer=tokens, sublinear_tf=True, dtype=np.float32)
        matrix = tfidf.fit_transform(texts)
        rank = min(self._wanted, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if rank < 1:
            return
        svd = TruncatedSVD(n_components=rank, algorithm="randomized", n_iter=5, random_state=self._seed)
        with np.errstate(invalid="ignore", divide="ignore"):  # texts of the same words: no variance
            svd.fit(matrix)
        self._vocabulary = {str(t): int(i) for t, i in tfidf.vocabulary_.items()}
        self._idf = np.asarray(tfidf.idf_, dtype=np.float32)
        self._components = np.ascontiguousarray(svd.components_, dtype=np.float32)
        self._singular = np.asarray(svd.singular_values_, dtype=np.float32)
        self.fitted_on = len(texts)
        self.model_id = f"lsa-{self._wanted}-{uuid.uuid4().hex[:16]}"

    def state(self) -> dict[str, Any] | None:
        """The fitted model as arrays and plain values (None before a fit)."""
        if self._components is None:
            return None
        names = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        return {
            "terms": names,
            "idf": self._idf,
            "components": self._components,
            "singular": self._singular,
            "fitted_on": self.fitted_on,
            "model_id": self.model_id,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take a model ``state`` returned (by any process) for the same dimensions."""
        import numpy as np

        self._clear()
        self._vocabulary = {t: i for i, t in enumerate(state["terms"])}
        self._idf = np.asarray(state["idf"], dtype=np.float32)
        self._components = np.asarray(state["components"], dtype=np.float32)
        self._singular = np.asarray(state["singular"], dtype=np.float32)
        self.fitted_on = int(state["fitted_on"])
        self.model_id = str(state["model_id"])

    def similar_terms(self, terms: Sequence[str], count: int) -> dict[str, float]:
        """Up to ``count`` analysed terms closest to ``terms`` in the latent space (cosine of term
        vectors), with their similarity; the terms themselves excluded."""
        import numpy as np

        if self._components is None or count < 1:
            return {}
        rows = [self._vocabulary[t] for t in terms if t in self._vocabulary]
        if not rows:
            return {}
        if self._terms is None:
            matrix = (self._components.T * self._singular).astype(np.float32)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._terms = matrix / norms
        names = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        centre = self._terms[rows].sum(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        sims = np.einsum("ij,j->i", self._terms, centre)
        sims[rows] = -1.0
        best = np.argsort(-sims)[:count]
        return {names[i]: float(sims[i]) for i in best if sims[i] > 0}

    def embed(self, text: str) -> Vector:
        return self.embed_batch([text])[0]

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        return [list(map(float, row)) for row in self.matrix(texts)]

    def matrix(self, texts: Sequence[str]) -> Any:
        """The vectors as one float32 array (rows padded to ``dimensions``)."""
        import numpy as np

        from ..search.analysis import tokens

        out = np.zeros((len(texts), self._wanted), dtype=np.float32)
        if self._components is None:
            return out
        rank = self._components.shape[0]
        vocabulary = self._vocabulary
        for row, text in enumerate(texts):
            counts = Counter(vocabulary[t] for t in tokens(text) if t in vocabulary)
            if not counts:
                continue
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            weights = (1.0 + np.log(tf)) * self._idf[columns]
            norm = float(np.sqrt(np.dot(weights, weights)))
            if norm > 0:
                out[row, :rank] = np.einsum("ij,j->i", self._components[:, columns], weights / norm)
        return out

    def _clear(self) -> None:
        self._vocabulary = {}
        self._idf = self._components = self._singular = self._terms = None
        self.fitted_on = 0
        self.model_id = ""


def as_matrix(provider: EmbeddingProvider, texts: Sequence[str]) -> Any:
    """Unit-length vectors of ``texts`` as a float32 array (zero rows stay zero)."""
    import numpy as np

    if isinstance(provider, LsaEmbeddings):
        raw = provider.matrix(texts)
    else:
        raw = np.asarray(provider.embed_batch(list(texts)), dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return raw / norms


class Vectors:
    """Keeps a ``Corpus``'s vectors in step with its documents and the provider: new documents are
    embedded as they come; everything is embedded again when the provider changes, and an
    ``LsaEmbeddings`` is refitted when the corpus has grown by half since its last fit (a model
    fitted on a much smaller corpus misses most of its words). With a ``Snapshot``, a process
    starts from the model and vectors another one saved (snapshot.py)."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._provider: EmbeddingProvider | None = None
        self._fitted_for = 0
        self.snapshot = snapshot

    def update(
        self,
        corpus: Corpus,
        provider: EmbeddingProvider | None,
        text: Callable[[str], str],
        new: Sequence[str],
        fingerprint: Callable[[str], str] | None = None,
    ) -> None:
        from .snapshot import model_id

        snapshot = self.snapshot if fingerprint is not None else None
        if provider is None:
            corpus.drop_vectors()
            self._provider = None
            self._persist(corpus, fingerprint, False)
            return
        keys = corpus.keys()
        everything = provider is not self._provider or not corpus.has_vectors
        if everything and snapshot is not None and snapshot.model is not None:
            if isinstance(provider, LsaEmbeddings) and provider.fitted_on == 0:
                if str(snapshot.model["model_id"]).startswith(f"lsa-{provider.dimensions}-"):
                    provider.restore(snapshot.model)
                    self._fitted_for = snapshot.fitted_for
        refit = False
        if isinstance(provider, LsaEmbeddings) and (
            provider.fitted_on == 0 or self._fitted_for == 0 or len(keys) > 1.5 * self._fitted_for + 10
        ):
            provider.fit([text(k) for k in keys])
            self._fitted_for = max(len(keys), 1)
            everything = refit = True
        self._provider = provider
        todo = keys if everything else [k for k in new if k in corpus]
        if todo and snapshot is not None and fingerprint is not None and not refit:
            stored = snapshot.vectors(todo, fingerprint, model_id(provider))
            if stored:
                corpus.set_vectors(list(stored), list(stored.values()))
                todo = [k for k in todo if k not in stored]
        if todo:
            corpus.set_vectors(todo, as_matrix(provider, [text(k) for k in todo]))
        if snapshot is not None:
            snapshot.computed += len(todo)
        self._persist(corpus, fingerprint, refit)

    def _persist(self, corpus: Corpus, fingerprint: Callable[[str], str] | None, now: bool) -> None:
        if self.snapshot is not None and fingerprint is not None:
            if now or self.snapshot.due(len(corpus)):
                self.snapshot.save(corpus, fingerprint, self._provider, self._fitted_for)

    def save(self, corpus: Corpus, fingerprint: Callable[[str], str]) -> None:
        """Write the snapshot if anything was computed since the last one (at close)."""
        if self.snapshot is not None and self.snapshot.computed:
            self.snapshot.save(corpus, fingerprint, self._provider, self._fitted_for)
