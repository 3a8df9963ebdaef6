"""Property: incremental equals rebuild on every path into the index, not only full syncs — targeted
``sync(paths=...)`` (what the watcher does), the API's writes, and the parallel parser — and for the
search engine and the related-notes model as well as the DuckDB tables."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdstore
from tests.conftest import dump_index

NAMES = ["alpha", "beta", "Alpha", "notes/alpha", "notes/gamma", "deep/x/zeta"]
QUERIES = ["title", "task", "see", "t0", "t1", "s2"]


def body(seed: int) -> str:
    target = NAMES[seed % len(NAMES)].rsplit("/", 1)[-1]
    return (
        f"# Title {seed}\n\nSee [[{target}]] and [[al{seed % 3}]]. #t{seed % 2} status s{seed % 3}\n"
        f"- [ ] task {seed}\n"
    )


def frontmatter(seed: int) -> dict[str, Any]:
    return {
        "status": f"s{seed % 3}",
        "tags": [f"t{seed % 4}"],
        **({"aliases": [f"al{seed % 3}"]} if seed % 2 else {}),
    }


file_op = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.integers(0, 30)),
    st.tuples(st.just("rename"), st.integers(0, 20), st.sampled_from(NAMES)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
)
api_op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(NAMES), st.integers(0, 30)),
    st.tuples(st.just("update"), st.integers(0, 20), st.integers(0, 30)),
    st.tuples(st.just("move"), st.integers(0, 20), st.sampled_from(NAMES)),
    st.tuples(st.just("remove"), st.integers(0, 20)),
)


def notes(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md") if ".mdstore" not in p.parts)


def snapshot(vault: mdstore.Vault) -> tuple[Any, ...]:
    """The DuckDB tables, what the search engine finds for a few words, and the notes the
    related-notes model knows."""
    found = {q: sorted(vault.search(q, limit=500).paths()) for q in QUERIES}
    related = vault.search_status()["related"]["notes"]
    return dump_index(vault), found, related


def apply_file_op(root: Path, step: tuple[Any, ...], tick: int) -> list[str]:
    """Change the files as an editor would; the paths a watcher would report."""
    files = notes(root)
    kind = step[0]
    if kind == "write":
        rel = f"{step[1]}.md"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body(step[2]))
        st_ = path.stat()
        os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + tick * 1_000_000_000))
        return [rel]
    if not files:
        return []
    src = files[step[1] % len(files)]
    if kind == "delete":
        os.remove(root / src)
        return [src]
    dst = f"{step[2]}.md"
    if (root / dst).exists():
        return []
    (root / dst).parent.mkdir(parents=True, exist_ok=True)
    os.rename(root / src, root / dst)
    return [src, dst]


def apply_api_op(vault: mdstore.Vault, root: Path, step: tuple[Any, ...]) -> None:
    files = notes(root)
    taken = {f.lower() for f in files}  # the write API refuses a name that differs only in case
    kind = step[0]
    if kind == "create":
        if f"{step[1]}.md".lower() not in taken:
            vault.create(f"{step[1]}.md", frontmatter(step[2]), body(step[2]))
        return
    if not files:
        return
    path = files[step[1] % len(files)]
    if kind == "update":
        vault.update(path, set=frontmatter(step[2]), body=body(step[2]))
    elif kind == "move":
        if f"{step[2]}.md".lower() not in taken:
            vault.move(path, f"{step[2]}.md")
    else:
        vault.delete(path, permanent=True)


def _run(ops: list[tuple[Any, ...]], **config: Any) -> None:
    root = Path(tempfile.mkdtemp(prefix="mdstore-prop-"))
    vault = mdstore.open(root, **config)
    try:
        vault.sync()
        for tick, step in enumerate(ops, start=1):
            if step[0] in ("write", "rename", "delete"):
                changed = apply_file_op(root, step, tick)
                if changed:
                    vault.sync(paths=changed)
            else:
                apply_api_op(vault, root, step)
        incremental = snapshot(vault)
        vault.sync(rebuild=True)
        assert snapshot(vault) == incremental
    finally:
        vault.close()
        shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(file_op, api_op), min_size=1, max_size=10))
def test_targeted_syncs_and_api_writes_equal_a_rebuild(ops: list[tuple[Any, ...]]) -> None:
    _run(ops)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(file_op, min_size=3, max_size=8))
def test_the_parallel_parser_equals_a_rebuild(ops: list[tuple[Any, ...]]) -> None:
    # Every sync of a path list and every rebuild goes through the worker processes.
    _run([*ops, ("write", "beta", 1)], index={"parallel_threshold": 1, "parse_workers": 2})
