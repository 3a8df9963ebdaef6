"""Whoosh rebuilds go through mdstore's own segment writer (``whoosh_build.py``): it must write what
Whoosh's writer writes, a big cold build (worker processes that make the search documents
themselves and start once DuckDB is complete) must answer like an index built note by note, and
a cancelled parallel build must leave the index as it was and no worker process behind."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
from pathlib import Path

import pytest

import mdstore
from mdstore.errors import MdstoreError
from mdstore.notes.parse import parse_note
from mdstore.search.documents import build_document
from mdstore.search.whoosh_build import open_writer
from mdstore.search.whoosh_engine import PARALLEL_MIN_NOTES, WhooshBackend, _schema, document_fields
from tests.conftest import write_files


def texts(count: int) -> dict[str, str | bytes]:
    return {
        f"f{i % 5}/n{i:05d}.md": (
            f"---\ntags: [t{i % 4}, area/a{i % 3}]\naliases: [alias{i}]\n---\n# Note {i} café\n\n"
            f"About topic{i % 7} and garden{i % 5} watering, {'word' * (i % 3 + 1)} w{i}.\n\n"
            f"## Part {i % 11}\n\nMore text on topic{i % 13} with a [[n{(i + 1) % count:05d}]] link.\n"
        )
        for i in range(count)
    }


def postings(folder: Path) -> list[tuple[object, ...]]:
    from whoosh import index

    reader = index.open_dir(str(folder)).reader()
    found: list[tuple[object, ...]] = []
    for fieldname, text in reader.all_terms():
        info = reader.term_info(fieldname, text)
        found.append((fieldname, text, info.doc_frequency(), info.min_length(), info.max_length()))
        matcher = reader.postings(fieldname, text)
        while matcher.is_active():
            docnum = matcher.id()
            found.append(
                (docnum, matcher.weight(), matcher.value(), reader.doc_field_length(docnum, fieldname))
            )
            # what a block of postings says of itself, for skipping it while scoring
            found.append((matcher.block_max_weight(), matcher.block_min_length(), matcher.block_max_length()))
            matcher.next()
    found += [tuple(sorted(reader.stored_fields(d).items())) for d in range(reader.doc_count_all())]
    reader.close()
    return found


def test_the_compact_writer_writes_the_segment_whoosh_writes_even_when_its_pool_spills(
    tmp_path: Path,
) -> None:
    from whoosh import index

    docs = [
        build_document(parse_note(path, text.encode(), mtime=1.0))  # type: ignore[union-attr]
        for path, text in sorted(texts(400).items())
    ]
    folders = {}
    for name in ("whoosh", "compact"):
        folder = folders[name] = tmp_path / name
        folder.mkdir()
        ix = index.create_in(str(folder), _schema())
        backend = WhooshBackend(folder)
        # 1 MB of pool: the 400 notes' ~300k postings spill several runs that are merged back
        writer = ix.writer() if name == "whoosh" else open_writer(backend, ix, pool_mb=1)
        for doc in docs:
            writer.add_document(**document_fields(doc))
        writer.commit()
    assert postings(folders["compact"]) == postings(folders["whoosh"])


def same_hits(a: mdstore.Vault, b: mdstore.Vault, query: str) -> None:
    """Every match of ``query`` in both vaults, with the same score up to the float noise of summing
    BM25 statistics over one segment or over several (a cold build writes one per worker)."""
    found = [{hit.path: hit.score for hit in vault.search(query, limit=5000)} for vault in (a, b)]
    assert found[0].keys() == found[1].keys() and found[0], query
    for path, score in found[0].items():
        assert abs(score - found[1][path]) <= 1e-3 * max(score, 1.0), (query, path)


def test_a_big_cold_build_answers_like_an_index_built_by_one_sync_of_every_note(tmp_path: Path) -> None:
    count = PARALLEL_MIN_NOTES + 100
    files = texts(count)
    cold, grown = tmp_path / "cold", tmp_path / "grown"
    write_files(cold, files)
    grown.mkdir()
    search = {"engine": "whoosh", "related": False}
    with mdstore.open(cold, search=search) as vault:  # streamed: worker processes, held batches
        vault.sync()
    with mdstore.open(grown, search=search) as vault:
        vault.sync()  # an empty vault: the notes below come in one ordinary sync, through apply()
        write_files(grown, files)
        vault.sync()
    queries = [
        "garden3",
        "topic4 watering",
        '"more text"',
        "gard*",
        "wordword~1",
        "tag:t2",
        "alias77",
        "cafe",
    ]
    with mdstore.open(cold, search=search) as a, mdstore.open(grown, search=search) as b:
        assert a.search_status()["search"]["ready"]
        for query in queries:
            same_hits(a, b, query)
        assert a.search("w1234").paths()[0] == "f4/n01234.md"


def test_a_cancelled_parallel_build_leaves_the_index_and_no_worker_behind(tmp_path: Path) -> None:
    notes = [parse_note(path, text.encode(), mtime=1.0) for path, text in sorted(texts(300).items())]
    backend = WhooshBackend(tmp_path / "ix", procs=2)
    backend.rebuild(notes[:10], 1)  # type: ignore[arg-type]
    build = backend.builder(2, PARALLEL_MIN_NOTES, hold=True)
    assert build.takes_notes
    build.add_notes(notes)  # type: ignore[arg-type]
    build.cancel()
    assert multiprocessing.active_children() == []
    assert backend.count() == 10 and backend.stamp() == 1
    build = backend.builder(3, PARALLEL_MIN_NOTES, hold=True)
    build.add_notes(notes)  # type: ignore[arg-type]
    build.commit()
    assert multiprocessing.active_children() == []
    assert backend.count() == 300 and backend.stamp() == 3
    assert backend.search("w123").hits[0].path == "f3/n00123.md"


def test_a_parallel_cold_build_gives_the_related_notes_model_the_words_its_workers_counted(
    tmp_path: Path,
) -> None:
    # Whoosh's workers count each note's words for the related-notes model (after DuckDB's
    # commit); the model must be the one the parse workers' counts give (search engine off).
    files = texts(PARALLEL_MIN_NOTES + 100)
    for name in ("whoosh", "none"):
        write_files(tmp_path / name, files)
    with (
        mdstore.open(tmp_path / "whoosh", search={"engine": "whoosh", "related": True}) as a,
        mdstore.open(tmp_path / "none", search={"engine": "none", "related": True}) as b,
    ):
        assert not a.sync().errors and not b.sync().errors
        assert a.search_status()["related"]["ready"] and a.search_status()["search"]["ready"]
        for path in ("f0/n00000.md", "f3/n01233.md", "f4/n02099.md"):
            assert list(a.related(path, k=8)) == list(b.related(path, k=8))
        assert a.search("w1234").paths()[0] == "f4/n01234.md"


class _DieWhenRead:
    """Unpickled by a build worker, it ends that process at once, as a crash would."""

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return (os._exit, (3,))


@pytest.mark.parametrize("related", [False, True])
def test_a_worker_that_dies_mid_build_fails_the_commit_instead_of_losing_its_notes(
    tmp_path: Path, related: bool
) -> None:
    notes = [parse_note(path, text.encode(), mtime=1.0) for path, text in sorted(texts(300).items())]
    backend = WhooshBackend(tmp_path / "ix", procs=2)
    backend.rebuild(notes[:10], 1)  # type: ignore[arg-type]
    build = backend.builder(2, PARALLEL_MIN_NOTES, hold=True)
    counted: list[str] = []
    if related:
        build.count_words(lambda paths, hashes, counts: counted.extend(paths))
    build.add_notes(notes[:50])  # type: ignore[arg-type]
    # the 51st item of the first batch: its worker has indexed 50 notes when it dies
    build.add_batch_items([pickle.dumps((1, _DieWhenRead()))])
    build.add_notes(notes[50:])  # type: ignore[arg-type]
    with pytest.raises(MdstoreError, match="worker process stopped"):
        build.commit()
    assert multiprocessing.active_children() == []
    assert backend.count() == 10 and backend.stamp() == 1  # the index as it was, not 250 notes
    assert counted == []  # nor a model missing the dead worker's notes
    assert not (tmp_path / "ix" / "MAIN.tmp").exists()
    build = backend.builder(3, PARALLEL_MIN_NOTES, hold=True)  # the lock was released
    build.add_notes(notes)  # type: ignore[arg-type]
    build.commit()
    assert backend.count() == 300 and backend.stamp() == 3
    shutil.rmtree(tmp_path / "ix")
