"""Team queries benchmark: search and find over 50,000 notes in 5 spaces, as a member role, on a
throwaway PostgreSQL 15 (started here, like the tests do).

    python benchmarks/bench_team_query.py [--notes 50000] [--spaces 5]

The notes of the seeded synthetic vault are loaded with COPY, one space in five each. Measured as
a member of one space: team search p50/p99 (two-word queries, through the search function), the
same query written directly against the table under row-level security (which cannot use the
full-text index), and team find p50 for typical filters. Writes benchmarks/out/team_query.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

from bench_team import cluster
from common import OUT, machine, percentiles, synthetic_vault

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mdstore.notes.parse import parse_note  # noqa: E402
from mdstore.pg import apply_migrations, connect  # noqa: E402
from mdstore.team.query import find  # noqa: E402
from mdstore.team.schema import COMPONENT, MIGRATIONS  # noqa: E402
from mdstore.team.search import search  # noqa: E402


def load(url: str, vault: Path, spaces: list[str]) -> tuple[int, float, list[str]]:
    """COPY every note of ``vault`` into one of ``spaces``; (notes, seconds, some body words)."""
    paths = sorted(p for p in vault.rglob("*.md") if ".mdstore" not in p.parts)
    words: list[str] = []
    started = time.perf_counter()
    with connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE load (space text, path text, content bytea, content_hash text, body text, "
                "frontmatter jsonb, title text, headings text, tags text[], revision bigint)"
            )
            with cur.copy(
                "COPY load (space, path, content, content_hash, body, frontmatter, title, headings, tags, "
                "revision) FROM STDIN"
            ) as copy:
                for i, path in enumerate(paths):
                    data = path.read_bytes()
                    note = parse_note(path.relative_to(vault).as_posix(), data)
                    if i % 997 == 0:
                        words += [w for w in note.body.split() if w.isalpha() and len(w) > 4][:3]
                    copy.write_row(
                        (
                            spaces[i % len(spaces)],
                            note.path,
                            data,
                            hashlib.sha256(data).hexdigest(),
                            note.body,
                            json.dumps(note.frontmatter, default=str),
                            note.title,
                            "\n".join(h.text for h in note.headings),
                            list(note.tags),
                            i + 1,
                        )
                    )
            cur.execute(
                "INSERT INTO team_notes (space, path, content, content_hash, body, frontmatter, title, "
                "headings, tags, revision) SELECT * FROM load"
            )
        conn.commit()
        # VACUUM, not only ANALYZE: it also moves the GIN pending list (filled by the bulk load)
        # into the index proper, which otherwise every search scans.
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return len(paths), time.perf_counter() - started, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=50_000)
    parser.add_argument("--spaces", type=int, default=5)
    parser.add_argument(
        "--partitioned",
        action="store_true",
        help="also time one space's ranked search on a LIST-partitioned copy",
    )
    args = parser.parse_args()
    spaces = [f"space{i}" for i in range(args.spaces)]
    pg = cluster()
    try:
        url = pg.url(pg.create_database())
        with connect(url) as conn:
            apply_migrations(conn, COMPONENT, MIGRATIONS)
            for space in spaces:
                conn.execute("INSERT INTO team_spaces (name) VALUES (%s)", (space,))
            conn.execute("CREATE ROLE bench_member LOGIN")
            conn.execute("GRANT mdstore_member TO bench_member")
            conn.execute("INSERT INTO team_members (space, role) VALUES (%s, 'bench_member')", (spaces[0],))
            conn.commit()
        count, seconds, words = load(url, synthetic_vault(args.notes), spaces)
        member = url.replace("postgres@", "bench_member@")
        rng = random.Random(7)
        queries = [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(200)]
        with connect(member) as conn:
            it = iter(queries * 3)
            search_s = [_timed(lambda: search(conn, spaces[0], next(it), limit=10)) for _ in range(300)]
            direct = (  # the same ranking and total, written as a member's own query
                "SELECT path, ts_rank_cd(search, q) AS r, count(*) OVER () FROM team_notes, "
                "websearch_to_tsquery('english', %s) q WHERE space = %s AND NOT deleted "
                "AND search @@ q ORDER BY r DESC, path LIMIT 10"
            )
            it = iter(queries * 3)
            direct_s = [
                _timed(lambda: conn.execute(direct, (next(it), spaces[0])).fetchall()) for _ in range(100)
            ]
            conn.commit()
            finds = {
                "status = active": lambda: find(conn, spaces[0], "status = active", limit=50),
                "priority >= 3, sort -modified": lambda: find(
                    conn, spaces[0], "priority >= 3", sort="-modified", limit=50
                ),
                "#tag": lambda: find(conn, spaces[0], tag="project", limit=50),
            }
            find_ms = {name: percentiles([_timed(fn) for _ in range(100)]) for name, fn in finds.items()}
        result = {
            "machine": machine(),
            "notes": count,
            "spaces": args.spaces,
            "load_s": seconds,
            "search_ms": percentiles(search_s),
            "direct_rls_ms": percentiles(direct_s),
            "find_ms": find_ms,
        }
        print(machine())
        print(f"{count} notes in {args.spaces} spaces loaded with COPY in {seconds:.1f} s")
        p50, p99 = result["search_ms"]
        print(f"team search p50 / p99 (member, search function): {p50:.1f} / {p99:.1f} ms")
        p50, p99 = result["direct_rls_ms"]
        print(f"same query direct under row-level security p50 / p99: {p50:.1f} / {p99:.1f} ms")
        for name, (p50, p99) in find_ms.items():
            print(f"team find {name:32} p50 / p99: {p50:.1f} / {p99:.1f} ms")
        if args.partitioned:
            result["partitioned_ms"] = compare_partitioning(url, spaces, queries)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "team_query.json").write_text(json.dumps(result, indent=1))
    finally:
        pg.close()


_RANKED = (
    "SELECT n.path, ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}', n.search, q) AS score, count(*) OVER () "
    "FROM {table} n, websearch_to_tsquery('english', %s) q "
    "WHERE n.space = %s AND NOT n.deleted AND n.search @@ q ORDER BY score DESC, n.path LIMIT 10"
)


def compare_partitioning(url: str, spaces: list[str], queries: list[str]) -> dict[str, tuple[float, float]]:
    """One space's ranked top 10 on the table as it is and on a copy LIST-partitioned by space (as
    the administrator: the question is the table layout, not the access rules)."""
    out: dict[str, tuple[float, float]] = {}
    with connect(url, autocommit=True) as conn:
        columns = ", ".join(
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'team_notes'::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
            )
        )
        conn.execute(
            "CREATE TABLE parted (LIKE team_notes INCLUDING DEFAULTS INCLUDING GENERATED) "
            "PARTITION BY LIST (space)"
        )
        for i, space in enumerate(spaces):
            conn.execute(f"CREATE TABLE parted_{i} PARTITION OF parted FOR VALUES IN ('{space}')")
        conn.execute("CREATE INDEX ON parted USING gin (search)")
        conn.execute(f"INSERT INTO parted ({columns}) SELECT {columns} FROM team_notes")
        conn.execute("VACUUM ANALYZE parted")
        for table in ("team_notes", "parted"):
            it = iter(queries * 3)
            sql = _RANKED.format(table=table)
            samples = [
                _timed(lambda s=sql, q=it: conn.execute(s, (next(q), spaces[0])).fetchall())
                for _ in range(300)
            ]
            out[table] = percentiles(samples)
            print(
                f"ranked top 10 of one space, {table:10} p50 / p99: "
                f"{out[table][0]:.1f} / {out[table][1]:.1f} ms"
            )
    return out


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
