"""Relevance and speed of the search engines on a real vault: known-item queries, MRR@10, recall@10.

    python benchmarks/bench_relevance.py [VAULT] [--engines whoosh,tantivy] [--boost title=4 ...]

VAULT defaults to the Dendron documentation vault in ../shared/corpora/dendron-site (Dendron link
style); any folder of Markdown notes works, e.g. one made by benchmarks/genvault.py.

Queries are built automatically from the vault, each with one target note:

* **title**: the note's title, as plain words (``literal()``: no operators);
* **heading**: the first heading of the note that has at least two words and is not the title.

A query that is only stop words is skipped. For each engine and query kind the script prints the
mean reciprocal rank of the target within the top 10 (MRR@10), the share of targets in the top 10
(recall@10), how many queries there were and how many had a target whose query text is shared
with another note (those cannot all be ranked first), plus build time, index size and query
latency (p50/p95, warm, one process). Ranking boosts can be overridden with ``--boost field=value``
to tune ``mdstore/search/ranking.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from mdstore.notes.model import Note
from mdstore.notes.parse import parse_note
from mdstore.search import open_backend
from mdstore.search.query import literal, parse_query
from mdstore.search.ranking import DEFAULT_BOOSTS, Boosts

DENDRON = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "dendron-site"
SKIP_DIRS = {".git", ".mdstore", ".obsidian", ".trash", "node_modules"}
K = 10


def load_notes(root: Path, link_style: str) -> list[Note]:
    notes = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".md"):
                path = Path(folder) / name
                rel = path.relative_to(root).as_posix()
                notes.append(
                    parse_note(rel, path.read_bytes(), mtime=path.stat().st_mtime, link_style=link_style)
                )
    return notes


def known_items(notes: list[Note]) -> dict[str, list[tuple[str, str]]]:
    """``{kind: [(query, target path), ...]}`` for the title and heading query kinds."""
    out: dict[str, list[tuple[str, str]]] = {"title": [], "heading": []}
    for note in notes:
        title = literal(note.title)
        if title and parse_query(title) is not None:
            out["title"].append((title, note.path))
        for heading in note.headings:
            text = literal(heading.text)
            if len(text.split()) >= 2 and text.lower() != title.lower() and parse_query(text) is not None:
                out["heading"].append((text, note.path))
                break
    return out


@dataclasses.dataclass
class Scores:
    queries: int = 0
    shared: int = 0
    reciprocal: float = 0.0
    found: int = 0
    latencies: list[float] = dataclasses.field(default_factory=list)

    def row(self) -> dict[str, float | int]:
        lat = sorted(self.latencies)
        return {
            "queries": self.queries,
            "shared_text": self.shared,
            "mrr@10": round(self.reciprocal / max(self.queries, 1), 3),
            "recall@10": round(self.found / max(self.queries, 1), 3),
            "p50_ms": round(1000 * statistics.median(lat), 1) if lat else 0.0,
            "p95_ms": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1) if lat else 0.0,
        }


def evaluate(search: Callable[[str], list[str]], items: list[tuple[str, str]]) -> Scores:
    scores = Scores()
    seen = Counter(query.lower() for query, _ in items)
    for query, target in items:
        started = time.perf_counter()
        ranked = search(query)
        scores.latencies.append(time.perf_counter() - started)
        scores.queries += 1
        scores.shared += seen[query.lower()] > 1
        if target in ranked[:K]:
            scores.reciprocal += 1.0 / (ranked.index(target) + 1)
            scores.found += 1
    return scores


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_engine(
    engine: str, notes: list[Note], items: dict[str, list[tuple[str, str]]], boosts: Boosts
) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{engine}-") as tmp:
        backend = open_backend(engine, Path(tmp) / engine)
        backend.boosts = boosts  # type: ignore[attr-defined]  # both engines take boosts: tuning only
        started = time.perf_counter()
        backend.rebuild(notes, stamp=1)
        build = time.perf_counter() - started
        size = folder_size(Path(tmp) / engine)

        def search(query: str) -> list[str]:
            return [hit.path for hit in backend.search(query, limit=K).hits]

        result: dict = {"engine": engine, "build_s": round(build, 2), "index_mb": round(size / 1e6, 1)}
        for kind, kind_items in items.items():
            result[kind] = evaluate(search, kind_items).row()
        backend.close()
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault", nargs="?", type=Path, default=DENDRON)
    parser.add_argument("--engines", default="whoosh,tantivy")
    parser.add_argument(
        "--link-style", default=None, help="obsidian or dendron (default: dendron for Dendron)"
    )
    parser.add_argument("--boost", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--queries", type=int, default=0, help="at most this many queries per kind (0: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per engine")
    args = parser.parse_args(argv)
    if not args.vault.is_dir():
        print(f"no vault folder at {args.vault}", file=sys.stderr)
        return 2
    boosts = dataclasses.replace(
        DEFAULT_BOOSTS, **{k: float(v) for k, v in (item.split("=", 1) for item in args.boost)}
    )
    style = args.link_style or ("dendron" if args.vault.resolve() == DENDRON.resolve() else "obsidian")
    started = time.perf_counter()
    notes = load_notes(args.vault, style)
    items = known_items(notes)
    if args.queries:  # an even spread over the vault, the same one on every run
        items = {
            kind: found[:: max(1, len(found) // args.queries)][: args.queries]
            for kind, found in items.items()
        }
    print(
        f"{len(notes)} notes parsed in {time.perf_counter() - started:.1f} s; "
        f"{len(items['title'])} title queries, {len(items['heading'])} heading queries; boosts {boosts}",
        file=sys.stderr,
    )
    for engine in args.engines.split(","):
        result = run_engine(engine, notes, items, boosts)
        if args.json:
            print(json.dumps(result))
            continue
        print(f"{engine}: build {result['build_s']} s, index {result['index_mb']} MB")
        for kind in items:
            row = result[kind]
            print(
                f"  {kind:8} MRR@10 {row['mrr@10']:.3f}  recall@10 {row['recall@10']:.3f}  "
                f"({row['queries']} queries, {row['shared_text']} with text shared by another note)  "
                f"latency p50 {row['p50_ms']} ms p95 {row['p95_ms']} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
