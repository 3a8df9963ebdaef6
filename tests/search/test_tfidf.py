"""Related notes: fit, update, persistence, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdstore.errors import NoteNotFound
from mdstore.search.tfidf import MODEL_FILE, TfidfModel

from .conftest import NOTES, make_note

A, T = "code/python/asyncio.md", "code/python/threads.md"
G, D1, D2 = "garden/tomatoes.md", "daily/2026-01-05.md", "daily/2026-01-06.md"


@pytest.fixture
def model(tmp_path: Path) -> TfidfModel:
    fitted = TfidfModel(tmp_path / "tfidf")
    fitted.fit(NOTES)
    return fitted


def test_related_finds_the_topic_neighbours(model: TfidfModel) -> None:
    related = model.related(G, k=3)
    assert {path for path, _ in related[:2]} == {D1, D2}  # the notes about tomatoes
    assert all(path != G for path, _ in related)
    scores = [score for _, score in related]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert model.related(A, k=1)[0][0] in {T, D1}


def test_related_exclude_and_k(model: TfidfModel) -> None:
    assert all(path not in {D1, D2} for path, _ in model.related(G, k=5, exclude={D1, D2}))
    assert len(model.related(G, k=2)) == 2
    assert model.related(G, k=0) == []


def test_similar_to_text(model: TfidfModel) -> None:
    assert model.similar("compost for tomato plants", k=1)[0][0] == G
    assert model.similar("zzzz unknown words", k=3) == []


def test_unknown_path_raises(model: TfidfModel) -> None:
    with pytest.raises(NoteNotFound, match="nowhere.md"):
        model.related("nowhere.md")


def test_ties_order_by_path(tmp_path: Path) -> None:
    model = TfidfModel(tmp_path)
    twins = [make_note(f"{name}.md", "Twin", "same words here") for name in ("c", "a", "b", "d")]
    model.fit(twins)
    assert model.related("d.md") == [("a.md", 1.0), ("b.md", 1.0), ("c.md", 1.0)]


def test_persisted_without_pickle_and_reloaded(model: TfidfModel, tmp_path: Path) -> None:
    files = sorted(p.name for p in (tmp_path / "tfidf").iterdir())
    assert files == [MODEL_FILE]
    again = TfidfModel(tmp_path / "tfidf")
    assert again.related(G, k=3) == model.related(G, k=3)
    assert len(again) == len(NOTES) and again.fitted


def test_update_is_seen_by_other_instances(model: TfidfModel, tmp_path: Path) -> None:
    reader = TfidfModel(tmp_path / "tfidf")
    assert reader.related(G, k=1)[0][0] in {D1, D2}
    model.update(
        [make_note("new/compost.md", "Compost", "Tomatoes love compost and soil, compost!")], [D1, D2]
    )
    assert model.drift == 3
    assert D1 not in model and "new/compost.md" in model
    assert reader.related(G, k=1)[0][0] == "new/compost.md"
    assert reader.drift == 3


def test_update_equals_refit_rows_for_known_words(model: TfidfModel, tmp_path: Path) -> None:
    changed = make_note(T, "Threads", "Threads and coroutines share the event loop")
    model.update([changed], [])
    refit = TfidfModel(tmp_path / "other")
    refit.fit([changed if n.path == T else n for n in NOTES])
    # same vocabulary (no new words) and, in this tiny vault, nearly the same IDF
    assert [p for p, _ in model.related(T, k=2)] == [p for p, _ in refit.related(T, k=2)]


def test_refit_due_after_enough_drift(tmp_path: Path) -> None:
    model = TfidfModel(tmp_path, refit_ratio=0.5, refit_min=3)
    assert model.refit_due and not model.fitted
    model.fit(NOTES)
    assert not model.refit_due
    model.update(NOTES[:2], [])
    assert not model.refit_due
    model.update([], [NOTES[3].path, NOTES[4].path, NOTES[5].path])
    assert model.drift == 5 and model.refit_due
    model.fit(NOTES)
    assert model.drift == 0 and not model.refit_due


def test_empty_and_unfitted(tmp_path: Path) -> None:
    model = TfidfModel(tmp_path)
    assert model.similar("anything") == [] and len(model) == 0
    with pytest.raises(NoteNotFound):
        model.update(NOTES[:1], [])
    model.fit([make_note("e.md", "", "")])
    assert model.related("e.md") == [] and model.similar("x") == []
    model.fit([])
    assert len(model) == 0 and model.fitted


def test_damaged_files_read_as_unfitted(model: TfidfModel, tmp_path: Path) -> None:
    (tmp_path / "tfidf" / MODEL_FILE).write_bytes(b"not a zip")
    assert not TfidfModel(tmp_path / "tfidf").fitted


def test_a_model_of_the_earlier_format_is_refitted_not_misread(tmp_path: Path) -> None:
    import numpy as np

    folder = tmp_path / "tfidf"
    folder.mkdir()
    # what mdstore wrote before words were hashed: a vocabulary file and format 1
    (folder / "vocabulary-abc.json").write_text('["tomato", "garden"]')
    np.savez(
        folder / MODEL_FILE,
        data=np.ones(2, dtype=np.float32), indices=np.arange(2, dtype=np.int32),
        indptr=np.asarray([0, 2]), shape=np.asarray([1, 2]), idf=np.ones(2),
        paths=np.asarray([G]), hashes=np.asarray(["h"]), stamp=np.asarray(7),
        counters=np.asarray([1, 1, 0]), fit_id=np.asarray("abc"),
    )  # fmt: skip
    model = TfidfModel(folder)
    assert not model.fitted and model.stamp() is None  # the caller refits it
    model.fit(NOTES)
    assert sorted(p.name for p in folder.iterdir()) == [MODEL_FILE]
    assert model.related(G, k=2)


def test_words_that_hash_to_one_column_count_together() -> None:
    import zlib
    from collections import Counter

    import numpy as np

    from mdstore.search.tfidf import N_FEATURES, token_counts

    def column(word: str) -> int:
        return zlib.crc32(word.encode("utf-8")) & (N_FEATURES - 1)

    seen: dict[int, str] = {}
    word = 0
    while column(f"w{word}") not in seen:
        seen[column(f"w{word}")] = f"w{word}"
        word += 1
    first, second = seen[column(f"w{word}")], f"w{word}"  # two words, one column
    terms = [first, second, second, "garden", "garden", "garden", "zebra"]
    counts = Counter(column(term) for term in terms)  # the definition: counts per column
    expected = sorted(counts)
    columns, values = token_counts(terms)
    assert columns.tolist() == expected
    assert np.array_equal(values, (1.0 + np.log(np.array([counts[c] for c in expected], np.float32))))
    assert values.dtype == np.float32 and columns.dtype == np.int32
