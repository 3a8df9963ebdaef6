"""Team queries over PostgreSQL: search and find as a member role, 50k notes in 5 spaces.

    python benchmarks/bench_team_query.py [--notes-per-space 10000] [--repeat 200]

Starts a throwaway PostgreSQL 15 server (tests/pgcluster.py), loads the synthetic vault's notes
(benchmarks/genvault.py) into each of 5 spaces with COPY, and times, as a member of one space:
team search (the SECURITY DEFINER function), team find, and the same text match written as a
plain query under row-level security (the scan the function avoids). Prints the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine, percentiles, synthetic_vault, time_calls  # noqa: E402

SPACES = [f"space{i}" for i in range(5)]
QUERIES = ["garden", "teacher method", "bread", "condition owner", "concert", "queue", "jacket season",
           "drawer animal", "friend", "weight youth"]  # fmt: skip
FILTERS = [("status = active",), ("priority >= 2",), ("#area/work",), ("due < 2027-01-01", "status = active")]


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes-per-space", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    import psycopg

    from mdstore.pg import connect
    from mdstore.team.query import find
    from mdstore.team.search import search

    pgcluster = _load("pgcluster", HERE.parent / "tests" / "pgcluster.py")
    teamrows = _load("teamrows", HERE.parent / "tests" / "pg" / "teamrows.py")
    vault = synthetic_vault(args.notes_per_space)
    files = sorted(p for p in vault.rglob("*.md") if ".mdstore" not in p.parts)
    contents = [(p.relative_to(vault).as_posix(), p.read_bytes()) for p in files]

    cluster = pgcluster.PgCluster()
    try:
        dbname = cluster.create_database()
        with connect(cluster.url(dbname)) as conn:
            teamrows.setup(conn, {"bench_member": [SPACES[0]], "bench_other": SPACES[1:]})
            t0 = time.perf_counter()
            parsed_rows = [
                teamrows.note_row(SPACES[0], path, data, i + 1) for i, (path, data) in enumerate(contents)
            ]
            # The same notes in every space: parse once, change only the space column.
            rows = [(space, *row[1:]) for space in SPACES for row in parsed_rows]
            parsed = time.perf_counter() - t0
            t0 = time.perf_counter()
            teamrows.load(conn, rows)
            copied = time.perf_counter() - t0
            # VACUUM also moves the GIN pending list (filled by COPY) into the index proper.
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE team_notes")
        total = len(rows)
        print(f"machine: {machine()}")
        print(f"{total} notes in {len(SPACES)} spaces: parse {parsed:.1f} s, COPY {copied:.1f} s")

        rng = random.Random(7)
        with psycopg.connect(cluster.url(dbname, "bench_member")) as member:
            member.autocommit = True

            def one_search() -> None:
                search(member, SPACES[0], rng.choice(QUERIES))

            def one_find() -> None:
                find(member, SPACES[0], *rng.choice(FILTERS), limit=50)

            def rls_scan() -> None:
                member.execute(
                    "SELECT count(*) FROM team_notes WHERE space = %s AND NOT deleted "
                    "AND search @@ websearch_to_tsquery('english', %s)",
                    [SPACES[0], rng.choice(QUERIES)],
                ).fetchone()

            def definer() -> None:
                member.execute(
                    "SELECT total FROM mdstore_search(%s, %s, 0, 0) WHERE path IS NULL",
                    [SPACES[0], rng.choice(QUERIES)],
                ).fetchone()

            for label, fn in (
                ("team search (10 hits, snippets)", one_search),
                ("team find (limit 50)", one_find),
                ("text match under RLS, member's own query (count)", rls_scan),
                ("text match via SECURITY DEFINER function (count)", definer),
            ):
                p50, p99 = percentiles(time_calls(fn, args.repeat))
                print(f"{label:52s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
            for filters in FILTERS:
                p50, p99 = percentiles(
                    time_calls(lambda f=filters: find(member, SPACES[0], *f, limit=50), 50)
                )
                print(f"  find {' & '.join(filters):46s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
        compare_partitioning(cluster.url(dbname), args.repeat, rng)
    finally:
        cluster.close()


_RANKED = (
    "SELECT n.path, ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}', n.search, q) AS score, count(*) OVER () "
    "FROM {table} n, websearch_to_tsquery('english', %s) q "
    "WHERE n.space = %s AND NOT n.deleted AND n.search @@ q ORDER BY score DESC, n.path LIMIT 10"
)


def compare_partitioning(url: str, repeat: int, rng: random.Random) -> None:
    """The search function's query on the table as it is and on a copy LIST-partitioned by space
    (as the administrator: the question is the table layout, not the access rules)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'team_notes'::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
            )
        ]
        conn.execute(
            "CREATE TABLE parted (LIKE team_notes INCLUDING DEFAULTS INCLUDING GENERATED) "
            "PARTITION BY LIST (space)"
        )
        for i, space in enumerate(SPACES):
            conn.execute(f"CREATE TABLE parted_{i} PARTITION OF parted FOR VALUES IN ('{space}')")
        conn.execute("CREATE INDEX ON parted USING gin (search)")
        conn.execute(f"INSERT INTO parted ({', '.join(columns)}) SELECT {', '.join(columns)} FROM team_notes")
        conn.execute("VACUUM ANALYZE parted")
        for table in ("team_notes", "parted"):
            sql = _RANKED.format(table=table)
            samples = time_calls(
                lambda s=sql: conn.execute(s, [rng.choice(QUERIES), SPACES[0]]).fetchall(), repeat
            )
            p50, p99 = percentiles(samples)
            label = "one table" if table == "team_notes" else "LIST-partitioned by space"
            print(f"ranked top 10, {label:39s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


if __name__ == "__main__":
    main()
