from __future__ import annotations

import pytest

import mdstore


def test_set_get_list_delete(vault: mdstore.Vault) -> None:
    m = vault.memory
    assert m.get_preference("ann", "theme") is None
    m.set_preference("ann", "theme", "dark", category="ui")
    m.set_preference("ann", "answers", {"length": "short", "lists": True})
    m.set_preference("bob", "theme", "light")
    assert m.get_preference("ann", "theme") == "dark"
    assert m.list_preferences("ann") == {"theme": "dark", "answers": {"length": "short", "lists": True}}
    assert m.list_preferences("ann", category="ui") == {"theme": "dark"}
    assert m.delete_preference("ann", "theme") is True
    assert m.delete_preference("ann", "theme") is False
    assert m.list_preferences("ann", category="ui") == {}
    assert m.get_preference("bob", "theme") == "light"
    # An ordinary note: find sees it.
    assert vault.find(where={"type": "preferences"}).column("path") == [
        "Memory/preferences/ann.md",
        "Memory/preferences/bob.md",
    ]


def test_hand_edit_is_read_and_kept(vault: mdstore.Vault) -> None:
    m = vault.memory
    m.set_preference("ann", "theme", "dark")
    path = vault.root / "Memory/preferences/ann.md"
    text = path.read_text().replace("theme: dark", "theme: dark  # chosen in March\n  font: mono")
    path.write_text(text + "\nA note written by hand.\n")
    vault.sync()
    assert m.get_preference("ann", "font") == "mono"
    m.set_preference("ann", "size", 12)
    after = path.read_text()
    assert "# chosen in March" in after and "A note written by hand." in after
    assert m.list_preferences("ann") == {"theme": "dark", "font": "mono", "size": 12}


@pytest.mark.parametrize("value", [object(), float("nan"), {1: "x"}, [b"bytes"], {"a": {3, 4}}])
def test_value_yaml_cannot_hold(vault: mdstore.Vault, value: object) -> None:
    with pytest.raises(mdstore.ValidationError, match="preference 'k'"):
        vault.memory.set_preference("ann", "k", value)
    assert not (vault.root / "Memory/preferences/ann.md").exists()


@pytest.mark.parametrize("key", ["", "a.b", "two words", None])
def test_bad_key(vault: mdstore.Vault, key: object) -> None:
    with pytest.raises(mdstore.ValidationError, match="preference key"):
        vault.memory.set_preference("ann", key, 1)  # type: ignore[arg-type]


def test_user_names_are_safe_file_names(vault: mdstore.Vault) -> None:
    vault.memory.set_preference("../../etc/passwd", "k", 1)
    vault.memory.set_preference("ann/x", "k", 2)
    assert vault.memory.get_preference("../../etc/passwd", "k") == 1
    assert vault.memory.get_preference("ann/x", "k") == 2
    assert all(p.startswith("Memory/preferences/") for p in vault.find().column("path"))
    with pytest.raises(mdstore.ValidationError, match="user"):
        vault.memory.set_preference("", "k", 1)
