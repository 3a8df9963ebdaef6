"""Which links a move breaks, and how to write each one again (``move(..., update_links=True)``).

The notes to look at come from the index: those with a link resolved to a moved file, those whose
links could be captured by a moved file's new name (a ``[[name]]`` that now has a shorter match),
and the moved notes themselves (their relative links change meaning with their folder). Each is
read from disk (or from the batch) and its link spans found (``notes/rewrite.py``).

Every link is resolved twice with Obsidian's rules (``notes/links.py``): in the vault before the
move and after it. The resolvers are built over just the files the links can reach (those sharing a
lookup key with a link), so the cost follows the number of links, not the vault. A link is rewritten
only when its target after the move is not the moved version of its target before:

- a name link ``[[name]]`` stays a name link when the new name is unambiguous, else becomes a path;
- a path link gets the new path (``.md`` kept or omitted as written), a ``./`` link a relative one;
- a Markdown link gets the new relative path, URL-encoded as needed; a ``/``-rooted one stays rooted;
- the alias, anchor (``#Heading``, ``#^block``), title and the rest of the link are kept as written.

A note renamed only in case (``Home.md`` to ``home.md``) is still reached by every link to it (names
match ignoring case), but its links are written again with the new spelling all the same.

A note that is not UTF-8 text is never rewritten (``fmedit.utf8_text``): when its links would need
it, it is listed in ``MovePlan.skipped`` instead, and the move goes ahead.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..notes.links import LinkResolver, link_key, name_keys
from ..notes.model import Link
from ..notes.paths import case_rename

if TYPE_CHECKING:
    from ..core import Core
    from ..notes.rewrite import LinkSpan

_ENCODE = {" ": "%20", "(": "%28", ")": "%29", "%": "%25", "<": "%3C", ">": "%3E"}


@dataclass
class MovePlan:
    """The link rewrites a move needs: ``rewrites`` is ``{current path: (new bytes, links
    rewritten)}``; ``skipped`` lists the notes (at their path after the move) whose links would need
    rewriting but that are not UTF-8 text, which mdstore never rewrites (their links stay as written)."""

    rewrites: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def plan_move(core: Core, mapping: Mapping[str, str], read: Callable[[str], bytes | None]) -> MovePlan:
    """What a move of ``mapping`` (old path -> new path) must rewrite. ``read`` gives a note's
    current bytes."""
    from ..errors import NoteParseError
    from ..notes.fmedit import utf8_text
    from ..notes.rewrite import link_spans

    style = core.config.vault.link_style
    exts = tuple(e.lower() for e in core.config.vault.extensions)
    old_paths = list(mapping)
    new_keys = sorted(set().union(*(name_keys(p) for p in mapping.values())))
    rows = core.query(
        "SELECT DISTINCT path FROM links WHERE list_contains(?, resolved) "
        "UNION SELECT DISTINCT path FROM links WHERE list_contains(?, key)",
        [old_paths, new_keys],
    )
    sources = dict.fromkeys(rows.column("path"))
    sources.update(dict.fromkeys(p for p in old_paths if p.lower().endswith(exts)))
    texts: dict[str, str] = {}
    spans: dict[str, list[LinkSpan]] = {}
    not_text: set[str] = set()
    for path in sources:
        data = read(path)
        if data is None:
            continue
        try:
            text = utf8_text(data, path)
        except NoteParseError:
            # Never rewritten (that would mix encodings), but read to tell whether it is left behind
            # (the Markdown parser reads NUL as U+FFFD, and spans are found in what it reads).
            not_text.add(path)
            text = data.decode("utf-8", "surrogateescape").replace("\x00", "\ufffd")
        found = link_spans(text, link_style=style)
        if found:
            texts[path] = text
            spans[path] = found
    keys = {link_key(s.link.target) for found in spans.values() for s in found}
    keys |= set(new_keys) | set().union(*(name_keys(p) for p in old_paths))
    before, after = _resolvers(core, keys, mapping)
    plan = MovePlan()
    for path, found in spans.items():
        new_source = mapping.get(path, path)
        edits: list[tuple[LinkSpan, str]] = []
        for span in found:
            was = before.resolve(span.link, path)
            if was is None:
                continue  # broken before the move: nothing to preserve
            wanted = mapping.get(was, was)
            # A link still reaches a note renamed only in case (names match ignoring case), but it
            # is written again all the same, so that it spells the new name.
            if after.resolve(span.link, new_source) == wanted and not case_rename(was, wanted):
                continue
            written = _new_target(span, wanted, new_source, after)
            if written is not None and written != span.written:
                edits.append((span, written))
        if edits and path in not_text:
            plan.skipped.append(new_source)
        elif edits:
            from ..notes.rewrite import replace_spans

            plan.rewrites[path] = (replace_spans(texts[path], edits).encode("utf-8"), len(edits))
    return plan


def _resolvers(core: Core, keys: set[str], mapping: Mapping[str, str]) -> tuple[LinkResolver, LinkResolver]:
    """Resolvers over the files any of ``keys`` can reach, before and after the move."""
    keys.discard("")
    key_list = sorted(keys)
    notes: dict[str, list[str]] = {}
    attachments: set[str] = set()
    if key_list:
        for row in core.query(
            "SELECT path, 'n' AS k FROM notes WHERE list_contains(?, key) "
            "UNION SELECT path, 'n' AS k FROM aliases WHERE list_contains(?, key) "
            "UNION SELECT path, 'a' AS k FROM attachments WHERE list_contains(?, key)",
            [key_list, key_list, key_list],
        ).rows:
            if row[1] == "n":
                notes[row[0]] = []
            else:
                attachments.add(row[0])
    exts = tuple(e.lower() for e in core.config.vault.extensions)
    for path in mapping:  # files not indexed yet still move
        if path.lower().endswith(exts):
            notes.setdefault(path, [])
        else:
            attachments.add(path)
    if notes:
        for row in core.query(
            "SELECT path, alias FROM aliases WHERE list_contains(?, path)", [sorted(notes)]
        ).rows:
            notes[row[0]].append(row[1])
    before = LinkResolver(notes.items(), attachments)
    after = LinkResolver(
        [(mapping.get(p, p), a) for p, a in notes.items()], [mapping.get(p, p) for p in attachments]
    )
    return before, after


def _new_target(span: LinkSpan, wanted: str, source: str, after: LinkResolver) -> str | None:
    """The text to write in place of ``span.written`` so that the link reaches ``wanted``."""
    written = span.written
    keep_ext = written.lower().endswith(".md") or not wanted.lower().endswith(".md")
    shown = wanted if keep_ext else wanted[: -len(".md")]
    folder = source.rpartition("/")[0]
    if span.markdown:
        if written.startswith("/"):
            candidates = ["/" + shown, "/" + wanted]
        else:
            candidates = [
                _relative(shown, folder),
                _relative(shown, folder, dotted=True),
                _relative(wanted, folder),
            ]
        return next((_encode(c, span) for c in candidates if _reaches(span, c, source, after, wanted)), None)
    candidates = []
    if written.startswith(("./", "../")):
        candidates.append(_relative(shown, folder, dotted=True))
    elif "/" not in written:
        candidates.append(shown.rpartition("/")[2])
    candidates += ["/" + shown if written.startswith("/") else shown, wanted]
    return next((c for c in candidates if _reaches(span, c, source, after, wanted)), None)


def _reaches(span: LinkSpan, target: str, source: str, after: LinkResolver, wanted: str) -> bool:
    # Candidates are checked unencoded: the reader URL-decodes a Markdown destination.
    return after.resolve(Link(target=target, kind=span.link.kind), source) == wanted


def _relative(path: str, folder: str, *, dotted: bool = False) -> str:
    rel = posixpath.relpath(path, folder or ".")
    if dotted and not rel.startswith("../"):
        rel = "./" + rel
    return rel


def _encode(target: str, span: LinkSpan) -> str:
    if span.angle:
        return target.replace(">", "%3E")
    return "".join(_ENCODE.get(ch, ch) for ch in target)
