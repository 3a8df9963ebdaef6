"""Vectors for memory: the ``EmbeddingProvider`` protocol and the offline default, LSA.

``LsaEmbeddings`` is latent semantic analysis: TF-IDF over the vault's analysed terms (the same
stemmed tokens the search engine indexes), reduced by a truncated SVD. Words that occur in the
same contexts land near each other, so "puppy" can find a note about a "dog" that never says
"puppy". It needs nothing but scikit-learn and the memory's own texts: no model to download. It is
*fitted* on the corpus the memory hands it (``fit``); other providers simply embed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .retrieval import Corpus

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
    memory's texts. Before ``fit`` (or on fewer than three texts) it embeds to zero vectors."""

    def __init__(self, dimensions: int = 64, *, seed: int = 0) -> None:
        self._wanted = dimensions
        self._seed = seed
        self._tfidf: Any = None
        self._svd: Any = None
        self._terms: Any = None  # unit term vectors, for similar_terms
        self._names: Any = None
        self.fitted_on = 0  # how many texts the model was fitted on

    @property
    def dimensions(self) -> int:
        return self._wanted

    def fit(self, texts: Sequence[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        from ..search.analysis import tokens

        if len(texts) < 3:
            self._tfidf = self._svd = None
            self.fitted_on = 0
            return
        tfidf = TfidfVectorizer(analyzer=tokens, sublinear_tf=True, dtype=_float32())
        matrix = tfidf.fit_transform(texts)
        rank = min(self._wanted, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if rank < 1:
            self._tfidf = self._svd = None
            self.fitted_on = 0
            return
        svd = TruncatedSVD(n_components=rank, algorithm="randomized", n_iter=5, random_state=self._seed)
        svd.fit(matrix)
        self._tfidf, self._svd, self._terms = tfidf, svd, None
        self.fitted_on = len(texts)

    def similar_terms(self, terms: Sequence[str], count: int) -> dict[str, float]:
        """Up to ``count`` analysed terms closest to ``terms`` in the latent space (cosine of term
        vectors), with their similarity; the terms themselves excluded."""
        import numpy as np

        if self._svd is None or count < 1:
            return {}
        vocabulary = self._tfidf.vocabulary_
        rows = [vocabulary[t] for t in terms if t in vocabulary]
        if not rows:
            return {}
        if self._terms is None:
            matrix = (self._svd.components_.T * self._svd.singular_values_).astype(np.float32)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._terms = matrix / norms
            self._names = self._tfidf.get_feature_names_out()
        centre = self._terms[rows].sum(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        sims = np.einsum("ij,j->i", self._terms, centre)
        sims[rows] = -1.0
        best = np.argsort(-sims)[:count]
        return {str(self._names[i]): float(sims[i]) for i in best if sims[i] > 0}

    def embed(self, text: str) -> Vector:
        return self.embed_batch([text])[0]

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        return [list(map(float, row)) for row in self.matrix(texts)]

    def matrix(self, texts: Sequence[str]) -> Any:
        """The vectors as one float32 array (rows padded to ``dimensions``)."""
        import numpy as np

        out = np.zeros((len(texts), self._wanted), dtype=np.float32)
        if self._svd is not None and len(texts):
            reduced = self._svd.transform(self._tfidf.transform(texts))
            out[:, : reduced.shape[1]] = reduced
        return out


def _float32() -> Any:
    import numpy as np

    return np.float32


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
    fitted on a much smaller corpus misses most of its words)."""

    def __init__(self) -> None:
        self._provider: EmbeddingProvider | None = None
        self._fitted_for = 0

    def update(
        self,
        corpus: Corpus,
        provider: EmbeddingProvider | None,
        text: Callable[[str], str],
        new: Sequence[str],
    ) -> None:
        if provider is None:
            corpus.drop_vectors()
            self._provider = None
            return
        keys = corpus.keys()
        everything = provider is not self._provider or not corpus.has_vectors
        if isinstance(provider, LsaEmbeddings) and (
            provider.fitted_on == 0 or self._fitted_for == 0 or len(keys) > 1.5 * self._fitted_for + 10
        ):
            provider.fit([text(k) for k in keys])
            self._fitted_for = max(len(keys), 1)
            everything = True
        self._provider = provider
        todo = keys if everything else [k for k in new if k in corpus]
        if todo:
            corpus.set_vectors(todo, as_matrix(provider, [text(k) for k in todo]))
