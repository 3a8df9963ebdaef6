"""Reading the frontmatter block at the top of a note: YAML (``---``), TOML (``+++``) or JSON (``{``).

Reading only: writes go through ruamel.yaml / tomlkit elsewhere, so that comments and quoting survive.
YAML is read with PyYAML's C loader (fast) but typed like YAML 1.2 as ruamel.yaml types it, so that
a value reads the same before and after mdstore writes the file (``yes`` stays a string, ``0755`` is 755).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Frontmatter", "read_frontmatter", "load_yaml"]


@dataclass(frozen=True)
class Frontmatter:
    """The frontmatter of one note, split from its body.

    ``body_line`` is the 1-based line of the file where ``body`` starts, so that a line number
    counted in the body can be turned into a line of the file (``body_line + n - 1``).
    ``data`` is always a mapping; when the block cannot be read it is empty and ``error`` says why.
    """

    format: str | None  # "yaml" | "toml" | "json" | None
    data: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    error: str | None = None
    raw: str = ""  # the text between the fences, as written (used to find the line of a key)
    raw_line: int = 1  # 1-based file line of the first line of ``raw``


# YAML 1.2 implicit typing, the regexes of ruamel.yaml's 1.2 resolver (ruamel.yaml/resolver.py), so
# both libraries agree on every plain scalar. Differences from PyYAML's 1.1 defaults: no yes/no/on/off
# booleans, no sexagesimal 1:30, 0o755 octal, 0755 decimal, 1e3 a float. Timestamps stay (ruamel
# keeps them in 1.2 too).
_YAML12_RESOLVERS: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?: ~ |null|Null|NULL | )$", "~nN\0"),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
]


class _Yaml12Loader(yaml.CSafeLoader):
    """CSafeLoader with YAML 1.2 (ruamel-compatible) implicit typing. PyYAML keeps the last of two
    equal keys in a mapping without a word; the loader notes each repeated key (``repeated``: its
    text and 0-based line) so that the reader can say so."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                if key.value in seen:
                    self.repeated.append((key.value, key.start_mark.line))
                seen.add(key.value)
        return super().construct_mapping(node, deep=deep)


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _YAML12_RESOLVERS:
    # "\0" stands for the empty scalar, which PyYAML files under the key "".
    _firsts = ["" if c == "\0" else c for c in _first]
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern, re.X), _firsts)


def _construct_int12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    # PyYAML's own int constructor reads a leading 0 as octal (1.1); 1.2 only knows 0o.
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = 1
    if text[:1] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    prefix = text[:2].lower()
    if prefix == "0x":
        return sign * int(text[2:], 16)
    if prefix == "0o":
        return sign * int(text[2:], 8)
    if prefix == "0b":
        return sign * int(text[2:], 2)
    return sign * int(text or "0", 10)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int12)


def compose_yaml(text: str) -> Any:
    """The node tree of ``text`` (positions, styles and tags as ``load_yaml`` types them)."""
    return yaml.compose(text, Loader=_Yaml12Loader)  # noqa: S506 - composing builds no objects


def load_yaml(text: str) -> Any:
    """Load one YAML document with mdstore's typing (YAML 1.2 core as ruamel.yaml reads it).

    Raises ``yaml.YAMLError`` on invalid YAML; callers turn it into a message.
    """
    return _load_noting_repeats(text)[0]


def _load_noting_repeats(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """``load_yaml(text)`` and the keys repeated in one of its mappings (text, 0-based line)."""
    loader = _Yaml12Loader(text)
    try:
        return loader.get_single_data(), loader.repeated
    finally:
        loader.dispose()


_YAML_OPEN = re.compile(r"---[ \t]*\n")
_YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
_TOML_OPEN = re.compile(r"\+\+\+[ \t]*\n")
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*$", re.M)
_JSON_OPEN = re.compile(r"\{[ \t]*\n")
_JSON_CLOSE = re.compile(r"^\}[ \t]*$", re.M)
_TOML_LINE = re.compile(r"line (\d+)")


def read_frontmatter(text: str) -> Frontmatter:
    """Split ``text`` (LF line endings, no BOM) into frontmatter and body.

    Never raises for bad content: a block that does not parse gives ``data={}`` and ``error``, with
    the body still being the text after the block; an opening fence never closed means there is no
    frontmatter (the whole text is the body) and an error.
    """
    if text.startswith("---"):
        if _YAML_OPEN.match(text) or text.rstrip(" \t") == "---":
            return _read_fenced(text, "yaml", _YAML_CLOSE)
    elif text.startswith("+++"):
        if _TOML_OPEN.match(text) or text.rstrip(" \t") == "+++":
            return _read_fenced(text, "toml", _TOML_CLOSE)
    elif text.startswith("{") and _JSON_OPEN.match(text):
        return _read_json(text)
    return Frontmatter(format=None, data={}, body=text, body_line=1)


def _read_fenced(text: str, fmt: str, close: re.Pattern[str]) -> Frontmatter:
    start = text.find("\n") + 1 if "\n" in text else len(text)
    end = close.search(text, start)
    if end is None:
        return Frontmatter(
            format=None,
            data={},
            body=text,
            body_line=1,
            error="frontmatter opened on line 1 is never closed",
        )
    raw = text[start : end.start()]
    after = text.find("\n", end.end())
    body = "" if after < 0 else text[after + 1 :]
    body_line = 2 + raw.count("\n") + 1
    data, error = _load_yaml(raw) if fmt == "yaml" else _load_toml(raw)
    return Frontmatter(
        format=fmt, data=data, body=body, body_line=body_line, error=error, raw=raw, raw_line=2
    )


def _read_json(text: str) -> Frontmatter:
    try:
        obj, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        # The object cannot be read, so where it ends is a guess: the first line that is a lone "}".
        close = _JSON_CLOSE.search(text)
        if close is None:
            return Frontmatter(
                format=None,
                data={},
                body=text,
                body_line=1,
                error=f"invalid JSON frontmatter at line {exc.lineno}: {exc.msg}",
            )
        after = text.find("\n", close.end())
        body = "" if after < 0 else text[after + 1 :]
        raw = text[: close.end()]
        return Frontmatter(
            format="json",
            data={},
            body=body,
            body_line=raw.count("\n") + 2,
            error=f"invalid JSON frontmatter at line {exc.lineno}: {exc.msg}",
            raw=raw,
        )
    after = text.find("\n", end)
    body = "" if after < 0 else text[after + 1 :]
    raw = text[:end]
    data, error = _as_mapping(obj)
    return Frontmatter(
        format="json", data=data, body=body, body_line=raw.count("\n") + 2, error=error, raw=raw
    )


def _load_yaml(raw: str) -> tuple[dict[str, Any], str | None]:
    try:
        obj, repeated = _load_noting_repeats(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # +1 for 1-based, +1 for the --- line; an error found at the end of the block (an unclosed
        # bracket) is reported on the block's last line rather than on the closing ---.
        last_line = 1 + raw.count("\n") if raw.endswith("\n") else 2 + raw.count("\n")
        where = f" at line {min(mark.line + 2, last_line)}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        return {}, f"invalid YAML frontmatter{where}: {problem}"
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # ValueError & co: a well-formed scalar the constructor rejects (a date like 2024-02-30).
        return {}, f"invalid YAML frontmatter: {_first_line(str(exc))}"
    except RecursionError:
        return {}, "invalid YAML frontmatter: nested too deeply"
    data, error = _as_mapping(obj)
    if repeated and error is None:
        # Read as PyYAML reads it (the last value counts); other tools refuse the block or take the
        # first, and mdstore's writes refuse it, so the note gets an issue saying which key.
        key, line = repeated[0]
        more = f" (and {len(repeated) - 1} more)" if len(repeated) > 1 else ""
        error = f"frontmatter key {key!r} is written twice (again at line {line + 2}){more}; the last counts"
    return data, error


def _load_toml(raw: str) -> tuple[dict[str, Any], str | None]:
    try:
        return tomllib.loads(raw), None
    except tomllib.TOMLDecodeError as exc:
        # tomllib counts lines inside the block; the file has the +++ line before it.
        message = _TOML_LINE.sub(lambda m: f"line {int(m.group(1)) + 1}", str(exc))
        return {}, f"invalid TOML frontmatter: {message}"


def _as_mapping(obj: Any) -> tuple[dict[str, Any], str | None]:
    if obj is None:
        return {}, None
    if not isinstance(obj, dict):
        return {}, f"frontmatter must be a mapping, got {_kind(obj)}"
    if all(type(k) is str for k in obj):
        return obj, None
    # YAML allows keys like 2024 or true; the index keys frontmatter by name, so names are strings.
    return {str(k): v for k, v in obj.items()}, None


def _kind(obj: Any) -> str:
    if isinstance(obj, list):
        return "a list"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, (int, float)):
        return "a number"
    return f"a {type(obj).__name__}"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "syntax error"
