"""Result: slicing, and Arrow / pandas on real vaults whose keys change shape from note to note."""

from __future__ import annotations

import pytest

FILES = {
    "a.md": "---\naliases: [One, Uno]\nmeta: {owner: ada, n: 1}\nwhen: 2026-01-02\n---\n",
    "b.md": "---\naliases: Two\nmeta: 3\nwhen: soon\n---\n",
    "c.md": "---\naliases: 5\nmeta: [x, {y: 1}]\n---\n",
    "d.md": "no frontmatter\n",
}


@pytest.fixture
def vault(make_vault):
    v = make_vault(FILES)
    v.sync()
    return v


def test_slices_are_results(vault) -> None:
    res = vault.find(sort="path")
    assert res[0:2].paths() == ["a.md", "b.md"]
    assert res[-1:].paths() == ["d.md"]
    assert res[::2].paths() == ["a.md", "c.md"]
    assert res[1]["path"] == "b.md"
    assert res[5:].columns == res.columns and len(res[5:]) == 0
    with pytest.raises(IndexError):
        res[9]


def test_arrow_and_df_on_keys_of_mixed_shapes(vault) -> None:
    res = vault.find("aliases exists", sort="path")
    table = res.arrow()
    assert table.num_rows == 3
    assert table.column_names == list(res.columns)
    import json

    # frontmatter differs in shape (list, text, number, map): a JSON column, one value per note.
    decoded = [json.loads(v) for v in table.column("frontmatter").to_pylist()]
    assert decoded == [row["frontmatter"] for row in res]
    assert table.column("path").to_pylist() == ["a.md", "b.md", "c.md"]
    frame = res.df()
    assert list(frame["path"]) == ["a.md", "b.md", "c.md"]
    assert frame["frontmatter"][1] == {"aliases": "Two", "meta": 3, "when": "soon"}


def test_arrow_on_sql_columns_of_mixed_shapes(vault) -> None:
    res = vault.sql("SELECT path, frontmatter->'meta' AS meta FROM notes ORDER BY path")
    assert res.arrow().num_rows == 4
    mixed = type(res)(["v", "v"], [([1, 2], {"a": 1}), ("x", None), (None, 3)])
    table = mixed.arrow()
    assert table.column_names == ["v", "v"]
    assert table.column(0).to_pylist() == ["[1, 2]", '"x"', None]
    assert table.column(1).to_pylist() == ['{"a": 1}', None, "3"]
    assert vault.find("nothing exists").arrow().num_rows == 0
