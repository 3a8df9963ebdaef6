"""What a memory search computed about its documents, kept in ``.mdstore/memory/`` so that a new
process starts from it instead of analysing every text and fitting LSA again.

A snapshot holds, per document (an insight's path, a session entry's key): a fingerprint of its
text, its analysed terms and its vector, with the model the vectors belong to (the LSA model
itself, or the id of the provider's model). A process takes from it only what still matches: the
terms of a document whose fingerprint is unchanged, its vector if the model is the same too;
everything else is computed as before. A snapshot is rewritten whole (a temp file and a rename, so
readers never see half of one) after an LSA fit, when a good share of the documents were computed
anew, and at close. It is a cache like the rest of ``.mdstore/``: deleting it costs one slow
first search, never a wrong answer.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .embeddings import EmbeddingProvider
    from .retrieval import Corpus

log = logging.getLogger("mdstore.memory")

FORMAT = 1


def model_id(provider: EmbeddingProvider | None) -> str:
    """Names the model whose vectors a snapshot keeps: an LSA fit's id, a provider's
    ``model_id`` attribute, else its class and dimensions."""
    if provider is None:
        return ""
    found = getattr(provider, "model_id", None)
    if isinstance(found, str):
        return found
    kind = type(provider)
    return f"{kind.__module__}.{kind.__qualname__}/{provider.dimensions}"


def _blob(lines: Iterable[str]) -> Any:
    import numpy as np

    return np.frombuffer("\n".join(lines).encode("utf-8"), dtype=np.uint8)


def _lines(array: Any) -> list[str]:
    text = bytes(array).decode("utf-8")
    return text.split("\n") if text else []


class Snapshot:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded = False
        self._rows: dict[str, tuple[str, int]] = {}  # key -> fingerprint, row
        self._terms: list[str] = []
        self._vectors: Any = None
        self._model_id = ""
        self.model: dict[str, Any] | None = None  # an LSA model's state
        self.fitted_for = 0
        self.computed = 0  # documents analysed or embedded anew since the last save

    def load(self) -> None:
        """Read the file once (nothing if it is missing or unreadable)."""
        if self._loaded:
            return
        self._loaded = True
        import numpy as np

        try:
            with np.load(self.path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                if meta.get("format") != FORMAT:
                    return
                keys, prints = _lines(data["keys"]), _lines(data["prints"])
                terms = _lines(data["terms"])
                vectors = data["vectors"] if "vectors" in data.files else None
                if "lsa_terms" in data.files:
                    self.model = {
                        "terms": _lines(data["lsa_terms"]),
                        "idf": data["lsa_idf"],
                        "components": data["lsa_components"],
                        "singular": data["lsa_singular"],
                        "fitted_on": meta["fitted_on"],
                        "model_id": meta["model_id"],
                    }
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("memory snapshot %s unreadable, rebuilt: %s", self.path.name, exc)
            self.model = None
            return
        if (
            len(prints) != len(keys)
            or len(terms) != len(keys)
            or (vectors is not None and len(vectors) != len(keys))
        ):
            self.model = None
            return
        self._rows = {k: (p, n) for n, (k, p) in enumerate(zip(keys, prints, strict=True))}
        self._terms, self._vectors = terms, vectors
        self._model_id = str(meta.get("model_id") or "")
        self.fitted_for = int(meta.get("fitted_for") or 0)

    def terms(self, key: str, fingerprint: str) -> list[str] | None:
        """The stored terms of ``key`` if its text is unchanged."""
        found = self._rows.get(key)
        if found is None or found[0] != fingerprint:
            return None
        text = self._terms[found[1]]
        return text.split(" ") if text else []

    def vectors(self, keys: Iterable[str], fingerprint: Callable[[str], str], model: str) -> dict[str, Any]:
        """The stored vectors of those ``keys`` whose text is unchanged, if they are of ``model``."""
        if self._vectors is None or not model or model != self._model_id:
            return {}
        out = {}
        for key in keys:
            found = self._rows.get(key)
            if found is not None and found[0] == fingerprint(key):
                out[key] = self._vectors[found[1]]
        return out

    def due(self, size: int) -> bool:
        return self.computed > 0 and self.computed >= max(256, size // 10)

    def save(
        self,
        corpus: Corpus,
        fingerprint: Callable[[str], str],
        provider: EmbeddingProvider | None,
        fitted_for: int,
    ) -> None:
        """Write the snapshot of ``corpus`` (documents and vectors) now."""
        import numpy as np

        from .embeddings import LsaEmbeddings

        keys = corpus.keys()
        arrays: dict[str, Any] = {
            "keys": _blob(keys),
            "prints": _blob(fingerprint(k) for k in keys),
            "terms": _blob(" ".join(corpus.terms(k)) for k in keys),
        }
        meta: dict[str, Any] = {"format": FORMAT, "model_id": "", "fitted_for": fitted_for}
        if provider is not None and corpus.has_vectors:
            arrays["vectors"] = corpus.vectors_of(keys)
            meta["model_id"] = model_id(provider)
            state = provider.state() if isinstance(provider, LsaEmbeddings) else None
            if state is not None:
                arrays |= {
                    "lsa_terms": _blob(state["terms"]),
                    "lsa_idf": state["idf"],
                    "lsa_components": state["components"],
                    "lsa_singular": state["singular"],
                }
                meta["fitted_on"] = state["fitted_on"]
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(buffer.getvalue())
            os.replace(tmp, self.path)
        except OSError as exc:  # a cache: the next save tries again
            log.warning("memory snapshot %s not written: %s", self.path.name, exc)
            tmp.unlink(missing_ok=True)
            return
        self.computed = 0
