"""read_frontmatter and the YAML 1.2 typing of load_yaml."""

from __future__ import annotations

import datetime as dt
import io
import math

import pytest
from ruamel.yaml import YAML

from mdstore.notes.frontmatter import load_yaml, read_frontmatter


def test_yaml_block_is_split_from_body() -> None:
    fm = read_frontmatter("---\ntitle: Hello\ntags: [a, b]\n---\n# Body\ntext\n")
    assert fm.format == "yaml"
    assert fm.data == {"title": "Hello", "tags": ["a", "b"]}
    assert fm.body == "# Body\ntext\n"
    assert fm.body_line == 5
    assert fm.error is None


def test_yaml_block_closed_by_dots() -> None:
    fm = read_frontmatter("---\na: 1\n...\nbody")
    assert fm.data == {"a": 1}
    assert fm.body == "body"
    assert fm.body_line == 4


def test_no_frontmatter() -> None:
    fm = read_frontmatter("# Just a note\n---\nnot: frontmatter\n")
    assert fm.format is None
    assert fm.data == {}
    assert fm.body.startswith("# Just a note")
    assert fm.body_line == 1


def test_horizontal_rule_with_text_is_not_a_fence() -> None:
    fm = read_frontmatter("--- not a fence\ntext\n")
    assert fm.format is None
    assert fm.error is None


def test_empty_block_and_comment_only_block() -> None:
    assert read_frontmatter("---\n---\nbody").data == {}
    fm = read_frontmatter("---\n# only a comment\n---\nbody")
    assert fm.data == {} and fm.error is None and fm.body == "body"


def test_block_at_end_of_file_without_newline() -> None:
    fm = read_frontmatter("---\na: 1\n---")
    assert fm.data == {"a": 1}
    assert fm.body == ""


def test_unclosed_yaml_is_all_body() -> None:
    text = "---\ntitle: x\n\n# Heading\n"
    fm = read_frontmatter(text)
    assert fm.error == "frontmatter opened on line 1 is never closed"
    assert fm.data == {}
    assert fm.body == text
    assert fm.body_line == 1


def test_invalid_yaml_names_the_file_line_and_keeps_body() -> None:
    fm = read_frontmatter("---\ntitle: ok\nbad: [unclosed\nnext: 1\n---\nThe body\n")
    assert fm.data == {}
    assert fm.error is not None and fm.error.startswith("invalid YAML frontmatter at line")
    assert fm.body == "The body\n"
    assert fm.body_line == 6


def test_invalid_yaml_line_number_points_into_the_file() -> None:
    fm = read_frontmatter("---\na: 1\nb: 2\n  c: 3\n---\n")
    assert fm.error is not None
    assert "line 4" in fm.error  # "  c: 3" is the file's 4th line


@pytest.mark.parametrize(
    ("block", "kind"),
    [("- a\n- b", "a list"), ("just text", "a string"), ("42", "a number"), ("true", "a boolean")],
)
def test_non_mapping_frontmatter(block: str, kind: str) -> None:
    fm = read_frontmatter(f"---\n{block}\n---\nbody\n")
    assert fm.error == f"frontmatter must be a mapping, got {kind}"
    assert fm.data == {}
    assert fm.body == "body\n"


def test_impossible_date_is_an_error_not_a_crash() -> None:
    fm = read_frontmatter("---\nd: 2024-02-30\n---\nbody")
    assert fm.data == {}
    assert fm.error is not None and fm.error.startswith("invalid YAML frontmatter")


def test_non_string_keys_become_strings() -> None:
    fm = read_frontmatter("---\n2024: year\ntrue: yes\n---\n")
    assert fm.data == {"2024": "year", "True": "yes"}


def test_toml_frontmatter() -> None:
    fm = read_frontmatter('+++\ntitle = "T"\ndate = 2024-01-05\n[extra]\nn = 3\n+++\nbody\n')
    assert fm.format == "toml"
    assert fm.data == {"title": "T", "date": dt.date(2024, 1, 5), "extra": {"n": 3}}
    assert fm.body == "body\n"
    assert fm.body_line == 7


def test_invalid_toml_reports_file_line() -> None:
    fm = read_frontmatter('+++\ntitle = "T"\nbroken = \n+++\nbody')
    assert fm.data == {}
    assert fm.error is not None and fm.error.startswith("invalid TOML frontmatter") and "line 3" in fm.error
    assert fm.body == "body"


def test_json_frontmatter() -> None:
    fm = read_frontmatter('{\n  "title": "J",\n  "tags": ["a"]\n}\nbody\n')
    assert fm.format == "json"
    assert fm.data == {"title": "J", "tags": ["a"]}
    assert fm.body == "body\n"
    assert fm.body_line == 5


def test_invalid_json_frontmatter() -> None:
    fm = read_frontmatter('{\n  "title": oops\n}\nbody\n')
    assert fm.data == {}
    assert fm.error is not None and fm.error.startswith("invalid JSON frontmatter")
    assert fm.body == "body\n"


def test_json_list_is_not_a_mapping() -> None:
    assert read_frontmatter("[\n1]\nbody").format is None  # a body that starts with "[" is just text


def test_unicode_values() -> None:
    fm = read_frontmatter("---\ntitle: Café ☕ 日本\n---\n")
    assert fm.data["title"] == "Café ☕ 日本"


# YAML 1.2 as ruamel.yaml (the writer) reads it: each scalar must load to the same type and value.
# fmt: off
TRICKY = [
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "True", "TRUE", "false", "null", "Null",
    "NULL", "~", "", "0755", "0o755", "0x1F", "0b101", "1_000", "012", "08", "09", "-0", "+12",
    "1e3", "1.5e3", "1E3", "1.5e-3", ".5", "+.5", "3.", "1.0", ".inf", "-.inf", ".nan", ".NaN",
    "1:30", "12:30:00", "190:20:30.15", "2024-01-05", "2024-1-5", "2024-01-05 10:00:00",
    "2024-01-05T10:00:00Z", "2024-01-05T10:00:00+02:00", "2024-01-05t10:00:00.5", "1,000",
    "0x_1f", "0o_7", "-0o17", "+0x1f", "6.8523015e+5", "685.230_15e+03", "nULL", "_1", "0.1_0",
]
# fmt: on


@pytest.mark.parametrize("scalar", TRICKY)
def test_plain_scalars_are_typed_like_ruamel(scalar: str) -> None:
    expected = YAML(typ="rt").load(io.StringIO(f"k: {scalar}\n"))["k"]
    got = load_yaml(f"k: {scalar}\n")["k"]
    assert isinstance(expected, type(got)), (scalar, expected, got)
    if isinstance(got, float) and math.isnan(got):
        assert math.isnan(expected)
    else:
        assert got == expected


def test_yaml_12_choices_spelled_out() -> None:
    data = load_yaml("a: yes\nb: 0755\nc: 0o755\nd: 2024-01-05\ne: 1:30\nf: off\ng: =\n")
    assert data == {
        "a": "yes",
        "b": 755,
        "c": 493,
        "d": dt.date(2024, 1, 5),
        "e": "1:30",
        "f": "off",
        "g": "=",
    }


def test_merge_keys_still_work() -> None:
    assert load_yaml("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n")["derived"] == {"x": 1, "y": 2}
