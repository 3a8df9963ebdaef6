"""LinkResolver (Obsidian resolution rules) and the link_key / name_keys contract."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdstore.notes.links import LinkResolver, link_key, name_keys
from mdstore.notes.model import Link

NOTES = [
    ("Index.md", ["Home", "Start Page"]),
    ("a/Note.md", []),
    ("a/b/Note.md", []),
    ("z/Note.md", []),
    ("a/b/c.md", []),
    ("x/b/c.md", []),
    ("deep/er/b/c.md", []),
    ("projects/Alpha Plan.md", ["alpha"]),
    ("dendron.topic.links.md", []),
    ("dendron.md", []),
    ("rel/sub/child.md", []),
    ("rel/sibling.md", []),
    ("Café.md", []),
]
ATTACHMENTS = ["img/pic.png", "docs/pic.png", "files/report.pdf", "rel/sub/local.png"]


@pytest.fixture(scope="module")
def resolver() -> LinkResolver:
    return LinkResolver(NOTES, ATTACHMENTS)


def wiki(target: str, kind: str = "wikilink", anchor: str | None = None) -> Link:
    return Link(target=target, kind=kind, anchor=anchor)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("Index", "Index.md"),  # by name
        ("index", "Index.md"),  # case-insensitive
        ("Index.md", "Index.md"),
        ("a/b/Note", "a/b/Note.md"),  # exact path, without .md
        ("a/b/Note.md", "a/b/Note.md"),  # exact path, with .md
        ("Note", "a/Note.md"),  # shortest path; a/ before z/ at equal depth
        ("b/c", "a/b/c.md"),  # path suffix, shortest then alphabetical
        ("er/b/c", "deep/er/b/c.md"),
        ("Home", "Index.md"),  # alias
        ("start page", "Index.md"),
        ("alpha", "projects/Alpha Plan.md"),
        ("Alpha Plan", "projects/Alpha Plan.md"),
        ("dendron.topic.links", "dendron.topic.links.md"),  # Dendron names keep their dots
        ("dendron", "dendron.md"),
        ("pic.png", "docs/pic.png"),  # attachments by full name, shortest then alphabetical
        ("img/pic.png", "img/pic.png"),
        ("report.pdf", "files/report.pdf"),
        ("report", None),  # an attachment needs its extension
        ("Missing", None),
        ("b/Missing", None),
        ("Café", "Café.md"),
        ("Cafe\u0301", "Café.md"),  # NFD spelling of the same name
    ],
)
def test_wikilinks(resolver: LinkResolver, target: str, expected: str | None) -> None:
    assert resolver.resolve(wiki(target), "somewhere/source.md") == expected


def test_self_links_and_urls(resolver: LinkResolver) -> None:
    assert resolver.resolve(wiki("", anchor="Heading"), "a/Note.md") == "a/Note.md"
    assert resolver.resolve(Link("", "markdown", anchor="x"), "a/Note.md") == "a/Note.md"
    assert resolver.resolve(Link("https://example.com", "url"), "a/Note.md") is None


@pytest.mark.parametrize(
    ("target", "source", "expected"),
    [
        ("sibling.md", "rel/x.md", "rel/sibling.md"),
        ("./sibling.md", "rel/x.md", "rel/sibling.md"),
        ("sub/child.md", "rel/x.md", "rel/sub/child.md"),
        ("sub/child", "rel/x.md", "rel/sub/child.md"),  # missing .md tried
        ("../sibling.md", "rel/sub/child.md", "rel/sibling.md"),
        ("../../Index.md", "rel/sub/child.md", "Index.md"),
        ("/a/Note.md", "rel/sub/child.md", "a/Note.md"),
        ("../../../escape.md", "rel/sub/child.md", None),
        ("Note.md", "rel/x.md", "a/Note.md"),  # not relative: Obsidian's shortest-path form
        ("Home", "rel/x.md", None),  # markdown links do not use aliases
    ],
)
def test_markdown_links_are_relative_to_the_source(
    resolver: LinkResolver, target: str, source: str, expected: str | None
) -> None:
    assert resolver.resolve(Link(target, "markdown"), source) == expected


def test_relative_wikilinks_and_markdown_embeds(resolver: LinkResolver) -> None:
    assert resolver.resolve(wiki("../sibling"), "rel/sub/child.md") == "rel/sibling.md"
    assert resolver.resolve(wiki("local.png", kind="embed"), "rel/sub/child.md") == "rel/sub/local.png"
    assert resolver.resolve(wiki("sub/local.png", kind="embed"), "rel/x.md") == "rel/sub/local.png"


def test_link_key_and_name_keys() -> None:
    assert link_key("Folder/My Note.md") == "my note"
    assert link_key("a.b.c") == "a.b.c"
    assert link_key("img/Pic.PNG") == "pic.png"
    assert link_key("") == ""
    assert name_keys("x/Alpha Plan.md", ["alpha", "sub/Other"]) == {"alpha plan", "alpha", "other"}
    assert name_keys("img/pic.png") == {"pic.png"}


def test_every_resolution_obeys_the_key_contract(resolver: LinkResolver) -> None:
    keys = {path: name_keys(path, aliases) for path, aliases in NOTES}
    keys.update({path: name_keys(path) for path in ATTACHMENTS})
    targets = [t for p, a in NOTES for t in [p, p[:-3], p.rpartition("/")[2], *a]] + ATTACHMENTS
    targets += ["../" + t for t in targets] + ["b/c", "er/b/c", "sub/child", "./sibling.md"]
    for target in targets:
        for kind in ("wikilink", "embed", "markdown"):
            for source in ("rel/sub/child.md", "a/Note.md", "top.md"):
                found = resolver.resolve(Link(target, kind), source)
                if found is not None:
                    assert link_key(target) in keys[found], (target, kind, source, found)


segment = st.text(alphabet="abcAB.-_ é", min_size=1, max_size=6).filter(lambda s: s.strip(" .") == s)


@given(
    st.lists(st.lists(segment, min_size=1, max_size=3).map("/".join), min_size=1, max_size=12, unique=True),
    st.lists(segment, max_size=5),
)
def test_key_contract_holds_for_random_vaults(stems: list[str], aliases: list[str]) -> None:
    notes = [(stem + ".md", aliases[i : i + 1]) for i, stem in enumerate(stems)]
    resolver = LinkResolver(notes, [])
    keys = {path: name_keys(path, a) for path, a in notes}
    for target in stems + aliases + [s.rpartition("/")[2] for s in stems]:
        for kind in ("wikilink", "markdown"):
            found = resolver.resolve(Link(target, kind), "src/note.md")
            if found is not None:
                assert link_key(target) in keys[found]


def test_resolving_many_links_at_once_answers_each_as_resolve_does(resolver: LinkResolver) -> None:
    # A cold build resolves a chunk's links in one call, remembering answers that cannot depend on
    # the linking note; the ones that do (a name in several folders, relative links, self links)
    # must still be worked out per note.
    targets = [t for p, a in NOTES for t in [p, p[:-3], p.rpartition("/")[2], *a]] + ATTACHMENTS
    targets += ["../" + t for t in targets] + ["b/c", "Note", "./sibling.md", "", "#", "https://x.org"]
    sources = ["a/b/x.md", "z/y.md", "rel/sub/child.md", "a/Note.md", "top.md", "x/b/q.md"]
    links = [
        (kind, target, source)
        for target in targets
        for kind in ("wikilink", "embed", "markdown", "url")
        for source in sources
    ]
    expected = [resolver.resolve(Link(target, kind), source) for kind, target, source in links]
    assert resolver.resolve_many(links) == expected
    assert resolver.resolve_many([("wikilink", "Note", "z/y.md"), ("wikilink", "Note", "a/b/x.md")]) == [
        "z/Note.md",
        "a/b/Note.md",
    ]


def test_ten_thousand_notes_build_and_resolve_quickly() -> None:
    notes = [(f"f{i % 50}/sub{i % 7}/note {i}.md", [f"alias {i}"]) for i in range(10_000)]
    started = time.perf_counter()
    resolver = LinkResolver(notes, [f"img/{i}.png" for i in range(2_000)])
    for i in range(10_000):
        assert resolver.resolve(Link(f"note {i}", "wikilink"), "x.md") is not None
    # Generous bound: a dict-based resolver does this in well under a second; a scan would take minutes.
    assert time.perf_counter() - started < 20
