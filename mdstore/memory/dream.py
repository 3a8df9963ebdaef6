"""Dream, the consolidation cycle: orient, gather, consolidate, prune (docs/memory.md, *Dream*).

Every step is idempotent, so a cycle that crashed halfway is simply run again: a summary note that
exists is kept, a merge already recorded in the survivor is not recorded twice, a pattern notes the
windows it counted, decay waits a day between steps. Dream archives (moves) and merges; it never
deletes a note. In a git vault each phase that changed something is one commit of the memory files.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import NotAGitRepo, NoteNotFound
from .insights import from_fields, link
from .journal import remove_idle
from .naming import note_text
from .records import DreamReport, Entry, Insight, iso, utc_now
from .sessions import journal_folder, parse_entries

if TYPE_CHECKING:
    from ..vault import Vault
    from .memory import Memory

log = logging.getLogger("mdstore.memory")

START = "<!-- mdstore:memory:start -->"
END = "<!-- mdstore:memory:end -->"
_DECISION = re.compile(r"\b(decided|decision|we will|agreed|chose|going with)\b", re.IGNORECASE)
JOB_KIND = "memory-dream"


class Dream:
    def __init__(
        self, memory: Memory, vault: Vault, *, consolidator: Callable[[list[Entry]], str] | None
    ) -> None:
        self.memory = memory
        self.vault = vault
        self.settings = memory.settings
        self.folder = memory.folder
        self.consolidator = consolidator
        self.commits: list[str] = []

    def run(self, *, window_hours: float, now: dt.datetime | None, dry_run: bool = False) -> DreamReport:
        end = now or utc_now()
        start = end - dt.timedelta(hours=window_hours)
        self.memory.flush()  # entries waiting in journals belong to the window too
        # 1. Orient: the window's sessions, open tasks, notes changed outside memory.
        sessions = self._sessions(start, end)
        # A long session is several notes (parts): count sessions by name.
        names = {path: str(front.get("session") or path) for path, front in sessions}
        report = DreamReport(window_start=start, window_end=end, sessions=len(set(names.values())))
        # 2. Gather: their entries and the insights they touch.
        entries = {path: parse_entries(self._body(path)) for path, _ in sessions}
        entries = {p: [e for e in es if start <= e.time <= end] for p, es in entries.items()}
        report = replace(report, entries=sum(len(es) for es in entries.values()))
        if dry_run:
            return report
        # 3. Consolidate.
        created, raised = self._decisions(sessions, entries)
        merged = self._merge()
        summary = self._summary(start, end, sessions, entries) if sessions else None
        by_session: dict[str, list[Entry]] = {}
        for path, es in entries.items():
            by_session.setdefault(names[path], []).extend(es)
        p_created, p_raised = self._patterns(start, end, by_session)
        self.memory.flush()  # the pattern insights are written behind: their notes belong to this commit
        self._commit(f"mdstore dream: consolidate {iso(start)} .. {iso(end)}")
        # 4. Prune.
        archived = self._archive(sessions)
        self._clear_journals()
        decayed = self._decay(end)
        self._memory_file(end)
        self._commit(f"mdstore dream: prune {iso(start)} .. {iso(end)}")
        return replace(
            report,
            insights_created=created + p_created,
            insights_raised=raised + p_raised,
            insights_merged=merged,
            insights_decayed=decayed,
            bytes_archived=archived,
            summary=summary,
            commits=tuple(self.commits),
        )

    # -- orient & gather -----------------------------------------------------------------------

    def _sessions(self, start: dt.datetime, end: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
        """Session notes (not yet archived) with an entry in the window."""
        rows = self.vault.find(where={"type": "session"}, folder=f"{self.folder}/sessions", sort="path")
        found = []
        for row in rows.to_dicts():
            front = row.get("frontmatter") or {}
            last = _moment(front.get("last")) or _moment(front.get("started"))
            first = _moment(front.get("started"))
            if last is not None and first is not None and last >= start and first <= end:
                found.append((str(row["path"]), front))
        return found

    def _body(self, path: str) -> str:
        """A note's body as indexed (a session note can be long: no Markdown parse needed)."""
        row = self.vault.sql("SELECT body FROM notes WHERE path = ?", [path]).first()
        return str(row["body"] or "") if row else self.vault.get(path).body

    # -- consolidate ---------------------------------------------------------------------------

    def _decisions(
        self, sessions: list[tuple[str, dict[str, Any]]], entries: dict[str, list[Entry]]
    ) -> tuple[int, int]:
        """Entries that state a decision become ``decision`` insights (stored once: same content,
        same insight)."""
        planned: dict[str, tuple[dict[str, Any], str]] = {}
        for path, front in sessions:
            for entry in entries.get(path, []):
                if not _DECISION.search(entry.content):
                    continue
                plan = self.memory._insights.plan(
                    note_text(entry.content.strip()[:2000]),
                    user=str(front.get("user") or entry.role),
                    source="summarization",
                    category="decision",
                    provenance=(link(path),),
                )
                if not isinstance(plan, Insight):
                    planned.setdefault(plan[0], (plan[1], plan[2]))
        if planned:
            with self.vault.batch() as b:  # one write and one index sync for all of them
                for target, (front_, body) in planned.items():
                    b.create(target, front_, body)
        created = len(planned)
        return created, 0

    def _merge(self) -> int:
        """Merge near-duplicate insights of the same user into the oldest of them (the survivor),
        which records each merged one's id, text and provenance; the merged notes move to the
        archive with ``merged_into``. Never both of a pair: the survivor never moves."""
        # A pattern insight stands for its word (found again by its id): never merged.
        insights = [i for i in self.memory._insights.all() if i.content and i.category != "pattern"]
        # The texts merged before stay in the corpus: the words' weights are those the last run
        # saw, so a rerun with nothing new finds no pair it did not find then.
        merged_before = self.vault.sql(
            "SELECT body FROM notes WHERE starts_with(path, ?) ORDER BY path",
            [f"{self.folder}/archive/insights/"],
        ).column("body")
        background = [str(body or "").strip() for body in merged_before]
        groups = near_duplicates(insights, self.settings.merge_threshold, background=background)
        merged = 0
        if not groups:
            return 0
        # Two batches (a batch touches each path once): first each merged note is marked, then
        # the survivors record them and the marked notes move. A crash between leaves marked notes
        # in place, which a rerun merges again into the same survivor, recorded once.
        with self.vault.batch() as b:
            for group in groups:
                survivor, *others = sorted(group, key=lambda i: (i.created, i.id))
                for other in others:
                    b.update(other.path, set={"merged_into": survivor.id})
        with self.vault.batch() as b:
            merged = self._merge_into(b, groups)
        return merged

    def _merge_into(self, b: Any, groups: list[list[Insight]]) -> int:
        merged = 0
        for group in groups:
            survivor, *others = sorted(group, key=lambda i: (i.created, i.id))
            note = self.vault.get(survivor.path)
            record = list(note.frontmatter.get("merged") or [])
            known = {str(m.get("id")) for m in record if isinstance(m, dict)}
            provenance = list(survivor.provenance)
            for other in others:
                if other.id not in known:
                    record.append(
                        {
                            "id": other.id,
                            "content": other.content,
                            "created": iso(other.created),
                            "source": other.source,
                        }
                    )
                for p in other.provenance:
                    if p not in provenance:
                        provenance.append(p)
            relevance = max(i.relevance for i in group)
            b.update(survivor.path, set={"merged": record, "provenance": provenance, "relevance": relevance})
            for other in others:
                target = f"{self.folder}/archive/insights/{other.path.rsplit('/', 1)[-1]}"
                b.move(other.path, target, update_links=False)
                merged += 1
        return merged

    def _summary(
        self,
        start: dt.datetime,
        end: dt.datetime,
        sessions: list[tuple[str, dict[str, Any]]],
        entries: dict[str, list[Entry]],
    ) -> str:
        path = f"{self.folder}/summaries/{end.date().isoformat()}.md"
        try:
            self.vault.get(path)
            return path  # this day's summary exists: a rerun leaves it as it is
        except NoteNotFound:
            pass
        everything = [e for es in entries.values() for e in es]
        if self.consolidator is not None:
            text = self.consolidator(everything).strip() + "\n"
        else:
            text = extractive_summary(everything)
        lines = [f"# Memory summary {end.date().isoformat()}", "", text, "## Sessions", ""]
        lines += [f"- {link(p)} ({len(entries.get(p, []))} entries)" for p, _ in sessions]
        open_tasks = self.vault.tasks(done=False, limit=20)
        if open_tasks:
            lines += ["", "## Open tasks", ""] + [
                f"- {r['text']} ({link(r['path'])})" for r in open_tasks.to_dicts()
            ]
        changed = self.vault.find(modified_after=start.replace(tzinfo=None), sort="-modified", limit=20)
        others = [r["path"] for r in changed.to_dicts() if not str(r["path"]).startswith(self.folder + "/")]
        if others:
            lines += ["", "## Notes changed", ""] + [f"- {link(p)}" for p in others]
        front = {
            "type": "memory-summary",
            "window_start": iso(start),
            "window_end": iso(end),
            "sessions": len(sessions),
        }
        self.vault.create(path, front, note_text("\n".join(lines) + "\n"))  # quotes the turns
        return path

    def _patterns(
        self, start: dt.datetime, end: dt.datetime, entries: dict[str, list[Entry]]
    ) -> tuple[int, int]:
        """A word that recurs in at least ``pattern_min_sessions`` sessions of the window becomes a
        ``pattern`` insight, or raises the one that exists (once per window)."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        from ..search.analysis import words

        def topical(word: str) -> bool:  # "about", "would", "there" recur everywhere
            return len(word) >= 5 and not word.isdigit() and word not in ENGLISH_STOP_WORDS

        spread: Counter[str] = Counter()
        for es in entries.values():
            spread.update({w for e in es for w in words(e.content) if topical(w)})
        window = f"{iso(start)}/{iso(end)}"
        created = raised = 0
        ranked = sorted(spread.items(), key=lambda wn: (-wn[1], wn[0]))  # ties by word: the same every run
        common = [(w, n) for w, n in ranked[:5] if n >= self.settings.pattern_min_sessions]
        for word, count in common:
            insight_id = f"pattern-{word}"
            try:
                found: Insight | None = self.memory.get_insight(insight_id)
            except NoteNotFound:
                found = None
            if found is None:
                self.memory.store_insight(
                    f"Recurring topic: {word} (in {count} sessions)",
                    user="system",
                    source="summarization",
                    category="pattern",
                    id=insight_id,
                    metadata={"windows": [window]},
                )
                created += 1
                continue
            windows = list(found.metadata.get("windows") or [])
            if window in windows:
                continue
            self.vault.update(
                found.path,
                set={"relevance": round(found.relevance + 0.25, 4), "metadata.windows": [*windows, window]},
            )
            raised += 1
        return created, raised

    # -- prune ---------------------------------------------------------------------------------

    def _archive(self, sessions: list[tuple[str, dict[str, Any]]]) -> int:
        """Move the window's session notes to the archive, all in one batch (links keep working)."""
        moved = 0
        prefix = f"{self.folder}/sessions/"
        if not sessions:
            return 0
        with self.vault.batch() as b:
            for path, _ in sessions:
                moved += (self.vault.root / path).stat().st_size
                b.move(path, f"{self.folder}/archive/" + path[len(prefix) :])
        return moved

    def _clear_journals(self) -> None:
        """Remove the journal folders of sessions with nothing waiting (temporary data); one that
        a process is writing or flushing right now is left for the next cycle."""
        base = self.vault.config.state_dir / "memory" / "sessions"
        for folder in base.glob("*") if base.is_dir() else []:
            remove_idle(folder)

    def _decay(self, now: dt.datetime) -> int:
        """Halve relevance every ``half_life_days``; steps at least a day apart, so a rerun the
        same day changes nothing."""
        changes = {}
        for insight in self.memory._insights.all():
            since = insight.decayed_at or insight.created
            days = (now - since).total_seconds() / 86400
            if days >= 1:
                relevance = round(insight.relevance * 0.5 ** (days / self.settings.half_life_days), 6)
                changes[insight.path] = {"relevance": relevance, "decayed_at": iso(now)}
        if changes:
            with self.vault.batch() as b:  # one write and one index sync, however many insights
                for path, values in changes.items():
                    b.update(path, set=values)
        return len(changes)

    def _memory_file(self, now: dt.datetime) -> None:
        """Refresh the generated section of MEMORY.md; the rest of the file is left byte for byte."""
        top = sorted(self.memory._insights.all(), key=lambda i: (-i.relevance, i.id))[:15]
        lines = [
            START,
            f"_Generated by mdstore dream on {now.date().isoformat()}; "
            "edits inside these markers are replaced._",
            "",
        ]
        lines += [f"- **{i.category}** {i.content.splitlines()[0][:160]} ({link(i.path)})" for i in top] or [
            "- (no insights yet)"
        ]
        summaries = self.vault.find(
            where={"type": "memory-summary"}, folder=f"{self.folder}/summaries", sort="-path", limit=5
        )
        if summaries:
            lines += [
                "",
                "Recent summaries: " + ", ".join(link(str(r["path"])) for r in summaries.to_dicts()),
            ]
        section = "\n".join([*lines, END])
        path = self.settings.memory_file
        try:
            note = self.vault.get(path)
        except NoteNotFound:
            self.vault.create(path, None, f"# Memory\n\n{section}\n")
            return
        body = _raw_body(note.body, (self.vault.root / path).read_bytes())
        if START in body and END in body.split(START, 1)[1]:
            before, rest = body.split(START, 1)
            after = rest.split(END, 1)[1]
            new = before + section + after
        else:  # appended: what is there stays as it is
            new = body + ("" if body.endswith(("\n", "\r")) or not body else "\n") + "\n" + section + "\n"
        if new != body:
            self.vault.update(path, body=new, if_hash=note.hash)

    def _commit(self, message: str) -> None:
        try:
            done = self.vault.commit(
                message,
                paths=[self.folder, self.settings.memory_file]
                if (self.vault.root / self.settings.memory_file).exists()
                else [self.folder],
            )
        except NotAGitRepo:
            return
        if done is not None:
            self.commits.append(str(getattr(done, "sha", None) or getattr(done, "hexsha", None) or done))


def near_duplicates(
    insights: list[Insight], threshold: float, *, background: Sequence[str] = ()
) -> list[list[Insight]]:
    """Groups of insights of one user that say the same thing: TF-IDF cosine similarity of at
    least ``threshold``, the same numbers in the same order ("port 8080" / "port 9090", "fact 5" /
    "fact 0" are different facts), and no word *replaced* — one may add or drop words, but two
    texts that each have a word the other lacks ("the dog is Rex" / "the dog is Max") are
    different facts unless they are nearly identical (cosine ≥ 0.95, a typo fixed). The words'
    weights (IDF) are fitted on the insights and the ``background`` texts. Single link: a chain of
    pairs is one group."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from ..search.analysis import tokens

    if len(insights) < 2:
        return []
    texts = [i.content for i in insights]
    model = TfidfVectorizer(analyzer=tokens, sublinear_tf=True).fit([*texts, *background])
    matrix = model.transform(texts)
    terms = [set(tokens(text)) for text in texts]
    numbers = [[t for t in tokens(text) if any(c.isdigit() for c in t)] for text in texts]
    parent = list(range(len(insights)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for first in range(0, len(insights), 1000):
        block = (matrix[first : first + 1000] @ matrix.T).tocoo()
        close = block.data >= threshold  # most pairs share a word or two: drop them before the loop
        for a, b, sim in zip(block.row[close], block.col[close], block.data[close], strict=True):
            a += first
            if (
                a < b
                and sim >= threshold
                and insights[a].user == insights[b].user
                and numbers[a] == numbers[b]
            ):
                replaced = terms[a] - terms[b] and terms[b] - terms[a]
                if not replaced or sim >= 0.95:
                    parent[root(a)] = root(b)
    groups: dict[int, list[Insight]] = {}
    for n, insight in enumerate(insights):
        groups.setdefault(root(n), []).append(insight)
    return [g for g in groups.values() if len(g) > 1]


def extractive_summary(entries: list[Entry], size: int = 8) -> str:
    """The window's most central entries (sum of their words' TF-IDF weight across the window,
    per word) plus its decisions, in time order."""
    from ..search.analysis import tokens

    if not entries:
        return "No entries in this window.\n"
    weight = Counter(t for e in entries for t in set(tokens(e.content)))

    def centrality(e: Entry) -> float:
        toks = tokens(e.content)
        return sum(weight[t] for t in set(toks)) / (len(toks) + 5)

    chosen = set(sorted(range(len(entries)), key=lambda n: -centrality(entries[n]))[:size])
    chosen |= {n for n, e in enumerate(entries) if _DECISION.search(e.content)}
    ordered = sorted(chosen, key=lambda n: entries[n].time)
    lines = ["## Highlights", ""]
    for n in ordered:
        text = " ".join(entries[n].content.split())
        lines.append(f"- {entries[n].role}: {text[:300]}")
    return "\n".join(lines) + "\n"


def pending_sessions(vault: Vault) -> list[str]:
    """Sessions whose journal holds entries not yet in their note (any process's)."""
    base = vault.config.state_dir / "memory" / "sessions"
    names = []
    for folder in sorted(base.glob("*")) if base.is_dir() else []:
        if any(folder.glob("r-*.jsonl")) or _has_lines(folder / "live.jsonl"):
            try:
                names.append(str(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["session"]))
            except (OSError, ValueError, KeyError):
                log.warning("memory journal %s names no session; left as it is", folder)
    return [n for n in names if journal_folder(vault, n).is_dir()]


def _raw_body(body: str, data: bytes) -> str:
    """The body of the note ``data`` with its line ends as in the file (``body`` is as parsed,
    with LF): a body written back keeps its CRLF lines where the file mixes them. ``body`` when
    the file does not read back to it (not UTF-8, or changed meanwhile)."""
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body or not normal.endswith(body):
        return body
    skip = normal[: len(normal) - len(body)].count("\n")  # the frontmatter's lines
    ends = [found.end() for found in itertools.islice(_LINE_END.finditer(text), skip)]
    raw = text[ends[-1] :] if ends else text
    return raw if raw.replace("\r\n", "\n").replace("\r", "\n") == body else body


_LINE_END = re.compile(r"\r\n|\r|\n")


def _has_lines(path: Any) -> bool:
    try:
        return bool(path.stat().st_size)
    except FileNotFoundError:
        return False


def _moment(value: Any) -> dt.datetime | None:
    try:
        return from_fields("x.md", {"created": value}, "").created if value is not None else None
    except Exception:
        return None


# -- the scheduled job --------------------------------------------------------------------------


def schedule(vault: Vault) -> Any:
    """Enqueue the next ``memory-dream`` job, due ``dream_interval_hours`` from now (keyed by
    its due hour, so enqueuing twice gives one job)."""
    from ..queue import open_queue

    hours = vault.config.memory.dream_interval_hours
    due = utc_now() + dt.timedelta(hours=hours)
    queue = open_queue(vault.config)
    return queue.enqueue(
        JOB_KIND, {"vault": str(vault.root)}, key=due.strftime("%Y-%m-%dT%H"), delay=hours * 3600
    )
