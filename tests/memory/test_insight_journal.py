"""The write-behind of insights: acknowledged once journaled, seen by every reader and process
before its note exists, never lost by a kill -9, never written twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import mdstore

STORER = Path(__file__).with_name("storer.py")
LATER = {"memory": {"flush_seconds": 3600, "embeddings": "none"}}  # no background flush


def _notes(root: Path) -> list[Path]:
    return sorted((root / "Memory" / "insights").glob("*.md"))


def test_a_stored_insight_is_read_before_its_note_exists(tmp_path: Path) -> None:
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        stored = m.store_insight("Ann waters the ferns on Sunday", user="ann", source="user", category="fact")
        assert not (tmp_path / stored.path).exists()  # the note is written behind
        assert m.get_insight(stored.id).content == "Ann waters the ferns on Sunday"
        assert [i.id for i in m.search_insights("ferns")] == [stored.id]
        assert [i.id for i in m.search_insights("ferns", filter=mdstore.InsightFilter(user="bob"))] == []
        again = m.store_insight("ann waters the FERNS on sunday", user="ann", source="agent", category="fact")
        assert again.id == stored.id
        with pytest.raises(mdstore.ValidationError, match="'x' and other content"):
            m.store_insight("first", user="ann", source="agent", category="fact", id="x")
            m.store_insight("second", user="ann", source="agent", category="fact", id="x")
        assert m.flush() == 2
        assert m.flush() == 0
        note = vault.get(stored.path)
        assert note.body == "Ann waters the ferns on Sunday\n" and note.frontmatter["id"] == stored.id
        assert m.get_insight(stored.id) == stored
        assert [i.id for i in m.search_insights("ferns")] == [stored.id]
        assert len(_notes(tmp_path)) == 2


def test_other_processes_see_waiting_insights_and_do_not_store_them_twice(tmp_path: Path) -> None:
    with mdstore.open(tmp_path, **LATER) as vault:
        stored = vault.memory.store_insight(
            "Bob flies to Oslo in May", user="bob", source="user", category="fact"
        )
        code = (
            "import mdstore, sys\n"
            "with mdstore.open(sys.argv[1], memory={'flush_seconds': 3600}) as v:\n"
            "    m = v.memory\n"
            "    print(m.get_insight(sys.argv[2]).content)\n"
            "    print(','.join(i.id for i in m.search_insights('Oslo')))\n"
            "    again = m.store_insight('bob flies to oslo in may', user='bob', source='agent',\n"
            "                            category='fact')\n"
            "    print(again.id)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), stored.id],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ["Bob flies to Oslo in May", stored.id, stored.id]
        # The child's close wrote the note of the waiting insight: once, and ours finds it there.
        assert [p.name for p in _notes(tmp_path)] == [f"{stored.id}.md"]
        assert vault.memory.flush() == 0
        assert vault.memory.get_insight(stored.id).content == "Bob flies to Oslo in May"


def test_kill_9_while_storing_loses_no_acknowledged_insight(tmp_path: Path) -> None:
    with mdstore.open(tmp_path, **LATER) as vault:
        vault.memory.store_insight("before the child", user="ann", source="agent", category="fact")
    child = subprocess.Popen(
        [sys.executable, str(STORER), str(tmp_path), "100000", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    acked = []
    for line in child.stdout:  # killed mid-stream, with flushes happening in the background
        acked.append(line.strip())
        if len(acked) == 150:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    acked += [line.strip() for line in child.stdout.read().splitlines() if line.strip()]
    child.stdout.close()
    child.stderr.close()
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        for insight_id in acked:  # seen at once, from the notes or the journal
            assert m.get_insight(insight_id).content.startswith("insight ")
        assert len(m.search_insights("child", limit=1000)) >= len(acked)
        m.flush()
        ids = [p.stem for p in _notes(tmp_path)]
        assert set(acked) <= set(ids) and len(ids) == len(set(ids))
        for path in _notes(tmp_path):  # whole notes only
            note = vault.get(str(path.relative_to(tmp_path)))
            assert note.frontmatter["id"] == path.stem
            assert note.body.endswith("with a second line\n") or note.body == "before the child\n"
        assert m.flush() == 0


def test_a_flush_cut_short_writes_nothing_twice(tmp_path: Path) -> None:
    """A crash between creating the notes and deleting the rotated journal file: the next flush
    finds the notes in place."""
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        stored = [m.store_insight(f"fact {n}", user="ann", source="agent", category="fact") for n in range(3)]
        folder = tmp_path / ".mdstore" / "memory" / "insights"
        saved = (folder / "live.jsonl").read_bytes()
        assert m.flush() == 3
        (folder / f"r-{0:020d}-1.jsonl").write_bytes(saved)  # the file the crash left behind
        assert m.flush() == 0
        assert [p.stem for p in _notes(tmp_path)] == sorted(i.id for i in stored)
        assert len(m.search_insights("fact", limit=10)) == 3


def test_a_note_that_took_the_name_meanwhile_is_kept(tmp_path: Path) -> None:
    """A person creates a note at the waiting insight's path before the flush: their note stays as
    it is, and the insight is written under a new id, not lost."""
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        stored = m.store_insight(
            "the deploy runs at noon", user="ann", source="agent", category="fact", id="deploy"
        )
        hand = tmp_path / "Memory" / "insights" / "deploy.md"
        hand.parent.mkdir(parents=True, exist_ok=True)
        hand.write_text("my own note\n", encoding="utf-8")
        assert m.flush() == 1
        assert hand.read_text(encoding="utf-8") == "my own note\n"
        moved = [p for p in _notes(tmp_path) if p.name != "deploy.md"]
        assert [p.stem for p in moved] == [
            f"deploy-{vault.get(str(moved[0].relative_to(tmp_path))).frontmatter['content_key'][:8]}"
        ]
        assert [i.content for i in m.search_insights("deploy noon")] == [stored.content]


def test_delete_of_a_waiting_insight(tmp_path: Path) -> None:
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        stored = m.store_insight("temporary thought", user="ann", source="agent", category="fact")
        m.delete_insight(stored.id)
        with pytest.raises(mdstore.NoteNotFound):
            m.get_insight(stored.id)
        assert m.search_insights("temporary") == []
        assert m.flush() == 0
        assert _notes(tmp_path) == []


def test_an_insight_that_starts_like_frontmatter_is_stored_as_written(tmp_path: Path) -> None:
    texts = ["---\nMeeting notes\n---\nAnn owns the deploy", "---\nowner: ops\n---\nDeploys happen on Fridays"]
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        stored = [m.store_insight(t, user="ann", source="agent", category="fact") for t in texts]
        after = m.store_insight("Bob likes tea", user="bob", source="agent", category="fact")
        assert m.flush() == 3
    with mdstore.open(tmp_path, **LATER) as vault:
        assert [vault.memory.get_insight(s.id).content for s in stored] == texts
        assert vault.memory.get_insight(after.id).content == "Bob likes tea"
        assert "owner" not in vault.get(stored[1].path).frontmatter


def test_an_insight_that_is_not_text_is_refused_and_blocks_nothing(tmp_path: Path) -> None:
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        for bad in ("fact with \x00 nul", "lone \udc80 surrogate"):
            with pytest.raises(mdstore.ValidationError, match="NUL characters or lone surrogates"):
                m.store_insight(bad, user="ann", source="agent", category="fact")
        m.store_insight("plain fact", user="ann", source="agent", category="fact")
        assert m.flush() == 1


def test_dream_quotes_a_turn_holding_a_nul_without_failing(tmp_path: Path) -> None:
    with mdstore.open(tmp_path, **LATER) as vault:
        m = vault.memory
        log = m.log("s")
        log.append("we decided to ship \x00 on friday")
        log.append("hello")
        log.flush()
        first = m.dream()
        assert first.insights_created == 1 and first.summary is not None
        assert "\x00" not in (tmp_path / first.summary).read_text()
        [decision] = [i for i in m.search_insights("ship friday") if i.category == "decision"]
        assert decision.content == "we decided to ship \ufffd on friday"
        assert m.dream().sessions == 0  # the second run finds nothing left, and does not fail
