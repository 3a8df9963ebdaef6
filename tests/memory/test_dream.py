from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import mdstore
from mdstore.cli import cli
from mdstore.memory.dream import END, START

DREAMER = Path(__file__).with_name("dreamer.py")


def _fill(vault: mdstore.Vault) -> None:
    m = vault.memory
    for s in range(3):
        log = m.log(f"session-{s}")
        log.append({"role": "user", "content": f"Let us plan the garden irrigation, day {s}"})
        log.append({"role": "assistant", "content": "We decided to water the tomatoes every morning"})
        log.append({"role": "user", "content": f"The irrigation timer broke again on day {s}"})
    m.store_insight(
        "Ann waters the tomatoes every morning",
        user="ann",
        source="agent",
        category="fact",
        provenance=("Memory/sessions/x/session-0.md",),
    )
    m.store_insight(
        "Ann waters the tomatoes every single morning",
        user="ann",
        source="user",
        category="fact",
        provenance=("Memory/sessions/x/session-1.md",),
    )
    m.store_insight("Bob prefers tea", user="bob", source="user", category="preference")
    m.flush()


def _insight_notes(vault: mdstore.Vault) -> list[str]:
    return sorted(vault.find(where={"type": "insight"}).column("path"))


def test_dream_consolidates_and_prunes(vault: mdstore.Vault) -> None:
    (vault.root / "MEMORY.md").write_text(
        f"# My memory\n\nHand-written intro.\n\n{START}\nold\n{END}\n\nHand-written outro.\n"
    )
    vault.sync()
    _fill(vault)
    report = vault.memory.dream()
    assert report.sessions == 3 and report.entries == 9
    assert report.insights_merged == 1
    assert report.insights_created >= 1  # the decision, and the recurring "irrigation" pattern
    assert report.bytes_archived > 0
    # The survivor keeps the merged text and both provenances; the merged note is archived, not deleted.
    survivors = [
        vault.memory.get_insight(p.rsplit("/", 1)[1][:-3])
        for p in _insight_notes(vault)
        if p.startswith("Memory/insights/")
    ]
    tomato = [i for i in survivors if "tomatoes every morning" in i.content and i.user == "ann"]
    assert len(tomato) == 1
    note = vault.get(tomato[0].path)
    assert note.frontmatter["merged"][0]["content"] == "Ann waters the tomatoes every single morning"
    assert set(tomato[0].provenance) == {"[[session-0]]", "[[session-1]]"}
    archived = vault.find(folder="Memory/archive/insights").column("path")
    assert len(archived) == 1 and vault.get(archived[0]).frontmatter["merged_into"] == tomato[0].id
    decision = vault.memory.search_insights(
        "water tomatoes", filter=mdstore.memory.InsightFilter(category="decision")
    )
    assert decision and decision[0].provenance
    # Sessions moved to the archive with their entries; their logs follow.
    assert vault.find(folder="Memory/sessions").rows == []
    assert len(vault.find(where={"type": "session"}, folder="Memory/archive")) == 3
    assert vault.memory.log("session-1").length() == 3
    summary = vault.get(report.summary or "")
    assert "[[session-0]]" in summary.body and "Highlights" in summary.body
    memory_md = (vault.root / "MEMORY.md").read_text()
    assert memory_md.startswith("# My memory\n\nHand-written intro.\n\n" + START)
    assert memory_md.endswith(END + "\n\nHand-written outro.\n") and "tomatoes" in memory_md


def test_second_run_changes_nothing(vault: mdstore.Vault) -> None:
    _fill(vault)
    vault.memory.dream()
    before = {p: (vault.root / p).read_bytes() for p in vault.find().column("path")}
    again = vault.memory.dream()
    assert again.sessions == 0 and again.insights_merged == 0 and again.insights_created == 0
    after = {p: (vault.root / p).read_bytes() for p in vault.find().column("path")}
    assert after == before


def test_two_duplicates_are_never_both_removed(vault: mdstore.Vault) -> None:
    m = vault.memory
    key = "the deploy key for production lives in the team vault"
    a = m.store_insight(key, user="ann", source="agent", category="fact")
    b = m.store_insight(f"{key}!", user="ann", source="agent", category="fact", id="later")
    c = m.store_insight(f"{key}, really", user="ann", source="agent", category="fact", id="third")
    assert vault.memory.dream().insights_merged == 2
    assert vault.memory.dream().insights_merged == 0
    left = [p for p in _insight_notes(vault) if p.startswith("Memory/insights/")]
    assert len([p for p in left if p.rsplit("/", 1)[1][:-3] in {a.id, b.id, c.id}]) == 1
    survivor = vault.memory.get_insight(a.id)  # the oldest survives
    assert sorted(x["id"] for x in vault.get(survivor.path).frontmatter["merged"]) == ["later", "third"]


def test_decay_halves_relevance_per_half_life(vault: mdstore.Vault) -> None:
    i = vault.memory.store_insight("an old fact", user="ann", source="agent", category="fact")
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    report = vault.memory.dream(now=now)
    assert report.insights_decayed == 1
    assert vault.memory.get_insight(i.id).relevance == pytest.approx(0.5, rel=1e-3)
    assert vault.memory.dream(now=now).insights_decayed == 0


def test_dream_commits_each_phase(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    vault = mdstore.init_vault(root, git=True)
    try:
        vault.commit("start")
        _fill(vault)
        report = vault.memory.dream()
        assert len(report.commits) == 2
        subjects = [
            r.subject
            for r in vault.history(
                vault.find(folder="Memory/archive", where={"type": "session"}).column("path")[0]
            )
        ]
        assert any(s.startswith("mdstore dream: prune") for s in subjects)
    finally:
        vault.close()


def test_kill_9_during_dream_then_rerun(vault: mdstore.Vault, tmp_path: Path) -> None:
    _fill(vault)
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, str(DREAMER), str(vault.root), str(marker)], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), child.stderr.read() if child.stderr else ""
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.stderr is not None
    child.stderr.close()
    vault.sync()
    for path in vault.find().column("path"):  # every note whole
        vault.get(path)
    assert vault.check().to_dicts() == [] or all(r["kind"] == "broken-link" for r in vault.check().to_dicts())
    report = vault.memory.dream()
    assert report.insights_merged == 0  # the killed run had merged them: not again
    tomato = [
        p
        for p in _insight_notes(vault)
        if p.startswith("Memory/insights/") and "Ann waters the tomatoes" in vault.get(p).body
    ]
    assert len(tomato) == 1
    assert len(vault.get(tomato[0]).frontmatter["merged"]) == 1
    assert vault.find(folder="Memory/sessions").rows == []
    assert vault.memory.dream().sessions == 0


def test_cli_dream_and_memory(vault: mdstore.Vault) -> None:
    runner = CliRunner()
    base = ["--vault", str(vault.root)]
    out = runner.invoke(
        cli,
        [
            *base,
            "memory",
            "store-insight",
            "Use uv for Python",
            "--user",
            "ann",
            "--source",
            "user",
            "--category",
            "decision",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, [*base, "memory", "search-insights", "python", "--json"])
    assert "Use uv for Python" in out.output
    assert (
        runner.invoke(cli, [*base, "memory", "append", "cli-s", "hello", "--role", "assistant"]).exit_code
        == 0
    )
    out = runner.invoke(cli, [*base, "memory", "range", "cli-s", "-1", "--json"])
    assert '"role": "assistant"' in out.output
    assert runner.invoke(cli, [*base, "memory", "length", "cli-s"]).output.strip() == "1"
    assert runner.invoke(cli, [*base, "memory", "set-preference", "ann", "size", "12"]).exit_code == 0
    assert (
        runner.invoke(cli, [*base, "memory", "get-preference", "ann", "size", "--json"]).output.strip()
        == "12"
    )
    bad = runner.invoke(
        cli,
        [*base, "memory", "store-insight", "x", "--user", "a", "--source", "oracle", "--category", "fact"],
    )
    assert bad.exit_code == mdstore.ValidationError.exit_code and "source 'oracle'" in bad.output
    bad = runner.invoke(
        cli,
        [
            *base,
            "memory",
            "search-insights",
            "x",
            "--created-after",
            "2026-02-01",
            "--created-before",
            "2026-01-01",
        ],
    )
    assert bad.exit_code == mdstore.QueryError.exit_code and "inverted" in bad.output
    out = runner.invoke(cli, [*base, "dream", "--json"])
    assert out.exit_code == 0 and '"sessions": 1' in out.output


def test_scheduled_dream_job(tmp_path: Path) -> None:
    """The handler dreams only with enough sessions, and each run schedules the next one."""
    from mdstore.queue import open_queue

    root = tmp_path / "vault"
    root.mkdir()
    (root / "mdstore.toml").write_text("[memory]\ndream_min_sessions = 4\n")
    with mdstore.open(root) as vault:
        _fill(vault)  # three sessions
        queue = open_queue(vault.config)
        queue.enqueue("memory-dream", {"vault": str(root)})
        job = queue.claim()
        assert job is not None
        memory_dream = mdstore.vault_handlers(root)["memory-dream"]
        memory_dream(job)
        assert len(vault.find(folder="Memory/sessions")) == 3  # fewer than 4: no dream
        assert queue.stats().delayed == 1  # the next run, 24 h later
        vault.memory.log("session-9").append("a fourth session")
        vault.memory.flush()
        memory_dream(job)
        assert vault.find(folder="Memory/sessions").rows == []
        assert len(vault.find(where={"type": "session"}, folder="Memory/archive")) == 4


def test_unknown_memory_setting(tmp_path: Path) -> None:
    (tmp_path / "mdstore.toml").write_text("[memory]\nhalf_life = 3\n")
    with pytest.raises(mdstore.ConfigError, match="memory.half_life"):
        mdstore.open(tmp_path)
    (tmp_path / "mdstore.toml").write_text("[memory]\nhalf_life_days = 0\n")
    with mdstore.open(tmp_path) as vault, pytest.raises(mdstore.ConfigError, match="memory.half_life_days"):
        vault.memory  # noqa: B018


def test_dream_in_another_process_leaves_a_running_agents_log_working(vault: mdstore.Vault) -> None:
    """Dream removes the journal folders with nothing waiting, also that of a session another
    process still has open: its next append makes the folder anew instead of failing for good."""
    log = vault.memory.log("chat")
    log.append("first turn about the garden")
    log.flush()
    out = subprocess.run(
        [sys.executable, "-m", "mdstore", "--vault", str(vault.root), "dream"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    log.append("second turn after the dream")
    log.append("third turn")
    assert log.length() == 3
    vault.close()
    with mdstore.open(vault.root) as again:
        assert [e.content for e in again.memory.log("chat").entries()] == [
            "first turn about the garden",
            "second turn after the dream",
            "third turn",
        ]


def test_dream_leaves_a_journal_another_process_is_writing(vault: mdstore.Vault) -> None:
    from mdstore.memory.sessions import journal_folder

    log = vault.memory.log("busy")
    log.append("a turn")
    log.flush()
    folder = journal_folder(vault, "busy")
    # Another process in the middle of an append: it holds the journal's lock.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n",
            str(folder / "lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        vault.memory.dream()
        assert (folder / "lock").exists()
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    vault.memory.dream()  # nothing holds it now: removed
    assert not folder.exists()
    log.append("another turn")
    assert (folder / "meta.json").exists()  # the remade folder names its session for other flushers


def test_turns_after_dream_archived_the_session_reach_the_next_dream(vault: mdstore.Vault) -> None:
    """They went into the archived note, where no later Dream looked."""
    log = vault.memory.log("chat")
    log.append("hello")
    log.append("We decided to use Postgres")
    first = vault.memory.dream()
    assert first.sessions == 1 and first.entries == 2
    log.append("We decided to deploy on Thursday")
    second = vault.memory.dream()
    assert second.sessions == 1 and second.entries == 1 and second.insights_created >= 1
    decisions = vault.memory.search_insights(
        "decided", limit=10, filter=mdstore.memory.InsightFilter(category="decision")
    )
    assert {i.content for i in decisions} == {
        "We decided to use Postgres",
        "We decided to deploy on Thursday",
    }
    parts = log.parts()
    assert [p.rsplit("/", 1)[1] for p in parts] == ["chat.md", "chat (2).md"]
    assert all(p.startswith("Memory/archive/") for p in parts)
    assert vault.get(parts[1]).frontmatter["offset"] == 2
    assert [e.content for e in log.entries()] == [
        "hello",
        "We decided to use Postgres",
        "We decided to deploy on Thursday",
    ]
    assert vault.memory.dream().sessions == 0


def test_a_rerun_with_nothing_new_changes_nothing(vault: mdstore.Vault) -> None:
    """The second run merged more (the words' weights refitted on a corpus the first run had
    changed), merged the pattern insights of different words into one another, and merged facts
    that differ in a number; "about" became a pattern."""
    m = vault.memory
    for s in range(4):
        log = m.log(f"sess{s}")
        for t in range(12):
            if t % 4 == 0:
                log.append(f"s{s} t{t} talk about kubernetes and postgres; we decided option {s}-{t}")
            else:
                log.append(f"s{s} t{t} chatter about gardens {t}")
    for i in range(12):
        _fact(m, f"Fact number {i} about topic {i % 3} and more words")
        _fact(m, f"Fact number {i} about topic {i % 3} and more words too")
    _fact(m, "The staging server listens on port 8080", user="ops")
    _fact(m, "The staging server listens on port 9090", user="ops")
    first = m.dream()
    assert first.insights_merged == 12  # each fact and its rewording "... too"; nothing else
    survivors = [i.content for i in m._insights.all()]
    assert sum(c.startswith("Fact number") for c in survivors) == 12
    assert {"The staging server listens on port 8080", "The staging server listens on port 9090"} <= set(
        survivors
    )
    patterns = sorted(p for p in vault.find(folder="Memory/insights").column("path") if "/pattern-" in p)
    assert "Memory/insights/pattern-kubernetes.md" in patterns
    assert "Memory/insights/pattern-about.md" not in patterns
    before = {p: (vault.root / p).read_bytes() for p in vault.find().column("path")}
    again = m.dream()
    assert (again.sessions, again.insights_merged, again.insights_created) == (0, 0, 0)
    assert {p: (vault.root / p).read_bytes() for p in vault.find().column("path")} == before


def test_a_rerun_weighs_words_as_the_first_run_did(tmp_path: Path) -> None:
    """The words' weights were refitted on the insights left after the first run's merges: the
    pair the first run left apart came out closer, and a rerun with nothing new merged it."""
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, memory={"merge_threshold": 0.6}) as vault:
        m = vault.memory
        _fact(m, "kettle lamp mirror nickel")
        _fact(m, "kettle lamp mirror nickel pillow")
        for j in range(6):  # six pairs of rewordings sharing the pair's words: six merges
            _fact(m, f"kettle lamp mirror nickel orchid{j} plum{j}")
            _fact(m, f"kettle lamp mirror nickel orchid{j} plum{j} again")
        assert m.dream().insights_merged == 6
        assert m.dream().insights_merged == 0
        assert len(vault.find(folder="Memory/insights").rows) == 8


def test_pattern_insights_of_different_words_never_merge(vault: mdstore.Vault) -> None:
    """With their words common among the insights, "Recurring topic: postgres" and "Recurring
    topic: kubernetes" were nearly identical to the TF-IDF cosine, and a rerun merged them."""
    m = vault.memory
    for s in range(3):
        m.log(f"s{s}").append(f"kubernetes and postgres upgrades, round {s}")
    for i in range(30):
        m.store_insight(
            f"user {i} runs kubernetes with postgres", user=f"u{i}", source="agent", category="fact"
        )
    assert m.dream().insights_created >= 2
    assert m.dream().insights_merged == 0
    patterns = vault.find(where={"category": "pattern"}, folder="Memory/insights").column("path")
    assert {"Memory/insights/pattern-kubernetes.md", "Memory/insights/pattern-postgres.md"} <= set(patterns)


def test_bad_window_hours(vault: mdstore.Vault) -> None:
    """1e20 raised OverflowError, 0 silently meant 24 h, and -5 (a window ending before it
    starts) still decayed insights and rewrote MEMORY.md."""
    for bad in (0, -5, 1e20, float("nan"), float("inf"), "24", True):
        with pytest.raises(mdstore.ValidationError, match="window_hours"):
            vault.memory.dream(window_hours=bad)  # type: ignore[arg-type]
    assert not (vault.root / "MEMORY.md").exists()
    runner = CliRunner()
    for bad in ("0", "-5", "1e20", "nan"):
        out = runner.invoke(cli, ["--vault", str(vault.root), "dream", "--window-hours", bad])
        assert out.exit_code == 2 and "--window-hours" in out.output and "Traceback" not in out.output
    assert not (vault.root / "MEMORY.md").exists()
    report = vault.memory.dream(window_hours=0.5)
    assert report.window_end - report.window_start == dt.timedelta(minutes=30)
    out = runner.invoke(cli, ["--vault", str(vault.root), "dream", "--window-hours", "2", "--json"])
    assert out.exit_code == 0, out.output


def test_dream_hours_settings_are_bounded(tmp_path: Path) -> None:
    (tmp_path / "mdstore.toml").write_text("[memory]\ndream_window_hours = 1e20\n")
    with mdstore.open(tmp_path) as vault, pytest.raises(mdstore.ConfigError, match="dream_window_hours"):
        vault.memory  # noqa: B018


@pytest.mark.parametrize(
    "data",
    [
        b"# Mine\n\nkeep this\n"
        + START.encode()
        + b"\nold\n"
        + END.encode()
        + b"\ntail one\r\ntail two  \n\n\n",
        b"---\nx: 1\n---\n# Mine\r\n\r\nhand-written\n\n\n",  # no markers: appended after it all
        b"# Mine\r\n" + START.encode() + b"\r\nold\r\n" + END.encode() + b"\r\ntail\r\n",
    ],
)
def test_memory_file_outside_the_markers_is_left_byte_for_byte(vault: mdstore.Vault, data: bytes) -> None:
    """A CRLF line after the end marker of a file with LF lines became LF (the body was written
    back as parsed); trailing blank lines were dropped when the markers were appended."""
    (vault.root / "MEMORY.md").write_bytes(data)
    vault.sync()
    vault.memory.store_insight("x fact", user="u", source="agent", category="fact")
    vault.memory.dream()
    out = (vault.root / "MEMORY.md").read_bytes()
    assert b"x fact" in out
    if START.encode() in data:
        assert out.split(START.encode())[0] == data.split(START.encode())[0]
        assert out.split(END.encode())[-1] == data.split(END.encode())[-1]
    else:
        assert out.startswith(data)


def _fact(m: object, text: str, user: str = "ann") -> None:
    m.store_insight(text, user=user, source="agent", category="fact")  # type: ignore[attr-defined]

