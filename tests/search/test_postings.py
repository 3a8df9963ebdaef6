"""The related-notes model's term-major vectors: the same scores and rows as a pass over every
vector, through builds a chunk at a time, deletions and additions."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from mdstore.search.postings import Postings, PostingsWriter
from mdstore.search.tfidf import MODEL_FILE, TfidfModel

from .conftest import NOTES, make_note

WORDS = 40


def random_rows(seed: int, n: int) -> Any:
    """``n`` rows over ``WORDS`` words, some of them empty, as a CSR matrix."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n, WORDS), dtype=np.float32) * (rng.random((n, WORDS)) < 0.2)
    dense[rng.random(n) < 0.1] = 0.0
    return sparse.csr_matrix(dense)


def written(matrix: Any, chunk: int) -> Postings:
    vocab = np.arange(0, 2 * WORDS, 2, dtype=np.int32)  # any sorted hashed columns
    writer = PostingsWriter(vocab, np.bincount(matrix.indices, minlength=WORDS))
    for start in range(0, matrix.shape[0], chunk):
        writer.add(matrix[start : start + chunk])
    return writer.finish()


def assert_same(postings: Postings, matrix: Any) -> None:
    assert postings.n_rows == matrix.shape[0] and postings.nnz == matrix.nnz
    dense = matrix.toarray()
    for row in range(matrix.shape[0]):
        terms, weights = postings.row(row)
        assert list(terms) == list(matrix[row].indices) and list(weights) == list(matrix[row].data)
    for row in range(0, matrix.shape[0], 7):  # a query: a stored row
        terms, weights = postings.row(row)
        expected = dense[:, terms] @ weights if len(terms) else np.zeros(matrix.shape[0])
        np.testing.assert_allclose(postings.scores(terms, weights), expected, rtol=1e-6)


@pytest.mark.parametrize("chunk", [1, 3, 50, 500])
def test_written_a_chunk_at_a_time_equals_the_matrix(chunk: int) -> None:
    matrix = random_rows(1, 120)
    assert_same(written(matrix, chunk), matrix)


def test_rows_deleted_and_added_equal_the_matrix_of_the_rest() -> None:
    rand = random.Random(2)
    matrix = random_rows(3, 90)
    postings = written(matrix, 25)
    for step in range(8):
        keep = np.asarray([rand.random() > 0.15 for _ in range(matrix.shape[0])], dtype=bool)
        new = random_rows(10 + step, rand.randint(0, 9))
        postings = postings.select(keep).append(new)
        matrix = sparse.vstack([matrix[np.flatnonzero(keep)], new], format="csr")
        assert_same(postings, matrix)


def test_every_row_deleted_then_added_again() -> None:
    matrix = random_rows(4, 30)
    empty = written(matrix, 10).select(np.zeros(30, dtype=bool))
    assert empty.n_rows == 0 and empty.nnz == 0
    assert list(empty.scores(np.asarray([1, 2]), np.asarray([0.5, 0.5]))) == []
    assert_same(empty.append(matrix), matrix)


def test_a_writer_given_wrong_counts_refuses_to_finish() -> None:
    matrix = random_rows(5, 20)
    writer = PostingsWriter(np.arange(WORDS, dtype=np.int32), np.bincount(matrix.indices, minlength=WORDS))
    writer.add(matrix[:10])  # half the rows it was sized for
    with pytest.raises(ValueError, match="do not match"):
        writer.finish()


def brute_force(model: TfidfModel, path: str, k: int) -> list[str]:
    """The ranking by a pass over every stored vector (what related() answered before postings)."""
    vectors = model._vectors
    assert vectors is not None
    rows = {p: vectors.row(i) for i, p in enumerate(model._paths)}
    terms, weights = rows[path]
    query = dict(zip(terms.tolist(), weights.tolist(), strict=True))
    scores = {
        other: round(sum(query.get(t, 0.0) * w for t, w in zip(ts.tolist(), ws.tolist(), strict=True)), 6)
        for other, (ts, ws) in rows.items()
        if other != path
    }
    ranked = sorted((item for item in scores.items() if item[1] > 0), key=lambda item: (-item[1], item[0]))
    return [p for p, _ in ranked[:k]]


def test_related_after_updates_equals_a_pass_over_every_vector(tmp_path: Path) -> None:
    rand = random.Random(7)
    words = "tomato garden compost water asyncio thread python vault search note lookup soil".split()
    notes = [
        make_note(f"n{i}.md", f"Note {i}", " ".join(rand.choice(words) for _ in range(rand.randint(3, 12))))
        for i in range(60)
    ]
    model = TfidfModel(tmp_path / "tfidf")
    model.fit(notes)
    for step in range(5):
        changed = [
            make_note(f"n{rand.randrange(70)}.md", "Changed", " ".join(rand.sample(words, 4)))
            for _ in range(3)
        ]
        model.update(changed, [f"n{rand.randrange(60)}.md"])
        reader = TfidfModel(tmp_path / "tfidf")  # and what another process reads from the file
        for path in list(model._paths)[step::9]:
            expected = brute_force(model, path, 5)
            assert [p for p, _ in model.related(path, k=5)] == expected
            assert [p for p, _ in reader.related(path, k=5)] == expected


def test_a_model_of_the_previous_format_is_refitted_not_misread(tmp_path: Path) -> None:
    folder = tmp_path / "tfidf"
    folder.mkdir()
    # what mdstore wrote before postings: a note-major matrix, format 2
    np.savez(
        folder / MODEL_FILE,
        data=np.ones(2, dtype=np.float32), indices=np.asarray([3, 9], dtype=np.int32),
        indptr=np.asarray([0, 2]), shape=np.asarray([1, 1 << 20]), idf_columns=np.asarray([3, 9]),
        idf_values=np.ones(2), paths=np.asarray([NOTES[0].path]), hashes=np.asarray(["h"]),
        stamp=np.asarray(7), counters=np.asarray([2, 1, 0]),
    )  # fmt: skip
    model = TfidfModel(folder)
    assert not model.fitted and model.stamp() is None  # the caller refits it
    model.fit(NOTES)
    assert model.fitted and model.related(NOTES[0].path, k=2)
