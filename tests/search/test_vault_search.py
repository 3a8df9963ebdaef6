"""Search through the Vault: filters shared with find(), results, freshness after syncs, repair of
a search index left behind, both engines, related notes and bad input. Real vaults in tmp dirs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mdstore
from mdstore.errors import BackendUnavailable, IndexBusy, NoteNotFound, QueryError

from .conftest import ENGINES, engine_param

FILES: dict[str, str] = {
    "garden/tomatoes.md": (
        "---\nstatus: active\npriority: 2\ntags: [garden]\n---\n# Growing tomatoes\n"
        "Tomatoes like warm soil and compost. See [[code/asyncio]] and [[cafe]].\n\n"
        "## Pests\nAphids love tomato plants.\n- [ ] spray the aphids\n"
    ),
    "garden/compost.md": (
        "---\nstatus: done\npriority: 1\ntags: [garden]\n---\n# Compost\n"
        "Compost feeds tomatoes and beans. Turn the compost heap weekly.\n"
    ),
    "code/asyncio.md": (
        "---\nstatus: active\n---\n# Asyncio notes\n"
        "The event loop runs coroutines; tomato timers are a joke.\n"
        "## Cancellation\nA cancelled task raises CancelledError.\n- [x] read the docs\n"
    ),
    "code/threads.md": "# Threads\nThreads share memory. The GIL limits CPU-bound threads. #python\n",
    "cafe.md": "# Café in Zürich\nTomato soup at the café, near the Straße. #travel\n",
    "daily/2026-01-05.md": (
        "# Monday\nWatered the tomatoes, read about asyncio coroutines. [[garden/tomatoes]]\n"
    ),
    "the.md": "# The\nTo be or not to be, that is the question.\n",
}

def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


OpenVault = Callable[..., mdstore.Vault]


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for rel, text in FILES.items():
        write(root, rel, text)
    # distinct, ordered mtimes so that sorting by modification time is deterministic
    for i, rel in enumerate(sorted(FILES)):
        os.utime(root / rel, (1_700_000_000 + i * 100, 1_700_000_000 + i * 100))
    return root


@pytest.fixture
def open_vault(vault_dir: Path) -> Iterator[OpenVault]:
    opened: list[mdstore.Vault] = []

    def factory(engine: str = "whoosh", **search: Any) -> mdstore.Vault:
        vault = mdstore.open(vault_dir, search={"engine": engine, **search}, index={"parse_workers": 1})
        opened.append(vault)
        return vault

    yield factory
    for vault in opened:
        vault.close()


@pytest.fixture(params=[engine_param(e) for e in ENGINES])
def vault(request: pytest.FixtureRequest, open_vault: OpenVault) -> mdstore.Vault:
    v = open_vault(request.param)
    v.sync()
    return v


@pytest.fixture(scope="module", params=[engine_param(e) for e in ENGINES])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[mdstore.Vault]:
    """One synced vault per engine for the tests that only read (keeps the suite fast)."""
    root = tmp_path_factory.mktemp(f"shared-{request.param}") / "vault"
    for i, rel in enumerate(sorted(FILES)):
        write(root, rel, FILES[rel])
        os.utime(root / rel, (1_700_000_000 + i * 100, 1_700_000_000 + i * 100))
    v = mdstore.open(root, search={"engine": request.param}, index={"parse_workers": 1})
    v.sync()
    yield v
    v.close()


# -- search() and find(text=...) ask the same question -----------------------------------------

QUESTIONS: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    ("tomato", (), {}),
    ("tomato", ("status = active",), {}),
    ("tomato", (), {"where": {"priority": (">=", 2)}}),
    ("tomato OR compost", (), {"tag": "garden"}),
    ("tomato", (), {"folder": "garden"}),
    ("tomato", (), {"links_to": "code/asyncio.md"}),
    ("tomato", (), {"linked_from": "garden/tomatoes.md"}),
    ("tomato", (), {"modified_after": "2023-11-14"}),
    ("tomato", (), {"created_before": "2030-01-01"}),
    ("tomato", (), {"has_open_tasks": True}),
    ("tomato", (), {"has_open_tasks": False}),
    ("tomato", (), {"sort": "-modified"}),
    ("tomato OR compost", (), {"sort": ["priority", "-modified"]}),
    ("tomato", (), {"limit": 2, "offset": 1}),
    ("tomato", ("missing_property = 3",), {}),
]


@pytest.mark.parametrize(("text", "filters", "kwargs"), QUESTIONS)
def test_search_and_find_text_agree(
    shared: mdstore.Vault, text: str, filters: tuple[str, ...], kwargs: dict[str, Any]
) -> None:
    kwargs = {"limit": 50, **kwargs}
    found = shared.search(text, *filters, **kwargs)
    rows = shared.find(*filters, text=text, **kwargs)
    assert found.paths() == rows.paths()
    assert [h.score for h in found.hits] == rows.column("score")
    assert set(rows.columns) >= {"path", "title", "tags", "frontmatter", "score"}
    # the filters hold: every hit passes find() with the same filters and no text
    plain = {k: v for k, v in kwargs.items() if k not in ("limit", "offset", "sort")}
    assert set(found.paths()) <= set(shared.find(*filters, **plain).paths())


def test_filters_restrict_the_hits(shared: mdstore.Vault) -> None:
    assert set(shared.search("tomato").paths()) == {
        "garden/tomatoes.md",
        "garden/compost.md",
        "code/asyncio.md",
        "cafe.md",
        "daily/2026-01-05.md",
    }
    assert shared.search("tomato", tag="garden").paths()[0] == "garden/tomatoes.md"
    assert set(shared.search("tomato", tag="garden").paths()) == {"garden/tomatoes.md", "garden/compost.md"}
    assert shared.search("tomato", "status = active", has_open_tasks=True).paths() == ["garden/tomatoes.md"]
    assert shared.search("tomato", "missing_property = 3").total == 0
    assert shared.search("tomato", sort="-modified").paths() == [
        "garden/tomatoes.md",
        "garden/compost.md",
        "daily/2026-01-05.md",
        "code/asyncio.md",
        "cafe.md",
    ]


def test_results_have_scores_snippets_headings_pages_and_suggestions(shared: mdstore.Vault) -> None:
    first = shared.search("aphids")
    hit = first.hits[0]
    assert (first.total, hit.path, hit.title) == (1, "garden/tomatoes.md", "Growing tomatoes")
    assert hit.score > 0
    assert hit.snippets[0].heading == "Pests" and "**Aphids**" in hit.snippets[0].highlighted
    assert hit.to_dict()["snippets"][0]["heading"] == "Pests"
    json.dumps(first.to_dicts())  # export-ready: plain values only

    page1 = shared.search("tomato", limit=2)
    page2 = shared.search("tomato", limit=2, offset=page1.next_offset)
    page3 = shared.search("tomato", limit=2, offset=page2.next_offset)
    assert page1.total == page2.total == page3.total == 5
    assert page3.next_offset is None
    assert len({*page1.paths(), *page2.paths(), *page3.paths()}) == 5

    none = shared.search("tomatoe compst")
    assert none.total == 0 and none.hits == ()
    assert "tomato compost" in none.suggestions or "tomatoes compost" in none.suggestions


# -- kept current by sync -----------------------------------------------------------------------


def test_edit_delete_and_move_are_visible_after_sync(vault: mdstore.Vault) -> None:
    root = vault.root
    write(root, "code/threads.md", "# Threads\nThreads share memory with zeppelins.\n")
    vault.sync(paths=["code/threads.md"])
    assert vault.search("zeppelin").paths() == ["code/threads.md"]
    assert vault.search("GIL").total == 0

    (root / "code/threads.md").rename(root / "archive.md")
    vault.sync()
    assert vault.search("zeppelin").paths() == ["archive.md"]
    assert vault.related("archive.md", k=3) is not None

    (root / "archive.md").unlink()
    vault.sync()
    assert vault.search("zeppelin").total == 0
    with pytest.raises(NoteNotFound):
        vault.related("archive.md")
    status = vault.search_status()
    assert status["search"]["ready"] and status["related"]["ready"]
    assert status["search"]["notes"] == len(FILES) - 1


def test_a_search_index_synced_without_is_repaired(open_vault: OpenVault, vault_dir: Path) -> None:
    off = open_vault("none", related=False)
    off.sync()
    with pytest.raises(BackendUnavailable, match='engine = "none"'):
        off.search("tomato")
    write(vault_dir, "cafe.md", "# Café\nBorscht and zeppelins.\n")
    off.sync()  # DuckDB moves on; no search index follows it
    off.close()

    on = open_vault("whoosh")
    assert on.search_status()["search"]["ready"] is False
    on.sync()  # a no-op for DuckDB: the listener sees the stamp behind and repairs
    assert on.search_status()["search"]["ready"] is True
    assert on.search("zeppelin").paths() == ["cafe.md"]
    assert on.related("cafe.md", k=2).paths()


def test_a_search_behind_by_a_crash_is_repaired_with_only_the_difference(
    open_vault: OpenVault, vault_dir: Path
) -> None:
    vault = open_vault("whoosh")
    vault.sync()
    before = vault.search_status()["search"]["stamp"]
    vault.close()
    # the crash: DuckDB commits the edit, the search side never hears of it
    off = open_vault("none", related=False)
    write(vault_dir, "the.md", "# The\nQuokkas everywhere.\n")
    (vault_dir / "code/threads.md").unlink()
    off.sync()
    off.close()

    vault = open_vault("whoosh")
    status = vault.search_status()
    assert status["search"]["stamp"] == before and status["generation"] == before + 1
    # the next search repairs first (no other process holds the owner lock)
    assert vault.search("quokka").paths() == ["the.md"]
    assert vault.search("GIL").total == 0
    assert vault.search_status()["search"]["ready"]
    assert vault.related("the.md").to_dicts() is not None


def test_a_deleted_search_folder_is_rebuilt_by_the_next_sync(vault: mdstore.Vault) -> None:
    engine = vault.config.search.engine
    vault.close()
    shutil.rmtree(vault.root / ".mdstore" / "search")
    reopened = mdstore.open(vault.root, search={"engine": engine})
    try:
        reopened.sync()
        assert reopened.search_status()["search"]["ready"]
        assert reopened.search("aphids").paths() == ["garden/tomatoes.md"]
        assert reopened.related("garden/tomatoes.md", k=2).paths()
    finally:
        reopened.close()


def test_engines_are_chosen_by_config_and_agree(open_vault: OpenVault, vault_dir: Path) -> None:
    pytest.importorskip("tantivy")
    results = {}
    for engine in ENGINES:
        vault = open_vault(engine)
        vault.sync()
        assert vault.search_status()["engine"] == engine
        assert (vault_dir / ".mdstore" / "search" / engine).is_dir()
        results[engine] = sorted(vault.search("tomato OR compost", tag="garden").paths())
        vault.close()
    assert results["whoosh"] == results["tantivy"]


def test_reindex_search_rebuilds_only_the_search_side(vault: mdstore.Vault) -> None:
    before = vault.search("tomato").paths()
    generation = vault.status()["generation"]
    summary = vault.reindex_search()
    assert summary["notes"] == len(FILES) and summary["engine"] == vault.config.search.engine
    assert vault.status()["generation"] == generation
    assert vault.search("tomato").paths() == before


# -- related notes --------------------------------------------------------------------------------


def test_related_and_similar(shared: mdstore.Vault) -> None:
    related = shared.related("garden/tomatoes.md", k=3)
    assert related.columns == ("path", "title", "score")
    assert related.paths()[0] in {"garden/compost.md", "daily/2026-01-05.md", "cafe.md"}
    assert related.to_dicts() == shared.related("garden/tomatoes.md", k=3).to_dicts()  # deterministic
    scores = related.column("score")
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)

    linked = {"code/asyncio.md", "cafe.md", "daily/2026-01-05.md"}  # links to it and from it
    unlinked = shared.related("garden/tomatoes.md", k=10, exclude_linked=True).paths()
    assert not linked & set(unlinked) and "garden/compost.md" in unlinked
    assert shared.related("tomatoes", k=1).paths() == shared.related("garden/tomatoes.md", k=1).paths()

    assert shared.similar("compost heap for beans", k=2).paths()[0] == "garden/compost.md"
    with pytest.raises(QueryError):
        shared.similar("   ")
    with pytest.raises(QueryError):
        shared.related("garden/tomatoes.md", k=0)
    with pytest.raises(NoteNotFound):
        shared.related("no/such.md")


def test_the_model_refits_in_the_sync_that_makes_the_drift_large(
    open_vault: OpenVault, vault_dir: Path
) -> None:
    vault = open_vault("whoosh", refit_min=2, refit_ratio=0.0)
    vault.sync()
    write(vault_dir, "cafe.md", "# Café\nPelmeni.\n")
    vault.sync()
    assert vault.search_status()["related"]["drift"] == 1
    write(vault_dir, "the.md", "# The\nPelmeni again.\n")
    vault.sync()
    assert vault.search_status()["related"]["drift"] == 0  # refitted: "pelmeni" is in the vocabulary
    assert set(vault.similar("pelmeni").paths()) == {"cafe.md", "the.md"}


def test_engine_none_keeps_related_notes(open_vault: OpenVault) -> None:
    vault = open_vault("none")
    vault.sync()
    with pytest.raises(BackendUnavailable):
        vault.find(text="tomato")
    assert vault.related("garden/compost.md", k=2).paths()
    assert "search" not in vault.search_status()


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty search query"),
        ("   ", "empty search query"),
        ('"tomato soup', "unbalanced quotes"),
        ("(tomato OR soup", "unbalanced parentheses"),
        ("colour:red", "unknown search field 'colour'"),
    ],
)
def test_malformed_queries_are_query_errors(shared: mdstore.Vault, text: str, match: str) -> None:
    with pytest.raises(QueryError, match=match):
        shared.search(text)
    with pytest.raises(QueryError, match=match):
        shared.find(text=text, tag="garden")


def test_odd_but_valid_queries(shared: mdstore.Vault) -> None:
    assert shared.search("the").total == 0  # only stop words: no hits, no error
    assert shared.search("to be or not to be").suggestions == ()
    huge = " ".join(["tomato"] + ["zzz"] * 2500)[:10_000]
    assert len(huge) == 10_000
    assert shared.search(huge).total >= 0
    assert shared.search("title:cafe").paths() == ["cafe.md"]  # accents folded
    assert shared.search("Zürich Straße").paths() == ["cafe.md"]
    assert shared.search("日本語").total == 0
    assert shared.search("tomato", where={"no_such_key": "x"}).total == 0
    with pytest.raises(QueryError):
        shared.search("tomato", sort="-modified", limit=-1)
    with pytest.raises(QueryError):
        shared.search(42)  # type: ignore[arg-type]


HOLDER = """
import json, sys, time
from pathlib import Path
from mdstore.index.lock import OwnerLock
state = Path(sys.argv[1])
lock = OwnerLock(state, role="mdstore build")
lock.acquire(10)
(state / "search").mkdir(exist_ok=True)
(state / "search" / "building.json").write_text(json.dumps({"pid": 0, "started": time.time(), "notes": 7}))
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def lock_holder(vault_dir: Path) -> Iterator[Callable[[], None]]:
    procs: list[subprocess.Popen[str]] = []

    def hold() -> None:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(vault_dir / ".mdstore")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"

    yield hold
    for proc in procs:
        proc.communicate(timeout=30)  # closing stdin lets it exit


def test_search_while_another_process_builds(
    open_vault: OpenVault, vault_dir: Path, lock_holder: Callable[[], None]
) -> None:
    off = open_vault("none", related=False)
    off.sync()
    off.close()
    lock_holder()
    vault = mdstore.open(vault_dir, search={"engine": "whoosh"}, index={"busy_timeout": 0.3})
    try:
        assert vault.find(tag="garden").paths()  # DuckDB reads go on meanwhile
        status = vault.search_status()
        assert status["search"]["ready"] is False and status["building"]["notes"] == 7
        started = time.monotonic()
        with pytest.raises(
            IndexBusy,
            match=r"cannot build the search index now: pid \d+ \(mdstore build\).*cold build of 7 notes",
        ):
            vault.search("tomato")
        assert time.monotonic() - started < 5
    finally:
        vault.close()


def test_a_stale_search_index_is_served_while_another_process_writes(
    open_vault: OpenVault, vault_dir: Path, lock_holder: Callable[[], None]
) -> None:
    vault = open_vault("whoosh")
    vault.sync()
    vault.close()
    off = open_vault("none", related=False)
    write(vault_dir, "the.md", "# The\nQuokkas.\n")
    off.sync()
    off.close()
    lock_holder()
    vault = mdstore.open(vault_dir, search={"engine": "whoosh"}, index={"busy_timeout": 0.3})
    try:
        assert vault.search("aphids").paths() == ["garden/tomatoes.md"]  # the old index answers
        assert vault.search("quokka").total == 0  # ... until the writer catches it up
    finally:
        vault.close()
