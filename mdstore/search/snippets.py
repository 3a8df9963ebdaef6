"""Snippets: the best fragments of a hit's body, with matches marked and the heading above each.

Computed from the stored body with the shared analyzer, so both engines return the same snippets
for the same hit and query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from mdstore.search.analysis import analyse_word, fold, token_spans, word_spans
from mdstore.search.documents import Section, sections
from mdstore.search.protocol import Snippet
from mdstore.search.query import Fuzzy, Node, Phrase, Prefix, Term, positive_leaves
from mdstore.search.suggest import edit_distance

FRAGMENT_CHARS = 200
MAX_SNIPPETS = 3
MAX_ANCHORS = 200  # fragments considered per section: bounds the work on a huge note
_LEAD_CHARS = 50  # context kept before the first match of a fragment
ELLIPSIS = "…"


@dataclass(frozen=True)
class Matcher:
    """Which body words a query's positive leaves match (those that also make the note a hit)."""

    tokens: frozenset[str]
    prefixes: tuple[str, ...]
    fuzzy: tuple[tuple[str, str, int], ...]  # (token, word, distance)

    @classmethod
    def of(cls, tree: Node | None) -> Matcher:
        tokens: set[str] = set()
        prefixes: list[str] = []
        fuzzy: list[tuple[str, str, int]] = []
        for leaf in positive_leaves(tree):
            if getattr(leaf, "field", None) not in (None, "body"):
                continue
            if isinstance(leaf, Term):
                tokens.add(leaf.token)
            elif isinstance(leaf, Phrase):
                tokens.update(leaf.tokens)
            elif isinstance(leaf, Prefix):
                prefixes.append(leaf.prefix)
            elif isinstance(leaf, Fuzzy):
                fuzzy.append((leaf.token, leaf.word, leaf.distance))
        return cls(frozenset(tokens), tuple(prefixes), tuple(fuzzy))

    def key(self, word: str, token: str) -> str | None:
        """The query part that ``word``/``token`` matches (to count distinct matches), or ``None``."""
        if token in self.tokens:
            return token
        for prefix in self.prefixes:
            if token.startswith(prefix) or word.startswith(prefix):
                return "*" + prefix
        for fuzzy_token, fuzzy_word, distance in self.fuzzy:
            if (
                edit_distance(token, fuzzy_token, distance) <= distance
                or edit_distance(word, fuzzy_word, distance) <= distance
            ):
                return "~" + fuzzy_token
        return None


def _fragment(
    body: str,
    start: int,
    end: int,
    section: Section,
    matcher: Matcher,
    scan: re.Pattern[str] | None,
    view: str | None,
) -> Snippet:
    """``body[start:end]`` cut at word boundaries inside ``section``, whitespace collapsed."""
    cut_start = start
    if cut_start > section.start:
        space = body.rfind(" ", max(section.start, start - 20), start)
        cut_start = space + 1 if space >= 0 else start
    cut_end = end
    if cut_end < section.end:
        space = body.find(" ", end, min(section.end, end + 20))
        cut_end = space if space >= 0 else end
    text = " ".join(body[cut_start:cut_end].split())
    lead = ELLIPSIS if body[section.start : cut_start].strip() else ""
    tail = ELLIPSIS if body[cut_end : section.end].strip() else ""
    if scan is None or view is None:
        found = ((s, e) for s, e, word, token in token_spans(text) if matcher.key(word, token))
    else:
        # whitespace collapses the same way in the view: a letter maps to a letter
        shown = " ".join(view[cut_start:cut_end].split())
        found = ((s, e) for s, e, raw in _spans(scan, shown, text) if _key(raw, matcher) is not None)
    spans = tuple((s + len(lead), e + len(lead)) for s, e in found)
    return Snippet(text=f"{lead}{text}{tail}", heading=section.heading, spans=spans)


def _key(raw: str, matcher: Matcher) -> str | None:
    analysed = analyse_word(raw)
    return None if analysed is None else matcher.key(*analysed)


def _prefilter(matcher: Matcher) -> re.Pattern[str] | None:
    """A regex finding, in a body's ``_ascii_view``, the only words that can match (checked by
    analysis after).

    A Porter2 stem is the word's start except for its last two letters at most (``dying`` →
    ``die``), so a word can match a token only if its folded form starts with the token minus two
    letters. Fuzzy matches can start anywhere: no prefilter then."""
    if matcher.fuzzy or not (matcher.tokens or matcher.prefixes):
        return None
    starts = {token[: max(1, len(token) - 2)] for token in matcher.tokens} | set(matcher.prefixes)
    if not all(start.isascii() for start in starts):
        return None
    starts = {start.lower() for start in starts}
    return _pattern(tuple(sorted(starts, key=lambda start: (-len(start), start))))


@lru_cache(maxsize=512)
def _pattern(starts: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(start) for start in starts)
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*")


def _ascii_view(body: str) -> str | None:
    """``body`` lower-cased, each accented letter replaced by the ASCII letter it folds to (``É`` →
    ``e``): the same length, so offsets agree, and the prefilter can look for plain ASCII. ``None``
    when a letter folds to more or less than one character (``ß`` → ``ss``)."""
    if body.isascii():
        return body.lower()
    for ch in _NON_ASCII.findall(body):
        if ch.isalnum() and len(_fold_char(ch)) != 1:
            return None
    view = _NON_ASCII.sub(_ascii_letter, body).lower()
    return view if len(view) == len(body) else None


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _ascii_letter(match: re.Match[str]) -> str:
    ch = match.group()
    folded = _fold_char(ch) if ch.isalnum() else ch
    return folded if folded.isascii() else ch


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return fold(ch)


def _spans(pattern: re.Pattern[str], view: str, text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, raw word of text)`` for each match of ``pattern`` in ``view`` (``text``'s
    ASCII view)."""
    for match in pattern.finditer(view):
        yield match.start(), match.end(), text[match.start() : match.end()]


def make_snippets(body: str, tree: Node | None, limit: int = MAX_SNIPPETS) -> tuple[Snippet, ...]:
    """Up to ``limit`` fragments of ``body`` holding the most distinct query matches, best first.

    A hit that matched only outside the body (title, tags, ...) gets the opening fragment, unmarked.
    """
    matcher = Matcher.of(tree)
    candidates: list[tuple[int, int, int, int, Section]] = []  # (-distinct, -count, start, end, section)
    memo: dict[str, str | None] = {}  # raw word → the query part it matches: words repeat in a body
    scan = _prefilter(matcher)
    view = _ascii_view(body) if scan is not None else None
    for section in sections(body):
        text = body[section.start : section.end]
        found = []
        if scan is None or view is None:
            spans: Iterator[tuple[int, int, str]] = word_spans(text)
        else:
            spans = _spans(scan, view[section.start : section.end], text)
        for s, e, raw in spans:
            key = memo[raw] if raw in memo else memo.setdefault(raw, _key(raw, matcher))
            if key is not None:
                found.append((section.start + s, section.start + e, key))
        for i, (first, _, _) in enumerate(found[:MAX_ANCHORS]):
            window_start = max(section.start, first - _LEAD_CHARS)
            window_end = min(section.end, window_start + FRAGMENT_CHARS)
            inside: list[str] = []
            for _, e, key in found[i:]:
                if e > window_end:
                    break
                inside.append(key)
            candidates.append((-len(set(inside)), -len(inside), window_start, window_end, section))
    candidates.sort(key=lambda c: c[:4])
    chosen: list[tuple[int, int, Section]] = []
    for _, _, start, end, section in candidates:
        if len(chosen) == limit:
            break
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, section))
    if not chosen:
        # the first section with text: a leading "# Title" line only repeats the title
        for section in sections(body):
            text = body[section.start : section.end]
            if text.strip():
                offset = section.start + len(text) - len(text.lstrip())
                end = min(section.end, offset + FRAGMENT_CHARS)
                return (_fragment(body, offset, end, section, matcher, scan, view),)
        return ()
    return tuple(_fragment(body, start, end, section, matcher, scan, view) for start, end, section in chosen)
