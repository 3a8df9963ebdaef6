"""A new process's searches start from the snapshot the last one left in .mdstore/memory/: the
same answers, without analysing every text again or fitting LSA (no scikit-learn import), and
never a stale answer for a text that changed."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

import mdstore

FACTS = [
    "Ann adopted a puppy named Rex",
    "the dog Rex loves the park",
    "Ann walks the dog every morning",
    "Bob plays the violin on Sundays",
    "Bob practises violin scales",
    "the orchestra rehearses in May",
    "the garden needs watering in summer",
    "tomatoes grow in the garden",
]
SEARCH = (
    "import mdstore, sys\n"
    "with mdstore.open(sys.argv[1], memory={'dimensions': int(sys.argv[3])}) as v:\n"
    "    found = v.memory.search_insights(sys.argv[2], limit=3)\n"
    "    print(','.join(i.id for i in found))\n"
    "    print('sklearn' in sys.modules)\n"
)


def _search(root: Path, query: str, dimensions: int = 64) -> tuple[list[str], bool]:
    out = subprocess.run(
        [sys.executable, "-c", SEARCH, str(root), query, str(dimensions)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    ids, imported = out.stdout.splitlines()
    return ids.split(","), imported == "True"


def _vault(tmp_path: Path) -> Path:
    with mdstore.open(tmp_path, memory={"dimensions": 4}) as vault:
        for n, fact in enumerate(FACTS):
            vault.memory.store_insight(fact, user="ann", source="user", category="fact", id=f"f{n}")
    return tmp_path


def test_a_new_process_starts_from_the_snapshot(tmp_path: Path) -> None:
    root = _vault(tmp_path)
    first, fitted = _search(root, "puppy")  # builds the snapshot: fits LSA
    assert fitted and (root / ".mdstore" / "memory" / "snapshots" / "insights.npz").is_file()
    again, imported = _search(root, "puppy")
    assert again == first and not imported  # same answer, no scikit-learn, no fit
    assert _search(root, "puppy", dimensions=3)[1]  # a model of other dimensions is fitted anew


def test_a_changed_text_is_analysed_again(tmp_path: Path) -> None:
    root = _vault(tmp_path)
    _search(root, "puppy")
    note = root / "Memory" / "insights" / "f6.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace("garden needs watering", "balcony needs sun"), "utf-8"
    )
    with mdstore.open(root) as vault:
        vault.sync()
    found, _ = _search(root, "balcony")  # a word of the new text only: its terms were read anew
    assert found[0] == "f6"


def test_an_unreadable_snapshot_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = _vault(tmp_path)
    expected, _ = _search(root, "violin")
    (root / ".mdstore" / "memory" / "snapshots" / "insights.npz").write_bytes(b"not a snapshot")
    with caplog.at_level(logging.WARNING, logger="mdstore.memory"), mdstore.open(root) as vault:
        assert [i.id for i in vault.memory.search_insights("violin", limit=3)] == expected
    assert any("insights.npz unreadable" in r.getMessage() for r in caplog.records)
    assert _search(root, "violin") == (expected, False)  # written again, whole


class _Letters:
    """A toy provider: one dimension per letter a-z."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.calls = 0

    @property
    def dimensions(self) -> int:
        return 26

    def embed(self, text: str) -> list[float]:
        return self.embed_batch([text])[0]

    def embed_batch(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [[float(t.lower().count(chr(97 + i))) for i in range(26)] for t in texts]


def test_stored_vectors_serve_only_their_model(tmp_path: Path) -> None:
    root = _vault(tmp_path)
    with mdstore.open(root) as vault:
        vault.memory.embeddings = _Letters("letters-1")
        vault.memory.search_insights("violin")
    with mdstore.open(root) as vault:
        same = vault.memory.embeddings = _Letters("letters-1")
        vault.memory.search_insights("violin")
        assert same.calls == 1  # the query only: the notes' vectors came from the snapshot
    with mdstore.open(root) as vault:
        other = vault.memory.embeddings = _Letters("letters-2")
        vault.memory.search_insights("violin")
        assert other.calls == len(FACTS) + 1  # another model: every note embedded again
