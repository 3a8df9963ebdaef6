"""The search query language: one parser for every engine.

``parse_query`` turns the user's text into a small tree of frozen nodes whose words are already
analysed (``analysis.py``); each engine compiles the tree into its own query objects, so Whoosh and
tantivy answer the same query with the same set of notes. Syntax (docs/search.md)::

    lookup vault            both words (AND is the default; ``AND`` may be written)
    lookup OR search        either word
    NOT draft, -draft       without the word
    "exact phrase"          words next to each other
    title:lookup            a field: title, alias, heading, body, tag, path, folder
    title:(lookup OR find)  a field for a whole group
    #python                 same as tag:python (a tag also matches its nested tags: python/async)
    conf*                   words starting with "conf" (at least 2 characters)
    lokup~  lokup~2         words within 1 (or 2) edits
    (a OR b) -c             parentheses group

Limits that keep a pasted 10,000-character text harmless: only the first ``MAX_TERMS`` words are
used (the rest are ignored), and groups nest at most ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mdstore.errors import QueryError
from mdstore.search.analysis import fold, stem, words

MAX_TERMS = 64
MAX_DEPTH = 32
MIN_PREFIX_CHARS = 2

TEXT_FIELDS = ("title", "aliases", "headings", "body", "name")
"""Analysed fields; a word without ``field:`` is looked up in all of them (and in tags)."""
KEYWORD_FIELDS = ("tags", "path", "folder")
"""Fields matched as whole values, not words."""

FIELD_NAMES = {
    "title": "title",
    "alias": "aliases",
    "aliases": "aliases",
    "heading": "headings",
    "headings": "headings",
    "body": "body",
    "tag": "tags",
    "tags": "tags",
    "path": "path",
    "folder": "folder",
}
"""What users write before ``:`` → the index field."""


@dataclass(frozen=True)
class Term:
    field: str | None  # None: every default field
    token: str  # stemmed, for the analysed fields
    word: str  # folded but unstemmed: matches a tag, feeds "did you mean"


@dataclass(frozen=True)
class Phrase:
    field: str | None
    tokens: tuple[str, ...]  # at least two


@dataclass(frozen=True)
class Prefix:
    field: str | None
    prefix: str  # folded, unstemmed


@dataclass(frozen=True)
class Fuzzy:
    field: str | None
    token: str
    word: str
    distance: int  # 1 or 2 edits (insert, delete, substitute)


@dataclass(frozen=True)
class Keyword:
    field: str  # one of KEYWORD_FIELDS
    value: str
    prefix: bool = False


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | Phrase | Prefix | Fuzzy | Keyword | And | Or | Not
Leaf = Term | Phrase | Prefix | Fuzzy | Keyword

_FIELD_WORD = re.compile(r"([A-Za-z]+):(.*)", re.S)
_FUZZY = re.compile(r"(.*?)~(\d*)", re.S)
_WORD_CHARS = re.compile(r"\w+")
_OPERATORS = {"OR", "AND", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" OR AND NOT NEG FIELD PHRASE WORD
    text: str
    pos: int  # 1-based column, for messages


def _lex(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Token(c, c, i + 1))
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(f'unbalanced quotes: the " at column {i + 1} is never closed')
            out.append(_Token("PHRASE", text[i + 1 : end], i + 1))
            i = end + 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "-)":
            out.append(_Token("NEG", c, i + 1))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            word = text[i:j]
            field = _FIELD_WORD.fullmatch(word)
            if field:
                out.append(_Token("FIELD", field.group(1), i + 1))
                if field.group(2):
                    out.append(_Token("WORD", field.group(2), i + 1 + len(field.group(1)) + 1))
                elif j >= n or text[j] not in '("':
                    raise QueryError(f"nothing after '{word}' at column {i + 1}")
            elif word in _OPERATORS:
                out.append(_Token(word, word, i + 1))
            else:
                out.append(_Token("WORD", word, i + 1))
            i = j
    return out


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.terms = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse_or(self, field: str | None, depth: int) -> Node | None:
        items = [self.parse_and(field, depth)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            after = self.peek()
            if after is None or after.kind in (")", "OR"):
                raise QueryError(f"OR at column {token.pos} needs a term on each side")
            items.append(self.parse_and(field, depth))
        return _combine(Or, items)

    def parse_and(self, field: str | None, depth: int) -> Node | None:
        items: list[Node | None] = []
        while (token := self.peek()) is not None and token.kind not in (")", "OR"):
            if token.kind == "AND":
                self.take()
                after = self.peek()
                if not items or after is None or after.kind in (")", "OR", "AND"):
                    raise QueryError(f"AND at column {token.pos} needs a term on each side")
                continue
            items.append(self.parse_unary(field, depth))
        if not items:
            token = self.peek()
            if token is not None and token.kind == "OR":
                raise QueryError(f"OR at column {token.pos} needs a term on each side")
            raise QueryError("empty search query" if token is None else f"empty group at column {token.pos}")
        return _combine(And, items)

    def parse_unary(self, field: str | None, depth: int) -> Node | None:
        token = self.peek()
        assert token is not None
        if token.kind in ("NOT", "NEG"):
            if depth >= MAX_DEPTH:
                raise QueryError(f"search query nested more than {MAX_DEPTH} levels deep")
            self.take()
            after = self.peek()
            if after is None or after.kind in (")", "OR", "AND"):
                raise QueryError(f"{token.text} at column {token.pos} needs a term after it")
            child = self.parse_unary(field, depth + 1)
            return None if child is None else Not(child)
        return self.parse_primary(field, depth)

    def parse_primary(self, field: str | None, depth: int) -> Node | None:
        token = self.take()
        if token.kind == "FIELD":
            name = token.text.lower()
            if name not in FIELD_NAMES:
                known = ", ".join(sorted({"title", "alias", "heading", "body", "tag", "path", "folder"}))
                raise QueryError(
                    f"unknown search field '{token.text}' at column {token.pos} (known: {known}); "
                    f'put the text in quotes to search for it literally: "{token.text}:..."'
                )
            return self.parse_primary(FIELD_NAMES[name], depth)
        if token.kind == "(":
            if depth >= MAX_DEPTH:
                raise QueryError(f"search query nested more than {MAX_DEPTH} levels deep")
            after = self.peek()
            if after is None:
                raise QueryError(f"unbalanced parentheses: the ( at column {token.pos} is never closed")
            if after.kind == ")":
                raise QueryError(f"empty parentheses at column {token.pos}")
            node = self.parse_or(field, depth + 1)
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(f"unbalanced parentheses: the ( at column {token.pos} is never closed")
            self.take()
            return node
        if token.kind == ")":
            raise QueryError(f"unbalanced parentheses: the ) at column {token.pos} has no matching (")
        if token.kind in ("OR", "AND", "NOT", "NEG"):
            raise QueryError(f"{token.text} at column {token.pos} needs a term after it")
        if self.terms >= MAX_TERMS:
            return None  # over the cap: ignored, documented
        self.terms += 1
        if token.kind == "PHRASE":
            return _phrase(field, token.text)
        return _word(field, token.text, token.pos)


def _combine(kind: type[And] | type[Or], items: list[Node | None]) -> Node | None:
    kept = tuple(item for item in items if item is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kind(kept)


def _keyword_value(field: str, value: str) -> str:
    if field == "tags":
        return fold(value.strip().lstrip("#").strip("/"))
    if field == "folder":
        return value.strip().strip("/")
    return value.strip().lstrip("/")


def _phrase(field: str | None, text: str) -> Node | None:
    if field in KEYWORD_FIELDS:
        assert field is not None
        value = _keyword_value(field, text)
        return Keyword(field, value) if value else None
    found = words(text)
    if not found:
        return None
    if len(found) == 1:
        return Term(field, stem(found[0]), found[0])
    return Phrase(field, tuple(stem(w) for w in found))


def _word(field: str | None, text: str, pos: int) -> Node | None:
    if field is None and text.startswith("#") and len(text) > 1:
        field = "tags"  # "#python" is a tag query, as in Obsidian
    if text.endswith("*"):
        return _prefix(field, text.rstrip("*"), text, pos)
    fuzzy = _FUZZY.fullmatch(text)
    if fuzzy:
        return _fuzzy(field, fuzzy.group(1), fuzzy.group(2), text, pos)
    return _phrase(field, text)


def _prefix(field: str | None, stem_text: str, text: str, pos: int) -> Node | None:
    if field in KEYWORD_FIELDS:
        assert field is not None
        value = _keyword_value(field, stem_text)
        if not value:
            raise QueryError(f"nothing before '*' in '{text}' at column {pos}")
        return Keyword(field, value, prefix=True)
    parts = _WORD_CHARS.findall(fold(stem_text))
    if not parts or len(parts[-1]) < MIN_PREFIX_CHARS:
        raise QueryError(
            f"a prefix needs at least {MIN_PREFIX_CHARS} letters before '*': '{text}' at column {pos}"
        )
    # "foo-ba*" = foo AND ba*: only the last word is a prefix
    leading = [_phrase(field, part) for part in parts[:-1]]
    return _combine(And, [*leading, Prefix(field, parts[-1])])


def _fuzzy(field: str | None, word: str, digits: str, text: str, pos: int) -> Node | None:
    distance = int(digits) if digits else 1
    if distance not in (1, 2):
        raise QueryError(f"fuzzy distance must be 1 or 2: '{text}' at column {pos}")
    if field in KEYWORD_FIELDS:
        raise QueryError(f"fuzzy matching (~) does not apply to the {field} field: '{text}' at column {pos}")
    found = words(word)
    if not found:
        return None
    return _combine(And, [Fuzzy(field, stem(w), w, distance) for w in found])


def parse_query(text: str) -> Node | None:
    """The tree of ``text``; ``None`` when it holds only stop words (nothing to search for).

    Raises ``QueryError`` naming the problem for unbalanced quotes or parentheses, an unknown field,
    a dangling operator, or an empty query.
    """
    if not text.strip():
        raise QueryError("empty search query")
    parser = _Parser(_lex(text))
    node = parser.parse_or(None, 0)
    extra = parser.peek()
    if extra is not None:  # only a stray ")" can stop parse_or early
        raise QueryError(f"unbalanced parentheses: the ) at column {extra.pos} has no matching (")
    return node


def positive_leaves(node: Node | None) -> Iterator[Leaf]:
    """The leaves a hit may match (those not under a NOT): what gets highlighted and corrected."""
    if node is None or isinstance(node, Not):
        return
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from positive_leaves(child)
    else:
        yield node


def literal(text: str) -> str:
    """A query that matches the words of ``text`` as plain words (no operators, fields or quotes)."""
    return " ".join(w.lower() if w in _OPERATORS else w for w in _WORD_CHARS.findall(text))
