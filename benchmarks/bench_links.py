"""How far mdstore's link graph is from Obsidian's rules on a real vault.

    python benchmarks/bench_links.py [VAULT] [--style obsidian|dendron] [--twice]

VAULT defaults to the Dendron documentation vault in ../shared/corpora/dendron-site (Dendron link
style). The vault is copied to a temp folder and indexed (search off); then every wikilink and embed
is resolved again by two plain reference implementations written from the rules, one file at a time:

* **obsidian**: exact vault path, then (among files whose path ends with the target) the one in the
  linking note's folder, then an exact-case name, then case-insensitive with the shortest path, then
  an alias (docs/vault-format.md, "Link resolution");
* **shortest**: the rule mdstore used before: any case, shortest path, then an alias.

``--twice`` copies the vault into two folders (``one/``, ``two/``), so that every name exists twice:
the case where the linking note's own folder decides.

It prints, for each reference, how many notes have exactly the same set of backlinks in the index
(the share that agrees), and how many notes' backlinks differ between the two rules.
"""

from __future__ import annotations

import argparse
import posixpath
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA  # noqa: E402

import mdstore  # noqa: E402


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    return nfc(text).lower()


class Reference:
    def __init__(self, files: list[str], aliases: dict[str, list[str]], obsidian: bool) -> None:
        self.files = files
        self.folded = [("/" + fold(f), "/" + nfc(f), f) for f in files]
        self.aliases = aliases
        self.obsidian = obsidian

    def resolve(self, target: str, kind: str, source: str) -> str | None:
        t = target.strip().lstrip("/")
        exact = nfc(t)
        for path in self.files:
            if nfc(path) in (exact, exact + ".md"):
                return path
        tail, ftail = "/" + exact, "/" + fold(t)
        matches = [f for low, written, f in self.folded if low.endswith((ftail, ftail + ".md"))]
        if matches:
            here = fold(posixpath.join(source.rpartition("/")[0], t))

            def rank(path: str) -> tuple[object, ...]:
                depth = (path.count("/"), path)
                if not self.obsidian:
                    return depth
                in_folder = fold(path) in (here, here + ".md")
                exact_case = ("/" + nfc(path)).endswith((tail, tail + ".md"))
                return (not in_folder, not exact_case, *depth)

            return min(matches, key=rank)
        named = [p for p, names in self.aliases.items() if fold(t) in names]
        if named:
            return min(named, key=lambda p: (p.count("/"), p))
        if kind == "embed":
            rel = posixpath.normpath(posixpath.join(source.rpartition("/")[0], t))
            return next((f for f in self.files if fold(f) in (fold(rel), fold(rel) + ".md")), None)
        return None


def backlinks(rows: list[tuple[str, str | None]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for source, target in rows:
        if target is not None and target != source:
            found[target].add(source)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault", nargs="?", default=str(CORPORA / "dendron-site"))
    parser.add_argument("--style", choices=["obsidian", "dendron"], default=None)
    parser.add_argument("--twice", action="store_true", help="copy the vault into one/ and two/")
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
            links = vault.sql("SELECT path, kind, target, resolved FROM links WHERE kind <> 'url'").rows
    checked = [
        (path, kind, target, res)
        for path, kind, target, res in links
        if kind != "markdown" and target.strip() and not target.startswith(("./", "../"))
    ]
    index = backlinks([(path, res) for path, _, _, res in checked])
    refs: dict[str, Callable[[str, str, str], str | None]] = {
        "obsidian": Reference(files, aliases, obsidian=True).resolve,
        "shortest": Reference(files, aliases, obsidian=False).resolve,
    }
    graphs = {name: backlinks([(p, fn(t, k, p)) for p, k, t, _ in checked]) for name, fn in refs.items()}
    print(
        f"vault {src} ({style} links): {len(notes)} notes, {len(files) - len(notes)} attachments, "
        f"{len(checked)} wikilinks/embeds checked, indexed in {took:.1f} s"
    )
    for name, graph in graphs.items():
        same = sum(1 for n in notes if index.get(n, set()) == graph.get(n, set()))
        share = same / len(notes)
        print(f"  index vs {name:9} rule: {same}/{len(notes)} notes have the same backlinks ({share:.2%})")
    changed = sum(1 for n in notes if graphs["obsidian"].get(n, set()) != graphs["shortest"].get(n, set()))
    print(f"  notes whose backlinks differ between the two rules: {changed}")


if __name__ == "__main__":
    main()
