"""Collections: records as notes, schemas from mdstore.toml, batches for *_many."""

from __future__ import annotations

import pytest

from mdstore.collection import collection_problems
from mdstore.errors import NoteNotFound, ValidationError

TOML = """
[collections.people]
folder = "crm/people"
required = ["name"]
[collections.people.properties.age]
type = "integer"
[collections.people.properties.role]
enum = ["dev", "ops"]
"""


@pytest.fixture
def vault(make_vault):
    v = make_vault({"mdstore.toml": TOML, "crm/people/old.md": "---\nname: Old\nage: many\n---\n"})
    v.sync()
    return v


def test_crud(vault):
    people = vault.collection("people")
    rec = people.create({"name": "Ann Lee", "age": 31, "role": "dev", "content": "Likes tea.\n"})
    assert rec["id"] == "Ann Lee" and rec["path"] == "crm/people/Ann Lee.md" and rec["content"] == "Likes tea.\n"
    assert people.get("Ann Lee")["age"] == 31
    people.update("Ann Lee", {"age": 32})
    assert people.find("age >= 32")[0]["name"] == "Ann Lee"
    assert people.find_one(where={"role": "dev"})["name"] == "Ann Lee"
    people.delete("Ann Lee")
    with pytest.raises(NoteNotFound):
        people.get("Ann Lee")


def test_schema_checked_on_write(vault):
    people = vault.collection("people")
    with pytest.raises(ValidationError, match="'age'"):
        people.create({"name": "Bob", "age": "x"})
    with pytest.raises(ValidationError, match="'name'"):
        people.create({"age": 3}, id="nameless")
    with pytest.raises(ValidationError, match="'role'"):
        people.create({"name": "Cy", "role": "boss"})
    assert not list((vault.root / "crm/people").glob("Bob*"))


def test_many_is_one_batch(vault):
    people = vault.collection("people")
    ids = people.create_many([{"name": f"P{i}", "age": i} for i in range(5)])
    assert ids == [f"P{i}" for i in range(5)]
    with pytest.raises(ValidationError):
        people.update_many({"P1": {"age": 10}, "P2": {"age": "bad"}})
    assert people.get("P1")["age"] == 1
    people.update_many({"P1": {"age": 10}, "P2": {"age": 20}})
    assert [r["age"] for r in people.find("age >= 10", sort="age")] == [10, 20]
    assert people.delete_many(["P3", "P4"]) == 2
    assert len(people.find()) == 4  # P0, P1, P2 and old


def test_frontmatter_id(vault):
    people = vault.collection("people")
    people.create({"name": "Z", "id": "z-1"})
    assert people.get("z-1")["name"] == "Z"


def test_collection_problems(vault):
    assert collection_problems(vault) == [("crm/people/old.md", "collection 'people': field 'age' must be of type integer, not str ('many')")]
