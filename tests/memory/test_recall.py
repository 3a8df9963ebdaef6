"""search_sessions (single entries across sessions, with vectors) and session notes in parts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import mdstore
from mdstore.cli import cli
from mdstore.memory.sessions import parse_entries

DAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _talk(vault: mdstore.Vault) -> None:
    m = vault.memory
    first = m.log("monday")
    for n, (role, text) in enumerate(
        [
            ("ann", "We finally adopted a puppy, we named him Biscuit"),
            ("bob", "Lovely! How is the garden going?"),
            ("ann", "The tomatoes are late this year"),
        ]
    ):
        first.append({"role": role, "content": text, "time": DAY + dt.timedelta(minutes=n)})
    later = m.log("friday")
    for n, (role, text) in enumerate(
        [
            ("bob", "My cousin adopted a kitten last week"),
            ("ann", "The vet says Biscuit needs a special diet"),
        ]
    ):
        later.append({"role": role, "content": text, "time": DAY + dt.timedelta(days=40, minutes=n)})


def test_search_sessions_finds_single_entries_across_sessions(vault: mdstore.Vault) -> None:
    _talk(vault)
    hits = vault.memory.search_sessions("What did Ann name the puppy?")
    assert hits[0].content == "We finally adopted a puppy, we named him Biscuit"
    assert (hits[0].session, hits[0].position, hits[0].role) == ("monday", 0, "ann")
    assert hits[0].path == vault.memory.log("monday").path()
    assert hits[0].score > 0 and hits == sorted(hits, key=lambda h: -h.score)
    assert vault.memory.log("monday").range(hits[0].position, hits[0].position + 1)[0].id == hits[0].id
    # Both sessions answer "Biscuit"; the filters narrow by session, role and time.
    assert {h.session for h in vault.memory.search_sessions("Biscuit")} == {"monday", "friday"}
    assert {h.session for h in vault.memory.search_sessions("Biscuit", session="friday")} == {"friday"}
    assert {h.role for h in vault.memory.search_sessions("adopted", role="bob")} == {"bob"}
    assert {h.session for h in vault.memory.search_sessions("Biscuit", after="2026-04-01")} == {"friday"}
    # A date as ``before`` includes that whole day.
    assert {h.session for h in vault.memory.search_sessions("Biscuit", before="2026-03-02")} == {"monday"}
    assert vault.memory.search_sessions("Biscuit", before="2026-03-01") == []
    # The last day Python holds means "no end", not an overflow.
    assert {h.session for h in vault.memory.search_sessions("Biscuit", before="9999-12-31")} == {
        "monday",
        "friday",
    }
    # The month of an entry finds it too ("what did ann say in April").
    april = vault.memory.search_sessions("Ann April 2026", limit=1)
    assert april[0].content == "The vet says Biscuit needs a special diet"
    assert vault.memory.search_sessions("zebra crossing") == []


def test_search_sessions_sees_appends_edits_moves_and_deletes(tmp_path: Path) -> None:
    # Text ranking alone, so that a word's absence means no hit (vectors find neighbours).
    root = tmp_path / "v"
    root.mkdir()
    vault = mdstore.open(root, memory={"embeddings": "none"})
    _talk(vault)
    m = vault.memory
    assert m.search_sessions("sourdough") == []
    m.log("monday").append({"role": "bob", "content": "I bake sourdough on Sundays", "time": DAY})
    found = m.search_sessions("sourdough")  # the waiting entry is flushed first
    # The entry, then the one before it, which has it as context.
    assert [(h.session, h.position) for h in found] == [("monday", 3), ("monday", 2)]
    # A hand edit of the note, once indexed, is what the search sees.
    path = m.log("monday").path() or ""
    text = (vault.root / path).read_text(encoding="utf-8")
    (vault.root / path).write_text(
        text.replace("tomatoes are late", "courgettes are early"), encoding="utf-8"
    )
    vault.sync()
    assert m.search_sessions("tomatoes") == []  # nor in its neighbours' context any more
    assert m.search_sessions("courgettes")[0].session == "monday"
    # A moved (archived) session is still searched, under its new path; a deleted one is gone.
    vault.move(path, "Memory/archive/sessions/2026-03-02/monday.md")
    assert m.search_sessions("courgettes")[0].path == "Memory/archive/sessions/2026-03-02/monday.md"
    vault.delete("Memory/archive/sessions/2026-03-02/monday.md")
    assert m.search_sessions("courgettes") == []
    assert m.search_sessions("kitten")[0].session == "friday"
    vault.close()


def test_search_sessions_sees_entries_of_another_process(tmp_path: Path) -> None:
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root) as reader:
        assert reader.memory.search_sessions("harbour") == []
        with mdstore.open(root) as writer:
            writer.memory.log("other").append("We walked along the harbour at dawn")
            writer.memory.flush()
        assert [h.session for h in reader.memory.search_sessions("harbour")] == ["other"]


def test_search_sessions_uses_entry_vectors(tmp_path: Path) -> None:
    """With embeddings, entries get vectors: a query sharing no word with an entry still finds it
    through words that keep the same company (LSA in 2 dimensions: pets and markets)."""
    root = tmp_path / "v"
    root.mkdir()
    vault = mdstore.open(root, memory={"dimensions": 2, "entry_context_weight": 0})
    log = vault.memory.log("pets")
    for text in [
        "the dog chased the ball in the park",
        "the dog and the ball at the park again",
        "our puppy loves the park and the ball",
        "the puppy fetched the ball in the park",
        "stocks fell sharply and bonds rallied",
        "bonds and stocks were flat today",
        "the market closed higher, stocks up",
    ] * 5:
        log.append(text)
    vault.memory.flush()
    plain = mdstore.open(root, memory={"embeddings": "none", "entry_context_weight": 0})
    try:
        assert {h.content for h in plain.memory.search_sessions("dog", limit=50)} == {
            "the dog chased the ball in the park",
            "the dog and the ball at the park again",
        }
    finally:
        plain.close()
    contents = {h.content for h in vault.memory.search_sessions("dog", limit=50)}
    assert "our puppy loves the park and the ball" in contents
    assert not any("stocks" in c or "bonds" in c for c in contents)
    vault.close()


def test_search_sessions_finds_an_answer_by_the_turn_around_it(tmp_path: Path) -> None:
    """A reply often holds none of the question's words: the turn that asked holds them. The turns
    just before and after an entry count as its context, at a lower weight than its own words."""
    root = tmp_path / "v"
    root.mkdir()
    turns = [
        ("bob", "Did you find a name for the new puppy yet?"),
        ("ann", "Yes! We went with Biscuit, after his colour."),
        ("bob", "Love it. The garden looks great by the way."),
        ("ann", "Thanks, the tomatoes are finally ripe."),
        ("bob", "Our neighbours got a puppy too, a loud one."),
    ]
    with mdstore.open(root, memory={"embeddings": "none"}) as vault:
        log = vault.memory.log("monday")
        for n, (role, text) in enumerate(turns[:2]):
            log.append({"role": role, "content": text, "time": DAY + dt.timedelta(minutes=n)})
        # The appended reply changed the context of the question before it.
        assert [h.position for h in vault.memory.search_sessions("Biscuit")] == [1, 0]
        for n, (role, text) in enumerate(turns[2:], start=2):
            log.append({"role": role, "content": text, "time": DAY + dt.timedelta(minutes=n)})
        hits = vault.memory.search_sessions("What name did Ann give the puppy?")
        # The question first (its own words), then Ann's reply (her name, and the question as
        # its context) before the neighbours' puppy and Ann's other turn.
        assert [h.position for h in hits][:2] == [0, 1]
        assert hits[0].score > hits[1].score
    with mdstore.open(root, memory={"embeddings": "none", "entry_context_weight": 0}) as vault:
        positions = [h.position for h in vault.memory.search_sessions("What name did Ann give the puppy?")]
        assert positions[:2] == [0, 3]  # without context only her name finds the reply


def test_search_sessions_ignores_what_an_apostrophe_leaves(tmp_path: Path) -> None:
    """"Ann's" in a question is Ann: its "s" would match every "it's" and "that's"."""
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, memory={"embeddings": "none", "entry_context_weight": 0}) as vault:
        log = vault.memory.log("monday")
        log.append({"role": "ann", "content": "The new bike is red", "time": DAY})
        log.append({"role": "bob", "content": "It's late, that's all I'll say", "time": DAY})
        hits = vault.memory.search_sessions("What colour is Ann's bike?")
        assert [h.content for h in hits] == ["The new bike is red"]
        # A question of nothing else keeps them.
        assert [h.role for h in vault.memory.search_sessions("it's")] == ["bob"]


def test_bad_entry_context_weight(tmp_path: Path) -> None:
    (tmp_path / "mdstore.toml").write_text("[memory]\nentry_context_weight = -0.5\n")
    with mdstore.open(tmp_path) as vault:
        with pytest.raises(mdstore.ConfigError, match="memory.entry_context_weight must be 0 or more"):
            vault.memory  # noqa: B018


def test_search_sessions_bad_input(vault: mdstore.Vault) -> None:
    _talk(vault)
    m = vault.memory
    with pytest.raises(mdstore.ValidationError, match="query must be a string"):
        m.search_sessions(None)  # type: ignore[arg-type]
    with pytest.raises(mdstore.ValidationError, match="limit must be a positive integer"):
        m.search_sessions("x", limit=0)
    with pytest.raises(mdstore.ValidationError, match="role must be a string"):
        m.search_sessions("x", role=3)  # type: ignore[arg-type]
    with pytest.raises(mdstore.QueryError, match="inverted"):
        m.search_sessions("x", after="2026-05-01", before="2026-04-01")
    with pytest.raises(mdstore.QueryError, match="after: 'soon' is not an ISO date"):
        m.search_sessions("x", after="soon")
    with pytest.raises(mdstore.QueryError, match="after: .* is out of range in UTC"):
        m.search_sessions("x", after="0001-01-01T00:00+05:00")


def test_long_session_goes_on_in_parts(tmp_path: Path) -> None:
    """An append touches only the session's last note: past ``part_entries`` a new part begins."""
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, memory={"part_entries": 3, "flush_seconds": 3600}) as vault:
        log = vault.memory.log("long talk")
        written = [log.append(f"message number {n}").id for n in range(4)]
        assert log.flush() == 4
        written += [log.append(f"message number {n}").id for n in range(4, 8)]
        assert log.flush() == 4
        parts = log.parts()
        assert [p.rsplit("/", 1)[1] for p in parts] == [
            "long-talk-" + parts[0].rsplit("-", 1)[1],
            parts[0].rsplit("/", 1)[1][:-3] + " (2).md",
            parts[0].rsplit("/", 1)[1][:-3] + " (3).md",
        ]
        held = [parse_entries(vault.get(p).body) for p in parts]
        assert [len(h) for h in held] == [3, 3, 2]
        assert [e.id for h in held for e in h] == written
        fronts = [vault.get(p).frontmatter for p in parts]
        assert [f.get("part") for f in fronts] == [None, 2, 3]
        assert [f.get("offset", 0) for f in fronts] == [0, 3, 6]
        assert {f["session"] for f in fronts} == {"long talk"} and fronts[2]["entries"] == 2
        assert log.length() == 8 and [e.content for e in log.range(-2)] == [
            "message number 6",
            "message number 7",
        ]
        assert log.path() == parts[0]
        hit = vault.memory.search_sessions("number 7")[0]
        assert (hit.position, hit.path) == (7, parts[2])
    with mdstore.open(root, memory={"part_entries": 3}) as again:  # a new process finds every part
        assert again.memory.log("long talk").length() == 8


def test_cli_search_sessions(vault: mdstore.Vault) -> None:
    _talk(vault)
    vault.memory.flush()
    runner = CliRunner()
    base = ["--vault", str(vault.root)]
    out = runner.invoke(cli, [*base, "memory", "search-sessions", "puppy", "--role", "ann", "--json"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert rows[0]["session"] == "monday" and rows[0]["position"] == 0
    bad = runner.invoke(
        cli, [*base, "memory", "search-sessions", "x", "--after", "2026-05-01", "--before", "2026-01-01"]
    )
    assert bad.exit_code == mdstore.QueryError.exit_code
    assert bad.output.count("\n") == 1 and "inverted" in bad.output


def test_insights_that_share_every_word_are_recalled_without_a_warning(tmp_path: Path) -> None:
    # Texts that reduce to the same words leave the latent model no variance to explain (scikit-learn
    # divides by it); the suite turns warnings into errors, so a warning fails this test.
    with mdstore.open(tmp_path) as vault:
        m = vault.memory
        for user in ("ann", "bob", "carol"):
            m.store_insight("Ann likes tea", user=user, source="agent", category="fact")
        assert m.flush() == 3
        assert len(m.search_insights("ann tea")) == 3
