"""How far mdstore's link graph is from Obsidian's rules on a real vault.

    python benchmarks/bench_links.py [VAULT] [--style obsidian|dendron] [--twice] [--show N]

VAULT defaults to the Dendron documentation vault in ../shared/corpora/dendron-site (Dendron link
style). The vault is copied to a temp folder and indexed (search off). Then a reference, written
from Obsidian's documented rules and sharing no code with mdstore, reads every note's file again,
finds its links itself and resolves them:

* links: ``[[wikilinks]]``, ``![[embeds]]``, Markdown links and images ``[t](path)`` (URL-decoded,
  ``<path with spaces>``), and ``[[links]]`` in frontmatter values; none inside fenced code blocks,
  inline code, ``%%comments%%`` or HTML comments; ``#heading``/``#^block`` and ``|alias`` dropped;
* resolution, **obsidian**: ``./``/``../`` relative to the note (Markdown links: relative first,
  then as a wikilink), ``/`` from the vault root, the exact vault path, then among the files whose
  path ends with the target (a note with or without ``.md``, another file by its full name): the one
  in the linking note's folder, then an exact-case name, then fewest folders, then alphabetical;
* **+aliases**: the same, then an alias (mdstore's documented extension: Obsidian itself leaves
  ``[[Alias]]`` unresolved);
* **shortest**: the rule mdstore used before: any case, shortest path, then an alias.

``--twice`` copies the vault into two folders (``one/``, ``two/``), so that every name exists twice:
the case where the linking note's own folder decides. ``--show N`` prints N links where the index and
the obsidian reference disagree.

It prints, for each reference, how many notes have exactly the same set of backlinks in the index
(the share that agrees).
"""

from __future__ import annotations

import argparse
import posixpath
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA  # noqa: E402

import mdstore  # noqa: E402


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    return nfc(text).lower()


# --- finding links in a note's text, without markdown-it ------------------------------------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Leftmost first, as a reader meets them: `%%` in a code span is text, `x` in a comment is comment.
# A code span stays within one paragraph (no blank line, list item, heading or quote inside); an
# unclosed comment runs to the end of the note.
HIDDEN = re.compile(
    r"(?<!`)(`+)(?!`)(?:[^\n]|\n(?![ \t]*(?:\n|[-*+][ \t]|\d+[.)][ \t]|#|>)))+?(?<!`)\1(?!`)"
    r"|%%.*?(?:%%|\Z)|<!--.*?(?:-->|\Z)",
    re.S,
)
WIKI = re.compile(r"(!?)\[\[([^\[\]]+?)\]\]")
MD_LINK = re.compile(
    r"(!?)\[(?:[^\[\]]|\[[^\[\]]*\])*\]"  # [text], one level of nested brackets
    r"\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"  # (<dest> or dest with balanced parens
    r"(?:\s+[\"'(][^\n]*?)?\s*\)"  # "title")
)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def split_frontmatter(text: str) -> tuple[str, str]:
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = re.search(r"^---[ \t]*$", text[4:], re.M)
        if end:
            return text[4 : 4 + end.start()], text[4 + end.end() :]
    return "", text


def without_code(body: str) -> str:
    """The body with fenced code blocks, comments and code spans blanked out."""
    lines, fence, html = [], "", False
    for line in body.split("\n"):
        m = FENCE.match(line)
        if html:  # an HTML comment block: no fence inside it counts
            html = "-->" not in line
            lines.append(line)
        elif fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip(" `~"):
                fence = ""
            lines.append("")
        elif m and not (m.group(1)[0] == "`" and "`" in line[m.end() :]):
            fence = m.group(1)
            lines.append("")
        else:
            html = line.lstrip().startswith("<!--") and "-->" not in line
            lines.append(line)
    return HIDDEN.sub(blank, "\n".join(lines))


def wikilink_path(inner: str, style: str = "obsidian") -> str:
    parts = inner.replace("\\|", "|").split("|", 1)
    path = parts[-1] if style == "dendron" else parts[0]
    if style == "dendron" and path.startswith("dendron://"):  # a cross-vault link names its vault
        path = path[len("dendron://") :].partition("/")[2]
    return path.split("#", 1)[0].rstrip("\\").strip()


def find_links(text: str, style: str = "obsidian") -> list[tuple[str, str]]:
    """(kind, link path) of every link in a note, kind "wikilink", "embed" or "markdown"."""
    front, body = split_frontmatter(text)
    found = [("wikilink", wikilink_path(m.group(2), style)) for m in WIKI.finditer(front)]
    body = without_code(body)
    for m in WIKI.finditer(body):
        found.append(("embed" if m.group(1) else "wikilink", wikilink_path(m.group(2), style)))
    for m in MD_LINK.finditer(WIKI.sub(blank, body)):
        url = m.group(2)
        url = url[1:-1] if url.startswith("<") else url
        if SCHEME.match(url):
            continue
        found.append(("markdown", unquote(url.split("#", 1)[0]).strip()))
    return found


# --- resolving them --------------------------------------------------------------------------------


class Reference:
    def __init__(self, files: list[str], aliases: dict[str, list[str]], rule: str) -> None:
        self.rule = rule
        self.by_path: dict[str, list[str]] = defaultdict(list)  # folded path -> files
        self.by_name: dict[str, list[str]] = defaultdict(list)  # folded name (notes also without .md)
        self.written = {nfc(f): f for f in files}
        for f in files:
            self.by_path[fold(f)].append(f)
            name = fold(f.rpartition("/")[2])
            self.by_name[name].append(f)
            if name.endswith(".md"):
                self.by_name[name[:-3]].append(f)
        self.by_alias: dict[str, list[str]] = defaultdict(list)
        for path, names in aliases.items():
            for name in names:
                self.by_alias[name].append(path)

    def at(self, path: str) -> str | None:
        for candidate in (path, path + ".md"):
            if nfc(candidate) in self.written:
                return self.written[nfc(candidate)]
            if self.by_path.get(fold(candidate)):
                return min(self.by_path[fold(candidate)])
        return None

    def relative(self, target: str, source: str) -> str | None:
        if target.startswith("/"):
            return self.at(target.lstrip("/"))
        path = posixpath.normpath(posixpath.join(source.rpartition("/")[0], target))
        return None if path.startswith("..") else self.at(path)

    def resolve(self, target: str, kind: str, source: str) -> str | None:
        if not target:
            return source
        if kind == "markdown" or target.startswith(("./", "../", "/")):
            found = self.relative(target, source)
            if found or kind != "markdown":
                return found
        t = target.lstrip("/")
        if nfc(t) in self.written or nfc(t + ".md") in self.written:
            return self.written.get(nfc(t)) or self.written[nfc(t + ".md")]
        ft = "/" + fold(t)
        matches = [
            f
            for f in self.by_name.get(fold(t.rpartition("/")[2]), [])
            if ("/" + fold(f)).endswith((ft, ft + ".md"))
        ]
        if matches:
            here = fold(posixpath.join(source.rpartition("/")[0], t))
            tail = "/" + nfc(t)

            def rank(path: str) -> tuple[object, ...]:
                depth = (path.count("/"), path)
                if self.rule == "shortest":
                    return depth
                in_folder = fold(path) in (here, here + ".md")
                exact_case = ("/" + nfc(path)).endswith((tail, tail + ".md"))
                return (not in_folder, not exact_case, *depth)

            return min(matches, key=rank)
        if kind != "markdown" and self.rule != "obsidian":
            named = self.by_alias.get(fold(t))
            if named:
                return min(named, key=lambda p: (p.count("/"), p))
        if kind == "embed":
            return self.relative(t, source)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault", nargs="?", default=str(CORPORA / "dendron-site"))
    parser.add_argument("--style", choices=["obsidian", "dendron"], default=None)
    parser.add_argument("--twice", action="store_true", help="copy the vault into one/ and two/")
    parser.add_argument("--show", type=int, default=0, metavar="N", help="print N disagreeing links")
    args = parser.parse_args()
    src = Path(args.vault)
    style = args.style or ("dendron" if src.name == "dendron-site" else "obsidian")
    with tempfile.TemporaryDirectory(prefix="mdstore-links-") as tmp:
        root = Path(tmp) / "vault"
        skip = shutil.ignore_patterns(".mdstore", ".git", "mdstore.toml")
        for folder in ("one", "two") if args.twice else ("",):
            shutil.copytree(src, root / folder, ignore=skip)
        (root / "mdstore.toml").write_text(f'[vault]\nlink_style = "{style}"\n[search]\nengine = "none"\n')
        started = time.perf_counter()
        with mdstore.open(root) as vault:
            vault.sync()
            took = time.perf_counter() - started
            notes = [r["path"] for r in vault.sql("SELECT path FROM notes")]
            files = notes + [r["path"] for r in vault.sql("SELECT path FROM attachments")]
            aliases: dict[str, list[str]] = defaultdict(list)
            for r in vault.sql("SELECT path, alias FROM aliases"):
                aliases[r["path"]].append(fold(r["alias"].strip()))
            rows = vault.sql("SELECT path, resolved FROM links WHERE kind <> 'url'").rows
        written = {
            note: find_links((root / note).read_bytes().decode("utf-8", "replace"), style) for note in notes
        }
    index: dict[str, Counter[str]] = defaultdict(Counter)
    for path, res in rows:
        if res is not None and res != path:
            index[path][res] += 1
    print(
        f"vault {src} ({style} links): {len(notes)} notes, {len(files) - len(notes)} attachments, "
        f"{sum(map(len, written.values()))} links found by the reference, indexed in {took:.1f} s"
    )
    for rule in ("obsidian", "+aliases", "shortest"):
        ref = Reference(files, aliases, rule)
        graph: dict[str, Counter[str]] = defaultdict(Counter)
        origin: dict[tuple[str, str], str] = {}
        for source, links in written.items():
            for kind, target in links:
                res = ref.resolve(target, kind, source)
                if res is not None and res != source:
                    graph[source][res] += 1
                    origin[source, res] = f"{kind} {target!r}"
        theirs, ours = backlinks(graph), backlinks(index)
        same = sum(1 for n in notes if ours.get(n, set()) == theirs.get(n, set()))
        print(
            f"  index vs {rule:9} rule: {same}/{len(notes)} notes have the same backlinks "
            f"({same / len(notes):.2%})"
        )
        if rule == "obsidian" and args.show:
            shown = 0
            for source in notes:
                for target in sorted(set(index[source]) ^ set(graph[source])):
                    if shown < args.show:
                        side = "reference only" if target in graph[source] else "index only"
                        print(f"    {source} -> {target} ({side}; {origin.get((source, target), '')})")
                        shown += 1


def backlinks(graph: dict[str, Counter[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        for target in targets:
            found[target].add(source)
    return found


if __name__ == "__main__":
    main()
