"""Collections: a folder of notes used as a table of records (``vault.collection("people")``).

A record is a note: its frontmatter keys are the fields, its body is the field ``content``, and its
id is the frontmatter ``id`` when set, else the file name without ``.md``. ``[collections.NAME]`` in
mdstore.toml may set ``folder`` (default: NAME), ``required`` (field names) and ``properties``
(``{field = {type = "string"|"integer"|"number"|"boolean"|"date"|"array"|"object", enum = [...]}}``),
checked on every write through the collection (``ValidationError`` naming the field) and reported
for existing notes by ``collection_problems`` (``mdstore check``). ``*_many`` calls are one batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, NoteNotFound, ValidationError

if TYPE_CHECKING:
    from .vault import Vault
    from .writes.batch import VaultBatch

CONTENT = "content"
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "date": (dt.date,),
    "array": (list, tuple),
    "object": (dict,),
}
_SLUG = re.compile(r"[^\w\- ]+")


@dataclass(frozen=True)
class Schema:
    folder: str
    required: tuple[str, ...] = ()
    properties: Mapping[str, Mapping[str, Any]] | None = None

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        """Messages for every field of ``record`` that breaks this schema (empty: valid)."""
        out = [f"field {name!r} is required" for name in self.required if record.get(name) is None]
        for name, rule in (self.properties or {}).items():
            value = record.get(name)
            if value is not None:
                out += _rule_problems(f"field {name!r}", value, rule)
        return out


# The schema keywords a property rule may use (a subset of JSON Schema); any other is a ConfigError.
_KEYWORDS = ("enum", "format", "items", "maximum", "minimum", "pattern", "type")
_FORMATS = ("date", "date-time")


def _rule_problems(what: str, value: Any, rule: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    kind = rule.get("type")
    if kind is not None and not _is_type(value, kind):
        out.append(f"{what} must be of type {kind}, not {type(value).__name__} ({value!r})")
    enum = rule.get("enum")
    if enum is not None and value not in enum:
        out.append(f"{what} must be one of {', '.join(map(repr, enum))}, not {value!r}")
    fmt = rule.get("format")
    if fmt is not None and not _has_format(value, fmt):
        out.append(
            f"{what} must be a {fmt} (YYYY-MM-DD{'Thh:mm' if fmt == 'date-time' else ''}), not {value!r}"
        )
    pattern = rule.get("pattern")
    if pattern is not None and isinstance(value, str) and not re.search(pattern, value):
        out.append(f"{what} must match {pattern!r}, not {value!r}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and rule.get("minimum") is not None and value < rule["minimum"]:
        out.append(f"{what} must be at least {rule['minimum']}, not {value!r}")
    if number and rule.get("maximum") is not None and value > rule["maximum"]:
        out.append(f"{what} must be at most {rule['maximum']}, not {value!r}")
    items = rule.get("items")
    if items is not None and isinstance(value, list | tuple):
        for i, item in enumerate(value):
            out += _rule_problems(f"{what}[{i}]", item, items)
    return out


def _has_format(value: Any, fmt: str) -> bool:
    if isinstance(value, dt.datetime):
        return True
    if isinstance(value, dt.date):
        return fmt == "date"
    if not isinstance(value, str):
        return False
    try:
        if fmt == "date":
            dt.date.fromisoformat(value)
        else:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return fmt == "date-time" or len(value) == 10


def _check_rule(where: str, rule: Any) -> None:
    """A property rule of mdstore.toml: known keywords with values of the right kind."""
    if not isinstance(rule, Mapping):
        raise ConfigError(f"setting {where}: must be a table of schema keywords")
    unknown = sorted(set(rule) - set(_KEYWORDS))
    if unknown:
        raise ConfigError(f"unknown setting {where}.{unknown[0]} (known: {', '.join(_KEYWORDS)})")
    if rule.get("type") is not None and rule["type"] not in _TYPES:
        raise ConfigError(f"setting {where}.type: {rule['type']!r} is not one of " + ", ".join(_TYPES))
    if rule.get("format") is not None and rule["format"] not in _FORMATS:
        raise ConfigError(f"setting {where}.format: {rule['format']!r} is not one of " + ", ".join(_FORMATS))
    if rule.get("enum") is not None and not isinstance(rule["enum"], list):
        raise ConfigError(f"setting {where}.enum: must be a list of values")
    if rule.get("pattern") is not None:
        try:
            re.compile(str(rule["pattern"]))
        except re.error as exc:
            raise ConfigError(f"setting {where}.pattern: not a regular expression ({exc})") from None
    for bound in ("minimum", "maximum"):
        value = rule.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"setting {where}.{bound}: must be a number")
    if rule.get("items") is not None:
        _check_rule(f"{where}.items", rule["items"])


def schema_for(vault: Vault, name: str) -> Schema:
    raw = vault.config.collections.get(name, {})
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[collections.{name}] must be a table")
    unknown = set(raw) - {"folder", "required", "properties"}
    if unknown:
        raise ConfigError(
            f"unknown setting collections.{name}.{sorted(unknown)[0]} (known: folder, properties, required)"
        )
    folder = str(raw.get("folder", name)).strip("/")
    required = raw.get("required", [])
    properties = raw.get("properties", {})
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ConfigError(f"setting collections.{name}.required: must be a list of field names")
    if not isinstance(properties, Mapping) or not all(isinstance(v, Mapping) for v in properties.values()):
        raise ConfigError(f"setting collections.{name}.properties: must map field names to tables")
    for field, rule in properties.items():
        _check_rule(f"collections.{name}.properties.{field}", rule)
    return Schema(folder, tuple(required), properties)


class Collection:
    """CRUD over the notes of one folder. Records are dicts: fields, ``content``, ``id``, ``path``."""

    def __init__(self, vault: Vault, name: str) -> None:
        self.vault = vault
        self.name = name
        self.schema = schema_for(vault, name)
        self.folder = self.schema.folder

    def __repr__(self) -> str:
        return f"<Collection {self.name!r} in {self.folder}/>"

    # -- single records ----------------------------------------------------------------------

    def create(self, record: Mapping[str, Any], id: str | None = None) -> dict[str, Any]:  # noqa: A002
        with self.vault.batch() as b:
            path = self._create(b, record, id)
        return self._record(path)

    def get(self, id: str) -> dict[str, Any]:  # noqa: A002
        return self._record(self._path_of(id))

    def update(self, id: str, fields: Mapping[str, Any] | None = None, *, unset: Iterable[str] = (),  # noqa: A002
               if_hash: str | None = None) -> dict[str, Any]:  # fmt: skip
        with self.vault.batch() as b:
            path = self._update(b, id, fields or {}, unset, if_hash)
        return self._record(path)

    def delete(self, id: str, *, permanent: bool = False) -> None:  # noqa: A002
        self.vault.delete(self._path_of(id), permanent=permanent)

    def find(
        self,
        *filters: str,
        where: Mapping[str, Any] | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records matching find-language filters (``"age >= 30"``) or ``where={...}``."""
        result = self.vault.find(*filters, where=where, folder=self.folder, sort=sort, limit=limit)
        return [self._record(p) for p in result.column("path")]

    def find_one(self, *filters: str, where: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.find(*filters, where=where, limit=1)
        return found[0] if found else None

    # -- many records: one batch -------------------------------------------------------------

    def create_many(self, records: Iterable[Mapping[str, Any]]) -> list[str]:
        with self.vault.batch() as b:
            return [self._id_of(self._create(b, r, None)) for r in records]

    def update_many(self, changes: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """``{id: {field: value}}`` applied all or nothing."""
        with self.vault.batch() as b:
            return [self._id_of(self._update(b, i, f, (), None)) for i, f in changes.items()]

    def delete_many(self, ids: Iterable[str], *, permanent: bool = False) -> int:
        paths = [self._path_of(i) for i in ids]
        with self.vault.batch() as b:
            for path in paths:
                b.delete(path, permanent=permanent)
        return len(paths)

    # -- internals ---------------------------------------------------------------------------

    def _create(self, b: VaultBatch, record: Mapping[str, Any], id: str | None) -> str:  # noqa: A002
        fields = dict(record)
        body = fields.pop(CONTENT, "") or ""
        fields.pop("path", None)
        self._check(fields)
        slug = id or fields.get("id") or fields.get("title") or fields.get("name")
        if not slug:
            raise ValidationError(
                f"collection {self.name!r}: a record needs an id (or an 'id', 'title' or 'name' field)"
            )
        if id is not None and "id" not in fields and _slug(str(id)) != str(id):
            fields["id"] = id
        return b.create(f"{self.folder}/{_slug(str(slug))}", fields or None, str(body))

    def _update(self, b: VaultBatch, id: str, fields: Mapping[str, Any], unset: Iterable[str],  # noqa: A002
                if_hash: str | None) -> str:  # fmt: skip
        path = self._path_of(id)
        changes = dict(fields)
        body = changes.pop(CONTENT, None)
        current = self.vault.get(path).frontmatter
        merged = {**current, **changes}
        for key in unset:
            merged.pop(key, None)
        self._check(merged)
        return b.update(path, changes, list(unset), body, if_hash=if_hash)

    def _check(self, fields: Mapping[str, Any]) -> None:
        problems = self.schema.problems(fields)
        if problems:
            raise ValidationError(f"collection {self.name!r}: {problems[0]}")

    def _path_of(self, id: str) -> str:  # noqa: A002
        direct = f"{self.folder}/{_slug(id)}.md"
        if (self.vault.root / direct).is_file():
            return direct
        rows = self.vault.find(where={"id": id}, folder=self.folder, limit=1).column("path")
        if rows:
            return str(rows[0])
        raise NoteNotFound(f"collection {self.name!r} has no record {id!r}")

    def _id_of(self, path: str) -> str:
        return path.rpartition("/")[2].rpartition(".")[0]

    def _record(self, path: str) -> dict[str, Any]:
        note = self.vault.get(path)
        record = dict(note.frontmatter)
        record.setdefault("id", note.name)
        record[CONTENT] = note.body
        record["path"] = note.path
        return record


def collection_problems(vault: Vault) -> list[tuple[str, str]]:
    """``(path, message)`` for every note of a configured collection that breaks its schema."""
    out: list[tuple[str, str]] = []
    for name in sorted(vault.config.collections):
        schema = schema_for(vault, name)
        if not schema.required and not schema.properties:
            continue
        result = vault.find(folder=schema.folder)
        for path, frontmatter in zip(result.column("path"), result.column("frontmatter"), strict=True):
            for problem in schema.problems(frontmatter or {}):
                out.append((path, f"collection {name!r}: {problem}"))
    return out


def _is_type(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "string" and isinstance(value, dt.date):
        return True  # YAML reads an unquoted 2026-12-01 as a date; in the file it is text
    if kind == "date" and isinstance(value, str):
        try:
            dt.date.fromisoformat(value[:10])
            return True
        except ValueError:
            return False
    return isinstance(value, _TYPES[kind])


def _slug(text: str) -> str:
    return _SLUG.sub("-", text).strip(" -") or "record"
