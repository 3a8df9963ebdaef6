"""What a note's Markdown body contains: headings, tasks, links, tags, inline fields, block ids, words.

Built on markdown-it-py's token stream, so that nothing inside code spans, fenced or indented code,
HTML or link destinations is mistaken for a link, tag, field or task (a regex over the raw text
cannot tell). Two additions to the CommonMark parser:

* an inline rule for ``[[wikilinks]]`` and ``![[embeds]]`` (markdown-it has none);
* every inline rule that consumes markup (code spans, links, images, autolinks, inline HTML,
  wikilinks) records the span of source it consumed. Tags, inline fields and block ids are then
  searched in the paragraph's source with those spans blanked out: offsets stay those of the source,
  so line numbers are exact even after a code span that runs over a line break.

The rules are written for users in docs/vault-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from .comments import hide_comments
from .model import Field, Heading, Link, Task
from .values import parse_inline_value

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

__all__ = [
    "Extracted",
    "extract",
    "find_wikilinks",
    "normalize_field_key",
    "normalize_tag",
    "parse_wikilink",
]


@dataclass(frozen=True)
class Extracted:
    """Everything read from one Markdown body; line numbers are lines of the file."""

    headings: tuple[Heading, ...] = ()
    tasks: tuple[Task, ...] = ()
    links: tuple[Link, ...] = ()
    tags: tuple[str, ...] = ()  # normalised, deduplicated, first-seen order
    fields: tuple[Field, ...] = ()  # every inline field, those of tasks included
    block_ids: tuple[str, ...] = ()
    word_count: int = 0


# --- wikilinks -------------------------------------------------------------------------------------

_DENDRON = "dendron://"
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")


def parse_wikilink(
    inner: str, *, embed: bool = False, line: int = 0, link_style: str = "obsidian"
) -> Link | None:
    """The Link written as ``[[inner]]`` (``![[inner]]`` when ``embed``), or None if it is empty.

    ``target#anchor|alias`` (``link_style="dendron"``: ``alias|target#anchor``); ``[[#Heading]]``
    links to its own note (target ``""``); Dendron's cross-vault ``[[label|dendron://vault/note]]``
    gives target ``note``, alias ``label`` in either style.
    """
    inner = inner.replace("\\|", "|")  # a wikilink inside a table cell escapes its pipe
    if link_style == "dendron" and "|" in inner:
        alias, _, target = inner.partition("|")
        inner = f"{target}|{alias}"
    target, bar, alias = inner.partition("|")
    alias_text: str | None = alias.strip() if bar else None
    if alias_text and alias_text.startswith(_DENDRON):
        target, alias_text = alias_text, target.strip()
    target = target.strip()
    if target.startswith(_DENDRON):
        target = target[len(_DENDRON) :].partition("/")[2]
    target, hash_, anchor = target.partition("#")
    target = target.strip()
    anchor_text = anchor.strip() if hash_ else None
    if not target and not anchor_text:
        return None
    return Link(
        target=target,
        kind="embed" if embed else "wikilink",
        anchor=anchor_text or None,
        alias=alias_text or None,
        line=line,
    )


def find_wikilinks(text: str, line: int = 0, *, link_style: str = "obsidian") -> list[Link]:
    """Wikilinks in plain text that is not Markdown (frontmatter values), all given ``line``."""
    if "[[" not in text:
        return []
    links = []
    for match in _WIKILINK.finditer(text):
        link = parse_wikilink(match.group(2), embed=bool(match.group(1)), line=line, link_style=link_style)
        if link is not None:
            links.append(link)
    return links


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    src = state.src
    pos = state.pos
    embed = src[pos] == "!"
    start = pos + 1 if embed else pos
    if not src.startswith("[[", start):
        return False
    end = src.find("]]", start + 2, state.posMax)
    if end < 0:
        return False
    inner = src[start + 2 : end]
    if not inner.strip() or "\n" in inner or "[[" in inner:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.content = inner
        token.meta = {"embed": embed, "span": (pos, end + 2)}
    state.pos = end + 2
    return True


InlineRule = Callable[["StateInline", bool], bool]


def _markup_rule(rules: Mapping[str, tuple[InlineRule, ...]]) -> InlineRule:
    """One inline rule in place of those that consume markup (code spans, links, images,
    autolinks, inline HTML, wikilinks), trying only the ones that can start at the character at
    hand. The last token a rule pushes carries the source span it consumed (a wikilink records its
    own). In markdown-it's order these rules came after emphasis, which starts at ``*``/``_`` only,
    so taking them earlier changes nothing; calling each of them at every character the text rule
    stops at cost a parse about a tenth of its time."""

    def markup(state: StateInline, silent: bool) -> bool:
        candidates = rules.get(state.src[state.pos])
        if candidates is None:
            return False
        start = state.pos
        count = len(state.tokens)
        for rule in candidates:
            if rule(state, silent):
                if not silent and len(state.tokens) > count and rule is not _wikilink_rule:
                    state.tokens[-1].meta["span"] = (start, state.pos)
                return True
        return False

    return markup


# A character without which none of the parser's inline rules but the line break's can match: those
# of the markup rule above (an image or embed starts "![", so "[" stands for "!"), emphasis, escapes
# and entities. Keep it in step with the rules.
_INLINE_STARTS = re.compile(r"[`\[<*_\\&]")


def _inline_where_needed(state: StateCore) -> None:
    """markdown-it's core ``inline`` rule, but for the inline tokens (paragraphs, headings, table
    cells) with none of ``_INLINE_STARTS``: their children would be their text and its line breaks
    only, so they get none and the walker reads their content. About half the inline tokens of a
    vault are such plain text."""
    parse = state.md.inline.parse
    for token in state.tokens:
        if token.type == "inline" and _INLINE_STARTS.search(token.content):
            token.children = []
            parse(token.content, state.md, state.env, token.children)


# --- the parser, one per process -------------------------------------------------------------------

_MD: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt
        from markdown_it.rules_inline import autolink, backtick, html_inline, image, link

        md = MarkdownIt("commonmark").enable("table")
        # Targets are kept as written (URL-decoded later), so skip markdown-it's percent-encoding and
        # its XSS filter: we never render, and a file: or javascript: link is still a link written.
        md.normalizeLink = lambda url: url  # type: ignore[method-assign]
        md.validateLink = lambda url: True  # type: ignore[method-assign]
        by_first_character = {
            "`": (backtick,),
            "[": (_wikilink_rule, link),
            "!": (_wikilink_rule, image),
            "<": (autolink, html_inline),
        }
        md.inline.ruler.at("backticks", _markup_rule(by_first_character))
        md.disable(["link", "image", "autolink", "html_inline"])
        md.core.ruler.at("inline", _inline_where_needed)
        _MD = md
    return _MD


# --- extraction ------------------------------------------------------------------------------------

_TAG = re.compile(r"(?<![^\s(\[{,;:*_~\"'])#([\w/\-]+)")
_NOT_ONLY_NUMBERS = re.compile(r"[^\d/\-]")
_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")
_BLOCK_ID = re.compile(r"(?:^|[ \t])\^([A-Za-z0-9\-]+)[ \t]*$", re.M)
# Values are matched in the masked text (a link in a value is blank there) but read from the source,
# so they include their leading blanks here and are stripped when typed.
_LINE_FIELD = re.compile(r"^[ \t]*(?:\*\*|__)?([\w][\w \-]*?)(?:\*\*|__)?::(.*)$", re.M)
_BRACKET_FIELD = re.compile(r"\[([\w][\w \-]*?)::([^\]\n]*)\]|\(([\w][\w \-]*?)::([^)\n]*)\)")
_CHECKBOX = re.compile(r"\[(.)\](?:[ \t]+|$)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
_SPACES = re.compile(r"\s+")
_TRAILING_BLOCK_ID = re.compile(r"\s+\^[A-Za-z0-9\-]+\s*$")


def normalize_tag(tag: str) -> str:
    """``#Project/Alpha`` → ``project/alpha``: no ``#``, lower case, no trailing ``/``."""
    return tag.strip().lstrip("#").strip("/").lower()


def normalize_field_key(key: str) -> str:
    """``Due Date`` → ``due-date``: stripped, lower case, inner spaces as ``-``."""
    return _SPACES.sub("-", key.strip().lower())


def extract(body: str, *, first_line: int = 1, link_style: str = "obsidian") -> Extracted:
    """Read the structure of a Markdown ``body`` whose first line is line ``first_line`` of the file.

    ``link_style`` is ``"obsidian"`` (``[[target|alias]]``) or ``"dendron"`` (``[[alias|target]]``).
    """
    tokens = _parser().parse(hide_comments(body))
    return _Walker(first_line, link_style).walk(tokens)


class _Walker:
    """One pass over the block tokens, collecting into lists (kept private: a single-use helper)."""

    def __init__(self, first_line: int, link_style: str) -> None:
        self.offset = first_line
        self.link_style = link_style
        self.headings: list[Heading] = []
        self.tasks: list[Task] = []
        self.links: list[Link] = []
        self.tags: dict[str, None] = {}
        self.fields: list[Field] = []
        self.block_ids: list[str] = []
        self.words = 0
        self.section: str | None = None

    def walk(self, tokens: list[Token]) -> Extracted:
        pending_task: tuple[int, str] | None = None  # (file line, status) of a list item just opened
        i = 0
        count = len(tokens)
        while i < count:
            token = tokens[i]
            kind = token.type
            if kind == "inline":
                parent = tokens[i - 1].type if i else ""
                self._inline(token, parent, pending_task)
                pending_task = None
            elif kind == "heading_open":
                inline = tokens[i + 1]
                fields_before = len(self.fields)
                text = self._inline(inline, kind, None)
                del self.fields[fields_before:]  # "## key:: value" is a heading, not a field
                self.section = text
                self.headings.append(Heading(int(token.tag[1:]), text, self._line(token)))
                i += 2
            elif kind == "list_item_open":
                pending_task = self._task_start(tokens, i)
            elif kind == "paragraph_open":
                pass
            else:
                pending_task = None
            i += 1
        return Extracted(
            headings=tuple(self.headings),
            tasks=tuple(self.tasks),
            links=tuple(self.links),
            tags=tuple(self.tags),
            fields=tuple(self.fields),
            block_ids=tuple(self.block_ids),
            word_count=self.words,
        )

    def _line(self, token: Token) -> int:
        return self.offset + (token.map[0] if token.map else 0)

    def _task_start(self, tokens: list[Token], i: int) -> tuple[int, str] | None:
        # A task is a list item whose first paragraph starts with "[c] " (any one status character).
        if i + 2 < len(tokens) and tokens[i + 1].type == "paragraph_open":
            content = tokens[i + 2].content
            if content.startswith("[") and _CHECKBOX.match(content):
                return self._line(tokens[i]), content[1]
        return None

    def _inline(self, token: Token, parent: str, task: tuple[int, str] | None) -> str:
        """Collect links, tags, fields and words of one inline token; return its plain text."""
        src = token.content
        lines = _Lines(src, self._line(token))
        children = token.children or []
        plain: list[str] = []
        if not children:  # plain text (``_inline_where_needed``), its line breaks read as spaces
            plain.append(src.replace("\n", " "))
        masked_spans: list[tuple[int, int]] = []
        open_links: list[tuple[Token, int]] = []  # link_open and the index of its text in ``plain``
        for child in children:
            ctype = child.type
            if ctype == "text" or ctype == "text_special":
                plain.append(child.content)
            elif ctype == "softbreak" or ctype == "hardbreak":
                plain.append(" ")
            elif ctype == "code_inline":
                plain.append(child.content)
                masked_spans.append(child.meta["span"])
            elif ctype == "wikilink":
                start, end = child.meta["span"]
                masked_spans.append((start, end))
                link = parse_wikilink(
                    child.content,
                    embed=child.meta["embed"],
                    line=lines.at(start),
                    link_style=self.link_style,
                )
                if link is not None:
                    self.links.append(link)
                    plain.append(link.alias or link.target or (link.anchor or ""))
            elif ctype == "link_open":
                open_links.append((child, len(plain)))
            elif ctype == "link_close":
                if open_links:
                    opened, text_at = open_links.pop()
                    start, end = child.meta.get("span", (0, 0))
                    masked_spans.append((start, end))
                    text = "".join(plain[text_at:]).strip()
                    auto = opened.markup == "autolink"
                    self._markdown_link(
                        str(opened.attrs.get("href", "")),
                        None if auto else text,
                        "markdown",
                        lines.at(start),
                    )
            elif ctype == "image":
                start, end = child.meta.get("span", (0, 0))
                masked_spans.append((start, end))
                plain.append(child.content)
                self._markdown_link(str(child.attrs.get("src", "")), child.content, "embed", lines.at(start))
            elif ctype == "html_inline":
                masked_spans.append(child.meta.get("span", (0, 0)))
        text = "".join(plain).strip()
        self.words += len(text.split())
        masked = _mask(src, masked_spans)
        if "#" in masked:
            self._tags(masked)
        if "::" in masked:
            self._fields(src, masked, lines, parent, task)
        elif task is not None:
            self._task(src, task, ())
        if parent == "paragraph_open" and "^" in masked:
            # Obsidian wants the id at the end of the block; a line ending in " ^id" inside a
            # paragraph is read as one too, since that is what its writer meant.
            self.block_ids.extend(_BLOCK_ID.findall(masked))
        return text

    def _markdown_link(self, href: str, alias: str | None, kind: str, line: int) -> None:
        if not href:
            return
        if _SCHEME.match(href):
            self.links.append(Link(target=href, kind="url", alias=alias or None, line=line))
            return
        path, hash_, anchor = href.partition("#")
        target = unquote(path).strip()
        anchor_text = unquote(anchor).strip() if hash_ else None
        if not target and not anchor_text:
            return
        link = Link(target=target, kind=kind, anchor=anchor_text or None, alias=alias or None, line=line)
        self.links.append(link)

    def _tags(self, masked: str) -> None:
        for match in _TAG.finditer(masked):
            tag = normalize_tag(match.group(1))
            if tag and _NOT_ONLY_NUMBERS.search(tag):
                self.tags.setdefault(tag, None)

    def _fields(
        self, src: str, masked: str, lines: _Lines, parent: str, task: tuple[int, str] | None
    ) -> None:
        found: list[Field] = []
        if parent == "paragraph_open":
            for match in _LINE_FIELD.finditer(masked):
                value = src[match.start(2) : match.end(2)]
                found.append(self._field(match.group(1), value, lines.at(match.start())))
        for match in _BRACKET_FIELD.finditer(masked):
            group = 1 if match.group(1) is not None else 3
            value = src[match.start(group + 1) : match.end(group + 1)]
            found.append(self._field(match.group(group), value, lines.at(match.start())))
        self.fields.extend(found)
        if task is not None:
            self._task(src, task, tuple(found))

    @staticmethod
    def _field(key: str, value: str, line: int) -> Field:
        return Field(key=normalize_field_key(key), value=parse_inline_value(value), line=line)

    def _task(self, src: str, task: tuple[int, str], fields: tuple[Field, ...]) -> None:
        line, status = task
        # The checkbox line only, as Obsidian Tasks reads it: lines after it (lazy continuations,
        # often "key:: value" lines) belong to the item, so their fields do count for the task.
        text = _SPACES.sub(" ", src[3:].partition("\n")[0]).strip()
        text = _TRAILING_BLOCK_ID.sub("", text)
        self.tasks.append(Task(text=text, status=status, line=line, section=self.section, fields=fields))


class _Lines:
    """File line of an offset in one inline source; counts forward from the last offset asked, so
    that a paragraph with thousands of links costs linear, not quadratic, time."""

    __slots__ = ("src", "base", "pos", "line")

    def __init__(self, src: str, base: int) -> None:
        self.src, self.base, self.pos, self.line = src, base, 0, base

    def at(self, pos: int) -> int:
        if pos >= self.pos:
            self.line += self.src.count("\n", self.pos, pos)
        else:
            self.line = self.base + self.src.count("\n", 0, pos)
        self.pos = pos
        return self.line


def _mask(src: str, spans: list[tuple[int, int]]) -> str:
    """``src`` with each span and each backslash escape blanked (newlines kept, so offsets hold)."""
    if spans:
        parts = []
        last = 0
        for start, end in sorted(spans):
            if start < last:  # a span inside one already blanked (a code span in a link's text)
                start = last
            if end <= start:
                continue
            parts.append(src[last:start])
            piece = src[start:end]
            parts.append(" " * len(piece) if "\n" not in piece else re.sub(r"[^\n]", " ", piece))
            last = end
        parts.append(src[last:])
        src = "".join(parts)
    if "\\" in src:
        src = _ESCAPE.sub("  ", src)
    return src
