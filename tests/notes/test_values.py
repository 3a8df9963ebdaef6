"""normalize_value, parse_inline_value and flatten."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdstore.notes.values import flatten, normalize_value, parse_inline_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-05", dt.date(2024, 1, 5)),
        ("2024-01-05T10:30", dt.datetime(2024, 1, 5, 10, 30)),
        ("2024-01-05 10:30:15", dt.datetime(2024, 1, 5, 10, 30, 15)),
        ("2024-01-05T10:30:00Z", dt.datetime(2024, 1, 5, 10, 30, tzinfo=dt.UTC)),
        ("2024-01-05T10:30:00+02:00", dt.datetime(2024, 1, 5, 8, 30, tzinfo=dt.UTC)),
        ("2024-02-30", "2024-02-30"),
        ("2024-1-5", "2024-1-5"),
        ("2024-01-05 and more", "2024-01-05 and more"),
        ("hello", "hello"),
        (5, 5),
        (None, None),
        (True, True),
    ],
)
def test_normalize_value(value: object, expected: object) -> None:
    assert normalize_value(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" -3 ", -3),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("true", True),
        ("FALSE", False),
        ("2024-01-05", dt.date(2024, 1, 5)),
        ("2024-01-05T09:00", dt.datetime(2024, 1, 5, 9, 0)),
        ("  some words  ", "some words"),
        ("[[Note]]", "[[Note]]"),
        ("1.2.3", "1.2.3"),
        ("", None),
        ("   ", None),
        ("yes", "yes"),
    ],
)
def test_parse_inline_value(text: str, expected: object) -> None:
    got = parse_inline_value(text)
    assert got == expected
    assert type(got) is type(expected)


def test_flatten_scalars_maps_and_lists() -> None:
    rows = flatten(
        {
            "title": "T",
            "due": "2024-01-05",
            "tags": ["a", "b"],
            "project": {"name": "X", "meta": {"phase": 2}},
            "people": [{"name": "Ann", "age": 3}, {"name": "Bob"}],
            "empty": [],
            "nothing": None,
        }
    )
    assert rows == [
        ("title", None, "T"),
        ("due", None, dt.date(2024, 1, 5)),
        ("tags", 0, "a"),
        ("tags", 1, "b"),
        ("project.name", None, "X"),
        ("project.meta.phase", None, 2),
        ("people.name", 0, "Ann"),
        ("people.age", 0, 3),
        ("people.name", 1, "Bob"),
        ("nothing", None, None),
    ]


def test_flatten_nested_lists_keep_the_outer_index() -> None:
    assert flatten({"m": [[1, 2], [3]]}) == [("m", 0, 1), ("m", 0, 2), ("m", 1, 3)]


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(min_size=1, max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _leaves(value: object) -> int:
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1


@given(st.dictionaries(st.text(min_size=1, max_size=5), trees, max_size=5))
def test_flatten_gives_one_row_per_scalar(mapping: dict[str, object]) -> None:
    rows = flatten(mapping)
    assert len(rows) == _leaves(mapping)
    assert all(isinstance(key, str) for key, _, _ in rows)


@given(st.text(max_size=30))
def test_parse_inline_value_never_raises(text: str) -> None:
    parse_inline_value(text)
