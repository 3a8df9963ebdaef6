"""Links resolve as Obsidian resolves them, in a real vault, built and kept up to date incrementally.

Each vault below is the smallest one that shows one rule of docs/vault-format.md ("Link resolution").
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mdstore
from tests.conftest import dump_index, write_files


def resolved(vault: mdstore.Vault, source: str) -> list[str | None]:
    return [row["resolved"] for row in vault.outlinks(source)]


@pytest.mark.parametrize(
    ("files", "source", "expected"),
    [
        pytest.param(  # the help vault's case: same name in two folders, the linking note's folder wins
            {
                "Obsidian Publish/Security and privacy.md": "",
                "Obsidian Sync/Security and privacy.md": "",
                "Obsidian Sync/Overview.md": "[[Security and privacy]]",
            },
            "Obsidian Sync/Overview.md",
            "Obsidian Sync/Security and privacy.md",
            id="own-folder-before-shortest",
        ),
        pytest.param(  # an exact-case file name beats a shorter case-insensitive match
            {
                "People/BookFusion.md": "",
                "plugins/reading/bookfusion.md": "",
                "Home.md": "[[bookfusion|BookFusion]]",
            },
            "Home.md",
            "plugins/reading/bookfusion.md",
            id="exact-case-before-shortest",
        ),
        pytest.param(  # the own folder comes before exact case
            {"a/Note.md": "", "b/note.md": "", "a/x.md": "[[note]]"},
            "a/x.md",
            "a/Note.md",
            id="own-folder-before-exact-case",
        ),
        pytest.param(  # the exact vault path comes before the own folder
            {"Note.md": "", "a/Note.md": "", "a/x.md": "[[Note]]"},
            "a/x.md",
            "Note.md",
            id="vault-path-first",
        ),
        pytest.param(  # a path suffix: among its matches, the one below the linking note's folder
            {"a/sub/Note.md": "", "z/sub/Note.md": "", "z/x.md": "[[sub/Note]]"},
            "z/x.md",
            "z/sub/Note.md",
            id="suffix-relative-to-own-folder",
        ),
        pytest.param(  # a path suffix elsewhere: shortest path
            {"deep/er/sub/Note.md": "", "z/sub/Note.md": "", "x.md": "[[sub/Note]]"},
            "x.md",
            "z/sub/Note.md",
            id="suffix-shortest",
        ),
        pytest.param(  # case-insensitive, then shortest path, then alphabetical
            {"b/NOTE.md": "", "a/NoTe.md": "", "c/d/note.md": "", "x.md": "[[Note]]"},
            "x.md",
            "a/NoTe.md",
            id="case-insensitive-shortest",
        ),
        pytest.param(  # a file name comes before an alias, wherever the file is
            {"Index.md": "---\naliases: [Home]\n---\n", "deep/down/Home.md": "", "x.md": "[[Home]]"},
            "x.md",
            "deep/down/Home.md",
            id="name-before-alias",
        ),
        pytest.param(
            {"Index.md": "---\naliases: [Start]\n---\n", "x.md": "[[start]]"},
            "x.md",
            "Index.md",
            id="alias-last",
        ),
    ],
)
def test_resolution_order(make_vault, files: dict[str, str], source: str, expected: str) -> None:
    vault = make_vault(files)
    vault.sync()
    assert resolved(vault, source) == [expected]
    # The same rule holds for the backlinks of the target.
    assert source in [row["source"] for row in vault.backlinks(expected)]


def test_a_new_note_in_the_linking_folder_takes_the_link_and_back(make_vault, tmp_path: Path) -> None:
    vault = make_vault(
        {
            "Publish/Security.md": "",
            "Sync/Overview.md": "See [[Security]] and [[security]].",
            "Sync/deep/Other.md": "[[Security]]",
        }
    )
    vault.sync()
    assert resolved(vault, "Sync/Overview.md") == ["Publish/Security.md"] * 2
    root = tmp_path / "vault"

    write_files(root, {"Sync/security.md": ""})  # exact case for one link, own folder for both
    vault.sync()
    assert resolved(vault, "Sync/Overview.md") == ["Sync/security.md"] * 2
    assert resolved(vault, "Sync/deep/Other.md") == ["Publish/Security.md"]  # exact case elsewhere wins
    incremental = dump_index(vault)
    vault.sync(rebuild=True)
    assert dump_index(vault) == incremental

    (root / "Sync/security.md").rename(root / "Sync/deep/Security.md")  # a rename moves the links
    vault.sync()
    assert resolved(vault, "Sync/Overview.md") == ["Publish/Security.md"] * 2
    assert resolved(vault, "Sync/deep/Other.md") == ["Sync/deep/Security.md"]
    incremental = dump_index(vault)
    vault.sync(rebuild=True)
    assert dump_index(vault) == incremental

    (root / "Sync/deep/Security.md").unlink()
    vault.sync()
    assert resolved(vault, "Sync/deep/Other.md") == ["Publish/Security.md"]
    assert [r["source"] for r in vault.backlinks("Publish/Security.md")] == [
        "Sync/Overview.md",
        "Sync/Overview.md",
        "Sync/deep/Other.md",
    ]


COMMENTED = """See [[Kept]] %%not [[Hidden]] #secret%% and [[Also kept]].
%% a comment
over lines: [[Hidden]] #secret
- [ ] not a task
## Not a heading
%%
Code is text: `%%` [[After code]] and
```
%% in a fence [[Fenced]]
```
[[After fence]] [t](Md%20target.md) ![[pic.png]]
%% never closed: [[Hidden]]
"""


def test_links_in_comments_are_not_links(make_vault) -> None:
    """Obsidian reads nothing inside %%comments%%: no link, tag, task or heading (the hub's notes
    hold their footer links in comments). A %% in code is text."""
    names = ["Kept", "Hidden", "Also kept", "After code", "Fenced", "After fence", "Md target"]
    files = {f"{name}.md": "" for name in names}
    vault = make_vault({**files, "pic.png": "", "x.md": COMMENTED})
    vault.sync()
    assert resolved(vault, "x.md") == [
        "Kept.md",
        "Also kept.md",
        "After code.md",
        "After fence.md",
        "Md target.md",
        "pic.png",
    ]
    assert vault.backlinks("Hidden.md").rows == []
    assert vault.sql("SELECT count(*) AS n FROM tags WHERE path = 'x.md'").rows == [(0,)]
    assert vault.tasks().rows == []
    assert vault.sql("SELECT count(*) AS n FROM headings WHERE path = 'x.md'").rows == [(0,)]


def test_a_move_rewrites_links_beside_a_comment_and_leaves_commented_ones(make_vault, tmp_path: Path) -> None:
    vault = make_vault({"A.md": "", "x.md": "[[A]] %%[[A]] old%% [[A|a]]\n%%\n[[A]]\n%%\n"})
    vault.sync()
    vault.move("A.md", "B.md")
    text = (tmp_path / "vault" / "x.md").read_text()
    assert text == "[[B]] %%[[A]] old%% [[B|a]]\n%%\n[[A]]\n%%\n"
