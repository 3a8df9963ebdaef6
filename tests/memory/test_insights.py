from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import mdstore
from mdstore.memory import InsightFilter


def test_store_get_dedupe_delete(vault: mdstore.Vault) -> None:
    m = vault.memory
    first = m.store_insight(
        "Ann prefers short answers", user="ann", source="agent", category="preference", metadata={"turn": 3}
    )
    again = m.store_insight("  ann prefers SHORT answers ", user="ann", source="user", category="fact")
    assert again.id == first.id and again.path == first.path
    other_user = m.store_insight(
        "Ann prefers short answers", user="bob", source="agent", category="preference"
    )
    assert other_user.id != first.id
    got = m.get_insight(first.id)
    assert got.content == "Ann prefers short answers" and got.metadata == {"turn": 3} and got.relevance == 1.0
    m.flush()  # the note follows the journal line (write-behind)
    assert m.get_insight(first.id) == got
    note = vault.get(first.path)
    assert note.frontmatter["source"] == "agent" and note.frontmatter["category"] == "preference"
    assert {"id", "user", "source", "category", "relevance", "created", "decayed_at", "provenance"} <= set(
        note.frontmatter
    )
    # An explicit id with the same content still finds the stored insight.
    assert (
        m.store_insight("Ann prefers short answers", user="ann", source="agent", category="fact", id="x1").id
        == first.id
    )
    m.delete_insight(first.id)
    with pytest.raises(mdstore.NoteNotFound):
        m.get_insight(first.id)
    assert (vault.root / ".trash").is_dir()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"content": "   "}, "content is empty"),
        ({"content": ""}, "content is empty"),
        ({"category": "gossip"}, "category 'gossip'"),
        ({"source": "oracle"}, "source 'oracle'"),
        ({"relevance": -1}, "relevance"),
        ({"id": "../x"}, "id"),
        ({"metadata": {"f": object()}}, "metadata"),
    ],
)
def test_bad_insight(vault: mdstore.Vault, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "content": "a fact",
        "user": "ann",
        "source": "agent",
        "category": "fact",
    } | kwargs
    content = args.pop("content")
    with pytest.raises(mdstore.ValidationError, match=match):
        vault.memory.store_insight(content, **args)  # type: ignore[arg-type]
    assert not (vault.root / "Memory").exists()


def test_inverted_date_range() -> None:
    with pytest.raises(mdstore.QueryError, match="inverted"):
        InsightFilter(created_after="2026-12-05", created_before="2026-12-01")
    with pytest.raises(mdstore.QueryError, match="not an ISO date"):
        InsightFilter(created_after="yesterday")
    with pytest.raises(mdstore.ValidationError, match="category"):
        InsightFilter(category="nope")


def test_search_filters_and_ranking(vault: mdstore.Vault) -> None:
    m = vault.memory
    m.store_insight("The release train leaves every Friday", user="ann", source="agent", category="decision")
    m.store_insight(
        "Friday releases need a second reviewer",
        user="bob",
        source="user",
        category="learning",
        relevance=0.5,
    )
    m.store_insight("Bob's dog is named Rex", user="bob", source="user", category="fact")
    found = m.search_insights("friday release")
    assert [i.content for i in found][:2] == [
        "The release train leaves every Friday",
        "Friday releases need a second reviewer",
    ]
    assert found[0].score > found[1].score > 0
    assert [i.user for i in m.search_insights("friday", filter=InsightFilter(user="bob"))] == ["bob"]
    assert m.search_insights("friday", filter=InsightFilter(min_relevance=0.8))[0].user == "ann"
    assert m.search_insights("friday", filter=InsightFilter(category="fact")) == []
    assert m.search_insights("friday", filter=InsightFilter(source="user"))[0].user == "bob"
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert m.search_insights("friday", filter=InsightFilter(created_after=tomorrow)) == []
    assert len(m.search_insights("friday", filter=InsightFilter(created_before=tomorrow))) == 2
    with pytest.raises(mdstore.ValidationError, match="limit"):
        m.search_insights("friday", limit=0)


def test_recency_decays_the_score(vault: mdstore.Vault) -> None:
    m = vault.memory
    old = m.store_insight("the build uses make", user="ann", source="agent", category="fact")
    new = m.store_insight("the build uses ninja", user="ann", source="agent", category="fact")
    m.flush()  # the notes exist once the journal is flushed
    vault.update(old.path, set={"created": "2025-01-01T00:00:00.000Z"})
    found = m.search_insights("build uses")
    assert [i.id for i in found] == [new.id, old.id]


def test_vectors_find_what_words_miss(tmp_path: Path) -> None:
    """LSA links words that share contexts: 'puppy' finds the dog insight it never names, and not
    the unrelated ones (2 dimensions, so that the test corpus has more texts than dimensions)."""
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, memory={"dimensions": 2}) as vault:
        m = vault.memory
        for n in range(6):
            m.store_insight(
                f"our puppy and the dog park, visit {n}", user="ann", source="user", category="fact"
            )
            m.store_insight(
                f"the stock portfolio and the bond market, review {n}",
                user="ann",
                source="user",
                category="fact",
            )
        target = m.store_insight("the dog needs a vet check", user="ann", source="user", category="fact")
        found = [i.id for i in m.search_insights("puppy", limit=20)]
        assert target.id in found and len(found) == 7  # the six puppy notes and the dog one
        m.embeddings = None
        assert target.id not in [i.id for i in m.search_insights("puppy", limit=20)]


def test_an_id_taken_by_other_content_is_an_error(vault: mdstore.Vault) -> None:
    m = vault.memory
    m.store_insight("first text", user="ann", source="agent", category="fact", id="fixed")
    with pytest.raises(mdstore.ValidationError, match="'fixed' and other content"):
        m.store_insight("second text", user="ann", source="agent", category="fact", id="fixed")
    assert m.get_insight("fixed").content == "first text"


def test_search_follows_stores_edits_deletes_of_any_process(tmp_path: Path) -> None:
    """The search keeps its insights in the process and updates them note by note: what another
    process stored, a hand edit once indexed, and a delete are all seen by the next search."""
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, memory={"embeddings": "none"}) as vault:
        m = vault.memory
        kept = [
            m.store_insight(f"note {n} about the garden", user="ann", source="agent", category="fact")
            for n in range(30)
        ]
        assert len(m.search_insights("garden", limit=50)) == 30
        with mdstore.open(root) as other:
            other.memory.store_insight("Ann keeps bees", user="ann", source="user", category="fact")
        assert [i.content for i in m.search_insights("bees")] == ["Ann keeps bees"]
        path = vault.root / kept[3].path
        path.write_text(path.read_text(encoding="utf-8").replace("garden", "orchard"), encoding="utf-8")
        vault.sync()
        assert [i.id for i in m.search_insights("orchard")] == [kept[3].id]
        assert kept[3].id not in {i.id for i in m.search_insights("garden", limit=50)}
        m.delete_insight(kept[5].id)
        assert len(m.search_insights("garden", limit=50)) == 28
        assert kept[5].id not in {i.id for i in m.search_insights("garden", limit=50)}
