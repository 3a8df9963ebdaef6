"""Property: after any sequence of create / edit / rename / delete / folder moves, synced
incrementally along the way, the index equals a full rebuild of the same files — the structured
index, the search results and the related notes, with a rebuild streamed in chunks of three notes
(the vault is larger than one chunk)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdstore
from tests.conftest import dump_index

NAMES = ["alpha", "beta", "gamma", "delta", "Alpha", "notes/alpha", "notes/epsilon", "deep/x/zeta"]
FOLDERS = ["", "notes", "deep/x", "other"]


def body(seed: int) -> str:
    target = NAMES[seed % len(NAMES)].rsplit("/", 1)[-1]
    alias = ["", "aliases: [al%d]\n" % (seed % 3)][seed % 2]
    return (
        f"---\nstatus: s{seed % 3}\npriority: {seed % 5}\n{alias}tags: [t{seed % 4}]\n---\n"
        f"# Title {seed}\n\nSee [[{target}]] and [[al{seed % 3}]] and [m](../{target}.md). #in{seed % 2}\n"
        f"- [ ] task {seed}\n"
    )


op = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(FOLDERS), st.sampled_from(NAMES), st.integers(0, 50)),
    st.tuples(st.just("rename"), st.integers(0, 20), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("movefolder"), st.sampled_from(FOLDERS[1:]), st.sampled_from(["moved", "notes2", "deep/y"])),
    st.tuples(st.just("sync")),
)


def existing(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.md") if ".mdstore" not in p.parts)


QUERIES = ["task", "title", "see", "t1", "s2", "tag:t0", "tit*", "task 7", "alpha OR beta"]


def search_side(vault: mdstore.Vault) -> dict[str, object]:
    """What the search engine and the related-notes model answer, for comparing two indexes."""
    paths = [row["path"] for row in vault.sql("SELECT path FROM notes ORDER BY path")]
    return {
        "search": {q: sorted(vault.search(q, limit=100).paths()) for q in QUERIES},
        "related": {p: [(r["path"], r["score"]) for r in vault.related(p, k=5)] for p in paths},
    }


def bump(path: Path, tick: int) -> None:
    st_ = path.stat()
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + tick * 1_000_000_000))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=12))
def test_incremental_equals_rebuild(ops):
    root = Path(tempfile.mkdtemp(prefix="mdstore-prop-"))
    # refit_min 0: every sync refits the related-notes model, so that it must equal a fresh fit
    vault = mdstore.open(
        root,
        index={"build_chunk": 3, "parse_workers": 1},
        search={"engine": "whoosh", "related": True, "refit_min": 0, "refit_ratio": 0.0},
    )
    try:
        for tick, step in enumerate(ops, start=1):
            kind = step[0]
            if kind == "write":
                _, folder, name, seed = step
                path = root / folder / f"{name}.md"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body(seed))
                bump(path, tick)
            elif kind == "rename":
                files = existing(root)
                if files:
                    src = files[step[1] % len(files)]
                    dst = root / step[2] / f"{step[3]}.md"
                    if not dst.exists():
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        os.rename(src, dst)
            elif kind == "delete":
                files = existing(root)
                if files:
                    os.remove(files[step[1] % len(files)])
            elif kind == "movefolder":
                src, dst = root / step[1], root / step[2]
                if src.is_dir() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(src, dst)
            vault.sync() if kind == "sync" or tick == len(ops) else None
        incremental = dump_index(vault)
        searched = search_side(vault)
        vault.sync(rebuild=True)
        assert dump_index(vault) == incremental
        assert search_side(vault) == searched
    finally:
        vault.close()
        shutil.rmtree(root, ignore_errors=True)
