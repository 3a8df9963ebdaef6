"""Vault.find and the read API over typed values."""

from __future__ import annotations

import datetime as dt

import pytest

import mdstore

FILES = {
    "p/a.md": """---
status: active
priority: 3
rating: 4.5
due: 2026-12-01
done: false
tags: [project, area/work]
people: [ada, bob]
project: {name: Apollo, phase: 2}
---
# A
[[b]] [[c]]
- [ ] open one [due:: 2020-01-01]

owner:: ada
""",
    "p/b.md": """---
status: waiting
priority: 1
due: 2026-11-15T10:30:00
done: true
tags: project
people: [carol]
---
# B
[[a]]
- [x] closed
""",
    "q/c.md": """---
status: active
priority: 2
due: 2027-01-10
project: {name: Zeus, phase: 1}
---
# C
#area/home
""",
    "d.md": "# D\nno frontmatter, links to [[a]]\n",
}


@pytest.fixture
def vault(make_vault):
    v = make_vault(FILES)
    v.sync()
    return v


def paths(result) -> list[str]:
    return sorted(result.paths())


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("status = active", ["p/a.md", "q/c.md"]),
        ("status = ACTIVE", ["p/a.md", "q/c.md"]),
        ("status != active", ["d.md", "p/b.md"]),
        ("priority >= 2", ["p/a.md", "q/c.md"]),
        ("priority < 2", ["p/b.md"]),
        ("priority = 3", ["p/a.md"]),
        ("rating > 4", ["p/a.md"]),
        ("done = true", ["p/b.md"]),
        ("done = false", ["p/a.md"]),
        ("due < 2026-12-01", ["p/b.md"]),
        ("due <= 2026-12-01", ["p/a.md", "p/b.md"]),
        ("due = 2026-11-15", ["p/b.md"]),
        ("due > 2026-12-01", ["q/c.md"]),
        ("due between 2026-11-01 and 2026-12-31", ["p/a.md", "p/b.md"]),
        ("status in (active, waiting)", ["p/a.md", "p/b.md", "q/c.md"]),
        ("status not in (active)", ["d.md", "p/b.md"]),
        ("people contains ada", ["p/a.md"]),
        ("people = carol", ["p/b.md"]),
        ("project.name = Zeus", ["q/c.md"]),
        ("project.phase >= 2", ["p/a.md"]),
        ("project exists", ["p/a.md", "q/c.md"]),
        ("project not exists", ["d.md", "p/b.md"]),
        ("owner = ada", ["p/a.md"]),
        ("#project", ["p/a.md", "p/b.md"]),
        ("#area", ["p/a.md", "q/c.md"]),
        ("#area/home", ["q/c.md"]),
        ("-#project", ["d.md", "q/c.md"]),
        ("tags contains project", ["p/a.md", "p/b.md"]),
        ("title = B", ["p/b.md"]),
        ("folder = p", ["p/a.md", "p/b.md"]),
        ("path contains c.md", ["q/c.md"]),
        ("words > 0", ["d.md", "p/a.md", "p/b.md", "q/c.md"]),
    ],
)
def test_filters(vault, expr, expected):
    assert paths(vault.find(expr)) == expected


def test_task_fields_are_not_note_properties(vault):
    # p/a.md has frontmatter due 2026-12-01 and a task with [due:: 2020-01-01]: the task's field
    # belongs to the task, so the note is not "due before 2021".
    assert paths(vault.find("due < 2021-01-01")) == []
    assert vault.tasks(path="p/a.md").first()["fields"] == {"due": "2020-01-01"}


def test_open_tasks_exclude_cancelled(make_vault):
    v = make_vault({"t.md": "- [ ] open\n- [x] done\n- [-] cancelled\n- [/] started\n"})
    v.sync()
    assert [t["text"] for t in v.tasks(done=False)] == ["open", "started"]
    assert [t["text"] for t in v.tasks(done=True)] == ["done"]
    assert paths(v.find(has_open_tasks=True)) == ["t.md"]


def test_negated_tag_keyword(vault):
    assert paths(vault.find(tag=["area", "-area/work"])) == ["q/c.md"]


def test_filters_combine_with_and(vault):
    assert paths(vault.find("status = active", "priority >= 3")) == ["p/a.md"]
    assert paths(vault.find("status = active", tag="area")) == ["p/a.md", "q/c.md"]


def test_where_dict(vault):
    assert paths(vault.find(where={"status": "active", "priority": (">", 2)})) == ["p/a.md"]
    assert paths(vault.find(where={"due": ("<", dt.date(2026, 12, 1))})) == ["p/b.md"]
    with pytest.raises(mdstore.QueryError, match="unknown operator"):
        vault.find(where={"priority": ("~", 1)})


def test_folder_links_and_tasks_filters(vault):
    assert paths(vault.find(folder="p")) == ["p/a.md", "p/b.md"]
    assert paths(vault.find(folder="q/")) == ["q/c.md"]
    assert paths(vault.find(links_to="p/a.md")) == ["d.md", "p/b.md"]
    assert paths(vault.find(links_to="a")) == ["d.md", "p/b.md"]
    assert paths(vault.find(linked_from="p/a.md")) == ["p/b.md", "q/c.md"]
    assert paths(vault.find(has_open_tasks=True)) == ["p/a.md"]
    assert paths(vault.find(has_open_tasks=False)) == ["d.md", "p/b.md", "q/c.md"]


def test_sort_limit_offset(vault):
    assert vault.find("priority exists", sort="-priority").paths() == ["p/a.md", "q/c.md", "p/b.md"]
    assert vault.find("priority exists", sort=["priority"]).paths() == ["p/b.md", "q/c.md", "p/a.md"]
    assert vault.find(sort="status,-priority").paths() == ["p/a.md", "q/c.md", "p/b.md", "d.md"]
    assert vault.find(sort="path", limit=2).paths() == ["d.md", "p/a.md"]
    assert vault.find(sort="path", limit=2, offset=2).paths() == ["p/b.md", "q/c.md"]
    assert vault.find(sort="-due", limit=1).paths() == ["q/c.md"]


def test_modified_ranges(vault):
    today = dt.date.today()
    assert len(vault.find(modified_after=today - dt.timedelta(days=1))) == 4
    assert len(vault.find(modified_before="2000-01-01")) == 0
    with pytest.raises(mdstore.QueryError):
        vault.find(modified_after="yesterday-ish")


def test_result_conversions(vault):
    res = vault.find("status = active", sort="path")
    rows = res.to_dicts()
    assert rows[0]["frontmatter"]["project"] == {"name": "Apollo", "phase": 2}
    assert rows[0]["tags"] == ["area/work", "project"]
    df = res.df()
    assert list(df["path"]) == ["p/a.md", "q/c.md"]
    table = res.arrow()
    assert table.num_rows == 2 and "title" in table.column_names


def test_graph_and_listing_calls(vault):
    assert {r["source"] for r in vault.backlinks("p/a.md")} == {"p/b.md", "d.md"}
    assert [r["resolved"] for r in vault.outlinks("p/a.md")] == ["p/b.md", "q/c.md"]
    assert vault.broken_links().to_dicts() == []
    assert paths(vault.orphans()) == ["d.md"]
    near = {r["path"]: r["distance"] for r in vault.neighbors("q/c.md", depth=2)}
    assert near == {"p/a.md": 1, "p/b.md": 2, "d.md": 2}
    tags = {r["tag"]: r["count"] for r in vault.tags()}
    assert tags == {"project": 2, "area/work": 1, "area/home": 1}
    assert [t["text"] for t in vault.tasks(done=False)] == ["open one [due:: 2020-01-01]"]
    assert [t["text"] for t in vault.tasks(tag="project", done=True)] == ["closed"]


def test_get_reads_the_file_and_resolves_links(vault):
    note = vault.get("p/a.md")
    assert note.title == "A"
    assert note.frontmatter["priority"] == 3
    assert [link.resolved for link in note.links] == ["p/b.md", "q/c.md"]
    assert vault.get("a").path == "p/a.md"  # by name, like a wikilink


def test_sql_reads_documented_views(vault):
    res = vault.sql("SELECT target, count(*) AS n FROM backlinks GROUP BY target ORDER BY target")
    assert res.to_dicts() == [{"target": "p/a.md", "n": 2}, {"target": "p/b.md", "n": 1}, {"target": "q/c.md", "n": 1}]
    res = vault.sql("SELECT path FROM notes WHERE path = ?", ["d.md"])
    assert res.paths() == ["d.md"]


def test_check_reports_duplicate_ids_and_broken_links(make_vault):
    v = make_vault({"x.md": "---\nid: same\n---\n[[nowhere]]", "y.md": "---\nid: same\n---\n"})
    v.sync()
    kinds = sorted((r["path"], r["kind"]) for r in v.check())
    assert kinds == [("x.md", "broken-link"), ("x.md", "duplicate-id"), ("y.md", "duplicate-id")]


def test_git_commit_filters_use_the_commits_table(vault):
    # The history layer fills `commits` in git vaults; here rows are written directly to test find().
    import datetime as dt

    store = vault._store
    with store.write() as con:
        con.execute(
            "INSERT INTO commits VALUES ('p/a.md', 'r1', 'Ada', 'ada@example.org', ?), "
            "('p/b.md', 'r2', 'Bob', 'bob@example.org', ?)",
            [dt.datetime(2026, 1, 5, 12), dt.datetime(2026, 3, 1, 9)],
        )
    assert paths(vault.find(modified_by="ada")) == ["p/a.md"]
    assert paths(vault.find(modified_by="bob@example.org")) == ["p/b.md"]
    assert paths(vault.find(committed_after="2026-02-01")) == ["p/b.md"]
    assert paths(vault.find(committed_before="2026-01-05")) == []
    assert paths(vault.find(committed_before="2026-01-06")) == ["p/a.md"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.find("priority in (1, 2"), "'priority in \\(1, 2': the list after 'in' has no closing"),
        (lambda v: v.find("priority not in 1, 2)"), "has no opening"),
        (lambda v: v.find(sort="nonsense"), "sort key 'nonsense': no note has this property"),
        (lambda v: v.find(sort=["priority", "-nonsense"]), "sort key 'nonsense'"),
        (lambda v: v.tasks(status="xx"), "status must be one character.*'xx'"),
        (lambda v: v.tasks(status=""), "status must be one character"),
        (lambda v: v.find("status = active or"), "needs a filter on each side"),
        (lambda v: v.find("title = war or peace"), "'peace' is not a filter.*quote a value"),
    ],
)
def test_bad_arguments_are_query_errors_naming_them(vault, call, message) -> None:
    with pytest.raises(mdstore.QueryError, match=message):
        call(vault)


def test_sort_by_a_property_or_a_file_field(vault) -> None:
    assert vault.find(sort="-priority").paths()[:3] == ["p/a.md", "q/c.md", "p/b.md"]
    assert vault.find(sort="fm.rating").paths()[0] == "p/a.md"
    assert vault.find(sort="-words").paths()  # a file field needs no note to have it
    assert [t["text"] for t in vault.tasks(status="x")] == ["closed"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("status = waiting or priority >= 3", ["p/a.md", "p/b.md"]),
        ("#area/home or -#project", ["d.md", "q/c.md"]),
        ("status = 'active or waiting' or title = D", ["d.md"]),
        ("priority in (1, 2) OR due > 2027-01-01", ["p/b.md", "q/c.md"]),
        ("owner = ada or owner = bob or owner exists", ["p/a.md"]),
    ],
)
def test_or_inside_one_filter(vault, expr: str, expected: list[str]) -> None:
    assert paths(vault.find(expr)) == expected
    # Separate filters still combine with AND.
    assert paths(vault.find(expr, "status = active")) == [p for p in expected if p in ("p/a.md", "q/c.md")]


def test_relative_dates_follow_the_clock(make_vault) -> None:
    import os
    import time

    now = time.time()
    ages = {"today.md": 0.01, "three.md": 3.2, "ten.md": 10.5, "future.md": -20}  # days ago
    today = dt.date.today()
    due = {name: today - dt.timedelta(days=round(age)) for name, age in ages.items()}
    files = {name: f"---\ndue: {day.isoformat()}\n---\n" for name, day in due.items()}
    v = make_vault(files)
    for name, age in ages.items():
        os.utime(v.root / name, (now - age * 86400, now - age * 86400))
    v.sync()
    assert paths(v.find("modified > -7d")) == ["future.md", "three.md", "today.md"]
    assert paths(v.find("modified < -1w")) == ["ten.md"]
    assert paths(v.find("modified > -2h")) == ["future.md", "today.md"]
    assert paths(v.find("modified > +2d")) == ["future.md"]
    assert paths(v.find("due <= today")) == ["ten.md", "three.md", "today.md"]
    assert paths(v.find("due < today or due > +7d")) == ["future.md", "ten.md", "three.md"]
    assert paths(v.find("due between -4d and +0d")) == ["three.md", "today.md"]
    assert paths(v.find("due in (today, -3d)")) == ["three.md", "today.md"]
    assert paths(v.find("due = '-3d'")) == []  # quoted: text


def test_a_name_finds_a_note_whose_file_name_is_decomposed(make_vault):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Dossier é/Résumé.md")
    v = make_vault({nfd: "# CV\n", "links.md": "[[Résumé]]\n"})
    v.sync()
    for ref in ("Résumé", "Dossier é/Résumé", "Dossier é/Résumé.md"):  # typed in NFC
        assert v.get(ref).path == nfd, ref
    assert [r["source"] for r in v.backlinks("Résumé").to_dicts()] == ["links.md"]


def test_a_file_without_a_note_extension_is_never_taken_for_the_note(make_vault):
    v = make_vault({"TODO.md": "# The note\n"})
    (v.root / "TODO").write_text("not a note\n")
    (v.root / ".env").write_text("TOKEN=abc\n")
    v.sync()
    assert v.get("TODO").title == "The note"
    with pytest.raises(mdstore.NoteNotFound):
        v.get(".env")
    assert v.delete("TODO") == "TODO.md"
    assert (v.root / "TODO").read_text() == "not a note\n" and not (v.root / "TODO.md").exists()


def test_the_last_day_python_holds_answers_like_any_other(make_vault) -> None:
    """9999-12-31 means "never" to many: comparing with it answers instead of overflowing."""
    from tests.conftest import cli_run

    v = make_vault(
        {
            "never.md": "---\ndue: 9999-12-31\n---\n",
            "late.md": "---\ndue: 9999-12-31T23:00:00\n---\n",
            "soon.md": "---\ndue: 2026-01-05\n---\n",
            "none.md": "# no due\n",
        }
    )
    v.sync()
    assert paths(v.find("due = 9999-12-31")) == ["late.md", "never.md"]
    assert paths(v.find("due <= 9999-12-31")) == ["late.md", "never.md", "soon.md"]
    assert paths(v.find("due > 9999-12-31")) == []
    assert paths(v.find("due < 9999-12-31")) == ["soon.md"]
    assert paths(v.find("due != 9999-12-31")) == ["none.md", "soon.md"]
    assert paths(v.find("due between 2026-01-01 and 9999-12-31")) == ["late.md", "never.md", "soon.md"]
    everything = ["late.md", "never.md", "none.md", "soon.md"]
    assert paths(v.find("modified <= 9999-12-31")) == everything
    assert paths(v.find(created_before="9999-12-31")) == everything
    assert paths(v.find(modified_after=dt.date.max)) == []
    # A zoned time whose UTC time falls outside years 1-9999 is before (after) every stored time.
    assert paths(v.find("due > 0001-01-01T00:00+05:00")) == ["late.md", "never.md", "soon.md"]
    assert paths(v.find("due <= 0001-01-01T00:00+05:00")) == []
    assert paths(v.find("due < 9999-12-31T23:59-05:00")) == ["late.md", "never.md", "soon.md"]
    assert paths(v.find("due = 9999-12-31T23:59-05:00")) == []
    out = cli_run("find", "--created-before", "9999-12-31", "due = 9999-12-31", vault=v.root, code=0)
    assert sorted(line.split('"')[3] for line in out.stdout.splitlines()) == ["late.md", "never.md"]


@pytest.mark.parametrize("expr", ["modified > -99999999d", "due < +999999w", "modified > -99999999999h"])
def test_a_relative_date_out_of_range_is_named(vault, expr: str) -> None:
    with pytest.raises(mdstore.QueryError, match=r"relative date .* is out of range"):
        vault.find(expr)


def test_resolve_names_the_note_and_can_refuse_a_shared_name(make_vault):
    v = make_vault({"a/Plans.md": "# A\n", "b/Plans.md": "# B\n", "Solo.md": "# S\n"})
    v.sync()
    assert v.resolve("Solo") == "Solo.md" and v.resolve("Plans") == "a/Plans.md"
    with pytest.raises(mdstore.QueryError, match="'Plans' names 2 notes: a/Plans.md, b/Plans.md"):
        v.resolve("Plans", unique=True)
    assert v.resolve("b/Plans", unique=True) == "b/Plans.md"

