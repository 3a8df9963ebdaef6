"""The memory layer: append throughput, flush cost as a session grows, insight store/search
latency, Dream, merge quality and conversational recall against plain BM25.

    python benchmarks/bench_memory.py [--insights 10000] [--quick] [--only recall]

Prints one line per figure. The 10,000 insights are written as note files in the exact format
``store_insight`` writes and then indexed with one ``sync()``, because storing them one by one would
measure the index build, not the memory layer; the recall set's turns go through the public API
(``log().append``); every timed figure goes through the public API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, percentiles  # noqa: E402
from convgen import generate  # noqa: E402

import mdstore  # noqa: E402
from mdstore.memory import InsightFilter  # noqa: E402
from mdstore.memory.dream import near_duplicates  # noqa: E402
from mdstore.memory.insights import content_key, from_fields  # noqa: E402

WORDS = (
    "deploy release budget garden recipe invoice meeting travel server backup python review design "
    "customer onboarding hiring roadmap security incident latency database migration music running "
    "kitchen holiday contract pricing research paper dataset model training schedule weekly"
).split()


def write_insight(
    root: Path, insight_id: str, content: str, user: str, created: str, extra: dict | None = None
) -> None:
    front = {
        "id": insight_id,
        "type": "insight",
        "user": user,
        "source": "user",
        "category": "fact",
        "relevance": 1.0,
        "created": created,
        "decayed_at": None,
        "provenance": [],
        "content_key": content_key(user, content),
        **(extra or {}),
    }
    path = root / "Memory" / "insights" / f"{insight_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + content + "\n", encoding="utf-8"
    )


def bench_appends(base: Path, count: int, fsync: bool) -> None:
    root = base / f"appends-{fsync}"
    root.mkdir()
    vault = mdstore.open(root, memory={"fsync": fsync})
    logs = [vault.memory.log(f"bench-{n}") for n in range(10)]
    t0 = time.perf_counter()
    for n in range(count):
        logs[n % 10].append(
            {
                "role": "user" if n % 2 else "assistant",
                "content": f"entry {n} about the {WORDS[n % len(WORDS)]} plan",
            }
        )
    acked = time.perf_counter() - t0
    vault.memory.flush()
    vault.close()
    total = time.perf_counter() - t0
    label = "fsync each append" if fsync else "journal write per append"
    print(
        f"appends ({label}): {count} entries, {count / acked:,.0f}/s acknowledged, "
        f"{count / total:,.0f}/s including writing every entry to its note"
    )


def bench_long_session(base: Path, total: int, batch: int = 100) -> None:
    """One session growing to ``total`` entries, flushed every ``batch`` appends: the flush cost at
    several lengths. Session notes hold ``part_entries`` (500) entries, so a flush reads and
    rewrites at most one part whatever the session's length."""
    root = base / "long-session"
    root.mkdir()
    vault = mdstore.open(root, memory={"flush_seconds": 3600, "flush_entries": 10**6})
    log = vault.memory.log("long")
    marks = sorted({total // 10, total // 2, total})
    times: dict[int, list[float]] = {m: [] for m in marks}
    done = 0
    while done < total:
        for n in range(batch):
            log.append(f"entry {done + n} about the {WORDS[(done + n) % len(WORDS)]} plan and more words")
        done += batch
        t0 = time.perf_counter()
        log.flush()
        took = time.perf_counter() - t0
        for m in marks:
            if m - 5 * batch < done <= m:
                times[m].append(took)
    figures = ", ".join(f"{statistics.median(times[m]) * 1000:.0f} ms at {m:,}" for m in marks)
    print(
        f"session flush of {batch} entries, median of the 5 flushes before each length: {figures} "
        f"({len(log.parts())} notes)"
    )
    vault.close()


def bench_insights(base: Path, count: int) -> None:
    """Insights of 12 words drawn from the synthetic vaults' Zipf vocabulary (benchmarks/genvault.py);
    queries are two words drawn the same way."""
    from genvault import vocabulary

    root = base / "insights"
    root.mkdir()
    rng = random.Random(3)
    vocab = vocabulary()[:5000]
    weights = [1 / (rank + 10) for rank in range(len(vocab))]

    def some(k: int) -> list[str]:
        return rng.choices(vocab, weights, k=k)

    now = dt.datetime.now(dt.UTC)
    for n in range(count):
        content = " ".join(some(12)) + f" item {n}"
        created = (
            (now - dt.timedelta(days=rng.random() * 90))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        write_insight(root, f"b{n:05d}", content, f"user{n % 20}", created)
    vault = mdstore.open(root)
    t0 = time.perf_counter()
    vault.sync()
    print(f"setup: {count} insight notes indexed in {time.perf_counter() - t0:.1f} s")
    memory = vault.memory
    t0 = time.perf_counter()
    memory.search_insights("warm up")
    print(f"search_insights first call (catalog + LSA fit over {count}): {time.perf_counter() - t0:.2f} s")
    samples = []
    for n in range(60):
        query = " ".join(some(2))
        flt = InsightFilter(user=f"user{n % 20}") if n % 3 == 0 else None
        t0 = time.perf_counter()
        memory.search_insights(query, limit=10, filter=flt)
        samples.append(time.perf_counter() - t0)
    p50, p99 = percentiles(samples[5:])
    print(f"search_insights over {count} insights: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    samples = []
    for n in range(60):
        t0 = time.perf_counter()
        memory.store_insight(
            f"fresh insight {n} on the {rng.choice(WORDS)}", user="ann", source="agent", category="learning"
        )
        samples.append(time.perf_counter() - t0)
    p50, p99 = percentiles(samples[5:])
    print(f"store_insight into a vault of {count} insights: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    # The notes are written behind: what the 60 acknowledged stores cost once their notes exist.
    t0 = time.perf_counter()
    written = memory.flush()
    took = sum(samples) + time.perf_counter() - t0
    print(
        f"store_insight including the notes (60 stores + the flush of the {written} still waiting): "
        f"{took / 60 * 1000:.1f} ms per insight"
    )
    vault.close()
    # A new process starts from the snapshot the closed one left (terms, vectors, LSA model).
    child = (
        "import sys, time\n"
        "t0 = time.perf_counter()\n"
        "import mdstore\n"
        "v = mdstore.open(sys.argv[1])\n"
        "t1 = time.perf_counter()\n"
        "v.memory.search_insights('warm up')\n"
        "t2 = time.perf_counter()\n"
        "print(f'{t1 - t0:.2f} {t2 - t1:.2f} {\"sklearn\" in sys.modules}')\n"
        "v.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", child, str(root)], capture_output=True, text=True, check=True)
    opened, first, sklearn = out.stdout.split()
    print(
        f"search_insights first call of a new process (from the snapshot): {first} s "
        f"(import + open {opened} s; scikit-learn imported: {sklearn})"
    )


def bench_dream(base: Path, sessions: int, entries: int) -> None:
    root = base / "dream"
    root.mkdir()
    vault = mdstore.open(root)
    rng = random.Random(5)
    for s in range(sessions):
        log = vault.memory.log(f"day-session-{s}")
        for n in range(entries):
            text = " ".join(rng.choice(WORDS) for _ in range(10))
            if n % 50 == 0:
                text = f"We decided to move the {rng.choice(WORDS)} review to {rng.choice(WORDS)}"
            log.append({"role": "user" if n % 2 else "assistant", "content": text})
    vault.memory.flush()
    for n in range(200):
        vault.memory.store_insight(
            f"insight {n} {rng.choice(WORDS)} {rng.choice(WORDS)}",
            user="ann",
            source="agent",
            category="fact",
        )
    t0 = time.perf_counter()
    report = vault.memory.dream()
    took = time.perf_counter() - t0
    print(
        f"dream over {sessions} sessions x {entries} entries (+200 insights): {took:.2f} s "
        f"({report.sessions} sessions, {report.insights_merged} merged, "
        f"{report.bytes_archived:,} bytes archived)"
    )
    vault.close()


def bench_merge(seed: int = 11) -> None:
    """Planted near-duplicates: rewordings of a stored insight (case, punctuation, one word added,
    removed or swapped); hard negatives: the same sentence with another detail."""
    rng = random.Random(seed)
    names = "Rex Max Bella Luna Oslo Lisbon Kyoto Denver Acme Globex Clara Nora".split()
    base = []
    for n in range(300):
        words = rng.sample(WORDS, 6)
        base.append(
            f"The {words[0]} {words[1]} for {rng.choice(names)} moves to {words[2]} "
            f"after the {words[3]} {words[4]} {words[5]} {n}"
        )
    items: list[tuple[str, int]] = [(text, n) for n, text in enumerate(base)]
    for n in rng.sample(range(300), 100):
        tokens = base[n].split()
        kind = rng.randrange(4)
        if kind == 0:
            tokens = [t.upper() if rng.random() < 0.3 else t for t in tokens]
        elif kind == 1:
            tokens.insert(rng.randrange(len(tokens)), rng.choice(["really", "now", "again", "probably"]))
        elif kind == 2:
            del tokens[rng.randrange(1, len(tokens))]
        else:
            tokens[-2] = tokens[-2] + ","
        items.append((" ".join(tokens) + rng.choice(["", ".", "!"]), n))
    for n in rng.sample(range(300), 100):  # hard negatives: another detail, another fact
        other = rng.choice([x for x in names if x not in base[n]])
        text = base[n]
        for name in names:
            text = text.replace(f" {name} ", f" {other} ")
        items.append((text, 1000 + n))
    now = dt.datetime.now(dt.UTC)
    insights = [
        from_fields(
            f"Memory/insights/m{k}.md", {"id": f"m{k}", "user": "ann", "created": now.isoformat()}, text
        )
        for k, (text, _) in enumerate(items)
    ]
    truth = {k: group for k, (_, group) in enumerate(items)}
    t0 = time.perf_counter()
    groups = near_duplicates(insights, mdstore.open(tempfile.mkdtemp()).config.memory.merge_threshold)
    took = time.perf_counter() - t0
    index = {i.id: int(i.id[1:]) for i in insights}
    found = set()
    for g in groups:
        ids = sorted(index[i.id] for i in g)
        found |= {(a, b) for x, a in enumerate(ids) for b in ids[x + 1 :]}
    planted = {(a, b) for a in truth for b in truth if a < b and truth[a] == truth[b]}
    tp = len(found & planted)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(planted)
    print(
        f"merge on planted near-duplicates: precision {precision:.3f}, recall {recall:.3f} "
        f"({len(planted)} planted pairs, {len(found)} merged pairs, 100 hard negatives, {took * 1000:.0f} ms)"
    )


def bench_recall(base: Path, conversations: int, seed: int) -> None:
    """Each conversation is one vault's memory: its turns appended to dated session logs (speaker
    as the role), its questions asked with ``search_sessions``. Plain BM25 is the vault's own
    search engine over the same turns, one note per turn, in the same vault and run."""
    from mdstore.search.analysis import words

    convs = generate(conversations=conversations, seed=seed)
    kinds: dict[str, int] = {}
    ks = (5, 10)
    methods = ("bm25", "text", "memory")
    got: dict[str, dict[int, float]] = {m: dict.fromkeys(ks, 0.0) for m in methods}
    by_kind: dict[tuple[str, str], float] = {}
    took = []
    for c, conv in enumerate(convs):
        root = base / f"recall-{c}"
        (root / "Baseline").mkdir(parents=True)
        for turn in conv.turns:
            (root / "Baseline" / f"{turn.id}.md").write_text(turn.text + "\n", encoding="utf-8")
        vault = mdstore.open(root)
        vault.sync()
        text_only = mdstore.open(root, memory={"embeddings": "none"})
        turn_of: dict[str, str] = {}
        for turn in conv.turns:
            entry = vault.memory.log(f"chat-{turn.time:%Y-%m-%d}").append(
                {"role": turn.speaker, "content": turn.text, "time": turn.time}
            )
            turn_of[entry.id] = turn.id
        vault.memory.flush()
        for q in conv.questions:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
            plain = vault.search(
                " OR ".join(dict.fromkeys(words(q.text))), folder="Baseline", limit=10, snippets=False
            )
            ranked = {"bm25": [h.path.rsplit("/", 1)[1][:-3] for h in plain.hits]}
            ranked["text"] = [turn_of[h.id] for h in text_only.memory.search_sessions(q.text, limit=10)]
            t0 = time.perf_counter()
            hits = vault.memory.search_sessions(q.text, limit=10)
            took.append(time.perf_counter() - t0)
            ranked["memory"] = [turn_of[h.id] for h in hits]
            for name in methods:
                for k in ks:
                    share = sum(e in ranked[name][:k] for e in q.evidence) / len(q.evidence)
                    got[name][k] += share
                    if k == 10:
                        by_kind[(name, q.kind)] = by_kind.get((name, q.kind), 0.0) + share
        text_only.close()
        vault.close()
    questions = sum(kinds.values())
    turns = sum(len(c.turns) for c in convs)
    p50, _ = percentiles(took)
    print(
        f"conversational recall (seed {seed}: {conversations} conversations, {turns} turns in "
        f"{sum(len({t.session for t in c.turns}) for c in convs)} sessions, {questions} questions: "
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f"); search_sessions p50 {p50:.1f} ms"
    )
    for name, label in (
        ("bm25", "plain BM25 (the vault's search engine, one note per turn)"),
        ("text", "search_sessions, embeddings off (BM25: words, role, month, neighbouring turns at 0.1)"),
        ("memory", "search_sessions (the above + LSA vectors, RRF)"),
    ):
        detail = ", ".join(f"{k} {by_kind.get((name, k), 0.0) / n:.2f}" for k, n in sorted(kinds.items()))
        print(
            f"  {label}: recall@5 {got[name][5] / questions:.3f}, recall@10 {got[name][10] / questions:.3f}"
            f"  (recall@10 by kind: {detail})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--insights", type=int, default=10_000)
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--long", type=int, default=10_000, help="Entries of the long session.")
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument(
        "--seed", type=int, default=23, help="Seed of the recall set (the options were chosen on seed 11)."
    )
    parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run.")
    parser.add_argument("--only", help="Comma-separated parts: appends,long,insights,dream,merge,recall.")
    args = parser.parse_args(argv)
    if args.quick:
        args.insights, args.appends, args.conversations, args.long = 1000, 2000, 3, 2000
    parts = set((args.only or "appends,long,insights,dream,merge,recall").split(","))
    print(machine())
    base = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    try:
        if "appends" in parts:
            bench_appends(base, args.appends, fsync=False)
            bench_appends(base, args.appends // 4, fsync=True)
        if "long" in parts:
            bench_long_session(base, args.long)
        if "insights" in parts:
            bench_insights(base, args.insights)
        if "dream" in parts:
            bench_dream(base, 20, 200)
        if "merge" in parts:
            bench_merge()
        if "recall" in parts:
            bench_recall(base, args.conversations, args.seed)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
