"""Property tests: set_keys on generated frontmatter touches only the lines of the key it edits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from mdstore.notes.fmedit import append_text, replace_body, set_keys

RESERVED_KEYS = {"null", "true", "false", "yes", "no", "on", "off"}
keys = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda k: k not in RESERVED_KEYS)
words = st.from_regex(r"[A-Za-z][A-Za-z0-9 ]{0,10}[A-Za-z0-9]", fullmatch=True)
unicode_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
comments = st.builds(
    lambda t: " # " + t, st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=10)
)


def scalar_source() -> st.SearchStrategy[str]:
    return st.one_of(
        words,
        unicode_text.map(lambda t: json.dumps(t, ensure_ascii=False)),  # JSON strings are YAML double-quoted
        st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=10).map(
            lambda t: "'" + t.replace("'", "''") + "'"
        ),
        st.integers(-(10**12), 10**12).map(str),
        st.sampled_from(
            ["1.5", "-0.25", "true", "false", "null", "~", "2024-02-29", "2024-01-02 10:00:00", "0755"]
        ),
    )


@st.composite
def entry(draw: st.DrawFn, key: str) -> str:
    """One top-level key as YAML source lines ("\n" newlines), in one of several styles."""
    style = draw(st.sampled_from(["scalar", "flow", "block", "map", "literal", "empty"]))
    if style == "scalar":
        return f"{key}: {draw(scalar_source())}{draw(st.one_of(st.just(''), comments))}\n"
    if style == "flow":
        items = draw(st.lists(scalar_source(), max_size=3))
        return f"{key}: [{', '.join(items)}]{draw(st.one_of(st.just(''), comments))}\n"
    if style == "block":
        items = draw(st.lists(scalar_source(), min_size=1, max_size=3))
        dash = draw(st.sampled_from(["  - ", "- ", "    - "]))
        return f"{key}:\n" + "".join(f"{dash}{item}\n" for item in items)
    if style == "map":
        subkeys = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
        pad = draw(st.sampled_from(["  ", "    "]))
        return f"{key}:\n" + "".join(f"{pad}{sub}: {draw(scalar_source())}\n" for sub in subkeys)
    if style == "literal":
        body = draw(st.lists(words, min_size=1, max_size=3))
        return f"{key}: |\n" + "".join(f"  {line}\n" for line in body)
    return f"{key}:{draw(st.one_of(st.just(''), comments))}\n"


@st.composite
def notes(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(keys, min_size=1, max_size=6, unique=True))
    chunks: list[tuple[str | None, str]] = []
    for name in names:
        if draw(st.booleans()):
            chunks.append((None, draw(st.sampled_from(["\n", "# a comment\n", "#\n"]))))
        chunks.append((name, draw(entry(name))))
    crlf = draw(st.booleans())
    nl = "\r\n" if crlf else "\n"
    chunks = [(key, text.replace("\n", nl)) for key, text in chunks]
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    # Any UTF-8 text but NUL (a note that is not UTF-8 text is never edited: test_fmedit.py).
    text = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00")
    body = draw(st.text(text, max_size=40)).encode()
    return {"chunks": chunks, "nl": nl, "bom": bom, "body": body}


def assemble(note: dict[str, Any], chunks: list[tuple[str | None, str]] | None = None) -> bytes:
    nl = note["nl"]
    block = "".join(text for _, text in (note["chunks"] if chunks is None else chunks))
    return note["bom"] + f"---{nl}{block}---{nl}".encode() + note["body"]


def read(data: bytes) -> dict[str, Any]:
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
    block = text.split("---", 2)[1]
    return dict(YAML(typ="rt").load(block) or {})


def norm(value: Any) -> Any:
    """A comparable form that keeps the types a reader distinguishes."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, float):
        return ("float", repr(float(value)))
    if isinstance(value, str):
        return ("str", str(value))
    if value is None:
        return ("none",)
    if isinstance(value, dt.datetime):
        return ("datetime", value.replace(tzinfo=None).isoformat(), value.utcoffset())
    if isinstance(value, dt.date):
        return ("date", value.isoformat())
    if isinstance(value, list | tuple):
        return ("list", tuple(norm(v) for v in value))
    return ("map", frozenset((str(k), norm(v)) for k, v in value.items()))


offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: dt.timezone(dt.timedelta(minutes=15 * q)))
scalars = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=15),
    st.sampled_from(
        ["yes", "no", "on", "null", "true", "1:30", "0755", "", " lead", "trail ", "#x", "a: b", "- x"]
    ),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1000, 1, 1)),
    st.datetimes(min_value=dt.datetime(1000, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), timezones=offsets),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=6,
)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(note=notes(), data=st.data(), value=values)
def test_setting_an_existing_key_changes_only_its_lines(
    note: dict[str, Any], data: st.DataObject, value: Any
) -> None:
    original = assemble(note)
    indexes = [i for i, (key, _) in enumerate(note["chunks"]) if key is not None]
    index = data.draw(st.sampled_from(indexes))
    key = note["chunks"][index][0]
    before = read(original)
    out = set_keys(original, {key: value})
    if norm(before[key]) == norm(value):
        assert out == original
        return
    nl = note["nl"]
    head = note["bom"] + f"---{nl}".encode() + "".join(t for _, t in note["chunks"][:index]).encode()
    tail = "".join(t for _, t in note["chunks"][index + 1 :]).encode() + f"---{nl}".encode() + note["body"]
    assert out.startswith(head)
    assert out.endswith(tail)
    middle = out[len(head) : len(out) - len(tail)]
    assert middle.count(nl.encode()) == middle.count(b"\n"), "line endings kept"
    after = read(out)
    assert norm(after[key]) == norm(value)
    assert {k: norm(v) for k, v in after.items() if k != key} == {
        k: norm(v) for k, v in before.items() if k != key
    }
    assert set_keys(out, {key: value}) == out, "setting it again is a no-op"


@SETTINGS
@given(note=notes(), key=keys, value=values)
def test_a_new_key_is_appended_and_nothing_else_moves(note: dict[str, Any], key: str, value: Any) -> None:
    if key in {k for k, _ in note["chunks"]}:
        return
    original = assemble(note)
    out = set_keys(original, {key: value})
    nl = note["nl"]
    assert out.startswith(original[: len(original) - len(note["body"]) - len(f"---{nl}")])
    assert out.endswith(f"---{nl}".encode() + note["body"])
    after = read(out)
    assert norm(after[key]) == norm(value)
    assert {k: norm(v) for k, v in after.items() if k != key} == {
        k: norm(v) for k, v in read(original).items()
    }
    assert set_keys(out, unset=[key]) == original, "unset restores the original"


@SETTINGS
@given(note=notes(), data=st.data())
def test_unset_removes_exactly_the_lines_of_the_key(note: dict[str, Any], data: st.DataObject) -> None:
    original = assemble(note)
    indexes = [i for i, (key, _) in enumerate(note["chunks"]) if key is not None]
    index = data.draw(st.sampled_from(indexes))
    key = note["chunks"][index][0]
    out = set_keys(original, unset=[key])
    rest = note["chunks"][:index] + note["chunks"][index + 1 :]
    if not "".join(t for _, t in rest).strip():
        assert out == note["bom"] + note["body"]
    else:
        assert out == assemble(note, rest)
    assert set_keys(original, unset=["not_a_key_here", f"{key}.nope.deeper"]) == original


@SETTINGS
@given(note=notes(), body=st.text(max_size=30), extra=st.text(max_size=20))
def test_body_edits_keep_the_frontmatter_bytes(note: dict[str, Any], body: str, extra: str) -> None:
    original = assemble(note)
    prefix = original[: len(original) - len(note["body"])]
    replaced = replace_body(original, body)
    assert replaced.startswith(prefix)
    appended = append_text(original, extra)
    assert appended.startswith(original)
