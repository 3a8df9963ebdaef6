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


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('fromat = "date"', "unknown setting collections.people.properties.born.fromat"),
        ('type = "string"\nformat = "time"', "born.format: 'time' is not one of date, date-time"),
        ('type = "array"\nitems = { kind = "string" }', "unknown setting collections.people.properties.born.items.kind"),
        ('pattern = "("', "born.pattern: not a regular expression"),
        ('minimum = "3"', "born.minimum: must be a number"),
    ],
)
def test_unknown_or_malformed_schema_keywords_are_config_errors(make_vault, rule: str, message: str):
    from mdstore.errors import ConfigError

    v = make_vault({"mdstore.toml": f"[collections.people.properties.born]\n{rule}\n"})
    with pytest.raises(ConfigError, match=message):
        v.collection("people").create({"born": "1815-12-10"}, id="x")
    assert not (v.root / "people").exists()


def test_format_pattern_items_and_bounds_are_checked(make_vault):
    toml = """
[collections.people.properties]
born = { type = "string", format = "date" }
seen = { format = "date-time" }
tags = { type = "array", items = { type = "string", pattern = "^[a-z]+$" } }
email = { type = "string", pattern = "^[^@ ]+@[^@ ]+$" }
age = { type = "integer", minimum = 0, maximum = 150 }
"""
    v = make_vault({"mdstore.toml": toml, "people/old.md": "---\nborn: someday\ntags: [ok, Not OK]\n---\n"})
    v.sync()
    people = v.collection("people")
    good = people.create(
        {"born": "1815-12-10", "seen": "2026-01-02T10:30", "tags": ["a"], "email": "a@b.c", "age": 36}, id="good"
    )
    assert good["born"] is not None
    bad = [
        ({"born": "1815-13-40"}, "field 'born' must be a date"),
        ({"born": "1815-12-10T10:00"}, "field 'born' must be a date"),
        ({"seen": "yesterday"}, "field 'seen' must be a date-time"),
        ({"tags": ["ok", 3]}, r"field 'tags'\[1\] must be of type string"),
        ({"tags": ["ok", "Bad"]}, r"field 'tags'\[1\] must match"),
        ({"email": "nobody"}, "field 'email' must match"),
        ({"age": -1}, "field 'age' must be at least 0"),
        ({"age": 151}, "field 'age' must be at most 150"),
    ]
    for record, message in bad:
        with pytest.raises(ValidationError, match=message):
            people.create(record, id="bad")
    assert not (v.root / "people/bad.md").exists()
    assert collection_problems(v) == [
        ("people/old.md", "collection 'people': field 'born' must be a date (YYYY-MM-DD), not 'someday'"),
        ("people/old.md", "collection 'people': field 'tags'[1] must match '^[a-z]+$', not 'Not OK'"),
    ]


def test_the_starter_vaults_example_schema_works(tmp_path):
    import re

    import mdstore

    vault = mdstore.init_vault(tmp_path / "v")
    toml = vault.root / "mdstore.toml"
    text = toml.read_text()
    example = text[text.index("# [collections.people]") :]
    toml.write_text(text + "\n" + re.sub(r"(?m)^# ?", "", example))
    vault.close()
    with mdstore.open(tmp_path / "v") as v:
        v.sync()
        assert not [r for r in v.check() if "collection" in r["message"]]
        with pytest.raises(ValidationError, match="field 'born' must be a date"):
            v.collection("people").create({"born": "long ago", "tags": ["x"]}, id="Someone")
