"""The streamed cold build feeds the search engine and the related-notes model chunk by chunk:
they hold exactly what DuckDB holds (the notes are parsed once, not read again afterwards), a
build that dies half way leaves them repairable, and their progress shows in ``search_status``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdstore
from mdstore.notes.parse import parse_note
from mdstore.search.coldfeed import document_and_counts
from mdstore.search.documents import build_document
from mdstore.search.tfidf import term_counts
from tests.conftest import write_files

STREAMED = {"build_chunk": 23, "parse_workers": 1}
MARK = "zebrafinch"


def notes(count: int) -> dict[str, str | bytes]:
    return {
        f"f{i % 3}/n{i:04d}.md": (
            f"---\ntags: [t{i % 4}]\n---\n# Note {i}\n\n"
            f"About topic{i % 7} and garden{i % 5}. [[n{(i + 1) % count:04d}]]\n"
        )
        for i in range(count)
    }


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_search_side_holds_what_duckdb_holds_when_files_change_during_the_build(
    tmp_path: Path, engine: str
) -> None:
    write_files(tmp_path, notes(120))
    edited: list[Path] = []

    def progress(done: int, total: int) -> None:
        if not edited:  # the first chunk is committed: every file changes now
            for path in sorted(tmp_path.rglob("*.md")):
                if ".mdstore" not in path.parts:
                    path.write_text(path.read_text() + f"\n{MARK}\n")
                    edited.append(path)

    with mdstore.open(tmp_path, index=STREAMED, search={"engine": engine, "related": True}) as vault:
        report = vault.sync(progress=progress)
        assert len(report.added) == 120 and not report.errors
        in_duckdb = sorted(r["path"] for r in vault.sql(f"SELECT path FROM notes WHERE body LIKE '%{MARK}%'"))
        assert 0 < len(in_duckdb) < 120  # the first chunk was read before the edit, the rest after
        assert sorted(vault.search(MARK, limit=200).paths()) == in_duckdb
        status = vault.search_status()
        assert status["search"]["ready"] and status["related"]["ready"] and status["building"] is None
        # the next sync brings the first chunk's edits in, to both sides
        vault.sync()
        assert len(vault.search(MARK, limit=200).paths()) == 120


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_streamed_related_notes_equal_a_fit_of_the_whole_vault(tmp_path: Path, engine: str) -> None:
    write_files(tmp_path / "a", notes(150))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    with mdstore.open(tmp_path / "a", index=STREAMED, search={"engine": engine}) as streamed:
        streamed.sync()
        with mdstore.open(
            tmp_path / "b", index={"build_chunk": 1_000_000}, search={"engine": engine}
        ) as batch:
            batch.sync()
            for path in ("f0/n0000.md", "f1/n0007.md", "f2/n0149.md"):
                assert list(streamed.related(path, k=8)) == list(batch.related(path, k=8))
            for query in ("topic3", "garden2 topic1", "tag:t1", "note 14*"):
                assert streamed.search(query, limit=200).paths() == batch.search(query, limit=200).paths()


CHILD = r"""
import sys, mdstore
vault = mdstore.open(sys.argv[1], index={"build_chunk": 40, "parse_workers": 1}, search={"engine": "whoosh"})
vault.sync(progress=lambda done, total: print(done, flush=True))
print("finished", flush=True)
"""


def test_a_build_killed_halfway_shows_progress_and_leaves_search_repairable(tmp_path: Path) -> None:
    root = tmp_path / "v"
    write_files(root, notes(2400))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    marker = root / ".mdstore" / "search" / "building.json"
    try:
        info: dict = {}
        for line in proc.stdout:  # DuckDB's progress, a line per chunk
            assert line.strip() != "finished", "the build ended before the search side showed progress"
            if int(line) < 1200:
                continue
            # Half the notes are in DuckDB; the search side (lower priority) follows: wait for it.
            info = json.loads(marker.read_text())
            if info["indexed"] >= 40:
                break
        assert info["notes"] == 2400 and info["indexed"] >= 40 and info["pid"] == proc.pid
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    with mdstore.open(root, search={"engine": "whoosh"}) as vault:
        assert vault.search_status()["building"] is None  # the dead build's marker is not shown
        vault.sync()
        assert vault.search("topic3", limit=5000).total == len([i for i in range(2400) if i % 7 == 3])
        assert vault.search_status()["search"]["ready"]
        assert vault.related("f0/n0000.md", k=3).first() is not None


_PIECES = [*"aAbé ß#/-_1\nﬁ[]:", "The", "is", "Café", "running", "#tag/sub", "[[x]]"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=20).map("".join)


@settings(max_examples=150, deadline=None)
@given(title=_TEXT, tags=st.lists(_TEXT, max_size=3), aliases=st.lists(_TEXT, max_size=3), body=_TEXT)
def test_the_document_and_counts_a_cold_build_derives_at_once_equal_the_separate_ones(
    title: str, tags: list[str], aliases: list[str], body: str
) -> None:
    # The parse workers analyse a note once for tantivy and the related-notes model: the counts
    # taken from the search document must be the model's own, word for word.
    front = json.dumps({"title": title, "tags": tags, "aliases": aliases})
    note = parse_note("f/Ünï note.md", f"---\n{front}\n---\n{body}\n".encode(), mtime=1.0, max_bytes=10**6)
    doc, (columns, values) = document_and_counts(note)
    expected_columns, expected_values = term_counts(note)
    assert doc == build_document(note)
    assert np.array_equal(columns, expected_columns) and np.array_equal(values, expected_values)


@pytest.mark.parametrize("deleted", ["folder", "segments"])
def test_a_search_index_deleted_during_the_build_fails_alone_and_is_rebuilt_next_sync(
    tmp_path: Path, deleted: str
) -> None:
    # The engine's commit fails for real (its files are gone), beside the related-notes model's,
    # which must still commit; the failed writer must let its lock go for the next sync to repair.
    write_files(tmp_path, notes(120))
    engine_dir = tmp_path / ".mdstore" / "search" / "tantivy"

    def delete_engine(done: int, total: int) -> None:
        if done < total:  # the last chunk is fed: the engine's commit is next
            return
        if deleted == "folder":
            shutil.rmtree(engine_dir, ignore_errors=True)
        else:  # what the build wrote so far, not the index's lock and its last commit
            for path in engine_dir.iterdir():
                if not path.name.endswith(".lock") and path.name != "meta.json":
                    path.unlink()

    search = {"engine": "tantivy", "related": True}
    with mdstore.open(tmp_path, index=STREAMED, search=search) as vault:
        report = vault.sync(progress=delete_engine)
        assert [(e.path, e.kind) for e in report.errors] == [("(search index)", "listener")]
        status = vault.search_status()
        assert status["related"]["ready"] and not status["search"]["ready"]
        assert not vault.sync().errors  # not kept waiting for a lock the failed writer still holds
        assert vault.search_status()["search"]["ready"]
        assert vault.search("topic3", limit=200).total == len([i for i in range(120) if i % 7 == 3])


def test_a_related_notes_commit_that_fails_leaves_search_committed(tmp_path: Path) -> None:
    # The model's files cannot be written (a file stands where its folder goes): search still
    # commits, the model does not claim to be ready, and the next sync fits it once the way is free.
    write_files(tmp_path, notes(120))
    model_dir = tmp_path / ".mdstore" / "search" / "tfidf"

    def block_model(done: int, total: int) -> None:
        if done == total:
            shutil.rmtree(model_dir, ignore_errors=True)
            model_dir.write_text("in the way")

    search = {"engine": "tantivy", "related": True}
    with mdstore.open(tmp_path, index=STREAMED, search=search) as vault:
        report = vault.sync(progress=block_model)
        assert [(e.path, e.kind) for e in report.errors] == [("(search index)", "listener")]
        assert "tfidf" in report.errors[0].message
        status = vault.search_status()
        assert status["search"]["ready"] and not status["related"]["ready"]
        model_dir.unlink()
        assert not vault.sync().errors
        assert vault.search_status()["related"]["ready"]
    with mdstore.open(tmp_path, search=search) as vault:
        assert vault.search_status()["related"]["ready"]  # saved, not only held by the process above
        assert vault.related("f0/n0000.md", k=3).first() is not None
