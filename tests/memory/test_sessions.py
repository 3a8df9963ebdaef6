from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mdstore
from mdstore.memory.sessions import parse_entries

APPENDER = Path(__file__).with_name("appender.py")


def test_append_range_length(vault: mdstore.Vault) -> None:
    log = vault.memory.log("chat 1")
    for n in range(7):
        log.append({"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n}"})
    assert log.length() == 7
    assert [e.content for e in log.range(-2)] == ["message 5", "message 6"]
    assert [e.content for e in log.range(1, 3)] == ["message 1", "message 2"]
    assert [e.content for e in log.range(-3, -1)] == ["message 4", "message 5"]
    assert log.range(10) == []
    log.flush()  # whatever the background flusher has not written yet
    assert len(parse_entries(vault.get(log.path() or "").body)) == 7
    log.append("tricky\n<!-- entry abc -->\n\\<!-- entry x -->\n**bold** · not a header")
    assert log.length() == 8
    log.flush()
    path = log.path()
    assert (
        path is not None
        and path.startswith("Memory/sessions/")
        and path.endswith("/chat-1-" + path.rsplit("-", 1)[1])
    )
    entries = log.entries()
    assert entries[-1].content == "tricky\n<!-- entry abc -->\n\\<!-- entry x -->\n**bold** · not a header"
    assert [e.role for e in entries[:3]] == ["user", "assistant", "user"]
    note = vault.get(path)
    assert note.frontmatter["entries"] == 8 and note.frontmatter["session"] == "chat 1"
    assert vault.search("tricky", snippets=False).hits[0].path == path


def test_bad_entries(vault: mdstore.Vault) -> None:
    log = vault.memory.log("s")
    with pytest.raises(mdstore.ValidationError, match="non-empty"):
        log.append("  ")
    with pytest.raises(mdstore.ValidationError, match="role"):
        log.append("x", role="a\nb")
    with pytest.raises(mdstore.ValidationError, match="start"):
        log.range("1")  # type: ignore[arg-type]
    with pytest.raises(mdstore.ValidationError, match="session"):
        vault.memory.log("")
    with pytest.raises(mdstore.ValidationError, match="control characters"):
        log.append("x", role="a\x00b")
    with pytest.raises(mdstore.ValidationError, match="not Unicode text"):
        log.append("half a pair: \ud800")
    with pytest.raises(mdstore.ValidationError, match="session"):
        vault.memory.log("\udc80")
    assert log.length() == 0


def test_entries_with_nul_and_carriage_returns_round_trip(vault: mdstore.Vault) -> None:
    """A NUL byte would make the note a binary file the index holds by path only (the whole
    session vanished and every later flush failed); a CR would be read back as a line end."""
    texts = [
        "We decided to deploy on Thursday",
        "pasted output: a\x00b",
        "windows lines\r\nand a lone \r, a literal \\u0000 and \\\\ backslashes",
        "\\<!-- entry abc -->\n<!-- entry def -->\x00",
        "ok",
    ]
    log = vault.memory.log("chat")
    for text in texts:
        log.append(text)
    log.flush()
    path = log.path()
    assert path is not None and b"\x00" not in (vault.root / path).read_bytes()
    assert vault.get(path).error is None
    vault.close()
    with mdstore.open(vault.root) as again:
        log = again.memory.log("chat")
        assert [e.content for e in log.entries()] == texts
        assert [h.content for h in again.memory.search_sessions("pasted output")][:1] == [texts[1]]
        log.append("one more")
        assert log.flush() == 1 and log.length() == 6


def test_parts_stay_under_the_note_size_limit(tmp_path: Path) -> None:
    """A part over [vault] max_note_bytes would be indexed by path only: its entries vanished
    from the memory and every later flush failed. Parts roll over by size too."""
    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, vault={"max_note_bytes": 50_000}) as vault:
        log = vault.memory.log("chat")
        for n in range(10):
            log.append({"role": "assistant", "content": f"turn {n} about the deploy " + "lorem ipsum " * 700})
        log.flush()
        parts = log.parts()
        assert len(parts) == 2 and all((root / p).stat().st_size <= 50_000 for p in parts)
        assert all(vault.get(p).error is None for p in parts)
        assert [int(e.content.split()[1]) for e in log.entries()] == list(range(10))
        assert len(vault.memory.search_sessions("deploy", limit=20)) == 10
        log.append("one more")
        assert log.flush() == 1 and log.length() == 11
        with pytest.raises(mdstore.ValidationError, match="max_note_bytes"):
            log.append("x" * 60_000)
        assert log.length() == 11


def test_a_part_the_index_cannot_read_does_not_stop_the_log(vault: mdstore.Vault) -> None:
    """A part holding a NUL byte (written by an older version, or by hand) is read from its
    file, and the session goes on in a new part."""
    log = vault.memory.log("old")
    log.append("first")
    log.flush()
    path = log.path() or ""
    note = vault.root / path
    note.write_bytes(note.read_bytes().replace(b"first", b"fir\x00st"))
    vault.sync()
    assert vault.get(path).error is not None
    log = vault.memory.log("old")
    assert [e.content for e in log.entries()] == ["fir\x00st"]
    log.append("second")
    assert log.flush() == 1
    assert [e.content for e in log.entries()] == ["fir\x00st", "second"]
    assert [p.rsplit("/", 1)[1] for p in log.parts()] == ["old.md", "old (2).md"]
    assert vault.get(log.parts()[1]).frontmatter["offset"] == 1


def test_background_flush_writes_the_note(vault: mdstore.Vault) -> None:
    log = vault.memory.log("s")
    log.append("hello")
    deadline = time.monotonic() + 30
    while log.path() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.path() is not None
    assert [e.content for e in parse_entries(vault.get(log.path()).body)] == ["hello"]


def _spawn(root: Path, session: str, count: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(APPENDER), str(root), session, str(count), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_reader_in_another_process_sees_acknowledged_entries(vault: mdstore.Vault) -> None:
    vault.memory.log("shared").append("from the parent")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mdstore,sys; v=mdstore.open(sys.argv[1]); "
            "print(v.memory.log('shared').length()); v.close()",
            str(vault.root),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"


def test_kill_9_during_appends_loses_nothing_acknowledged(vault: mdstore.Vault) -> None:
    child = _spawn(vault.root, "crash", 100000, "agent")
    assert child.stdout is not None
    acked = []
    for line in child.stdout:  # kill it mid-stream, with flushes happening in the background
        acked.append(line.strip())
        if len(acked) == 700:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    acked += [line.strip() for line in child.stdout.read().splitlines() if line.strip()]
    child.stdout.close()
    assert child.stderr is not None
    child.stderr.close()
    log = vault.memory.log("crash")
    ids = [e.id for e in log.entries()]
    assert set(acked) <= set(ids)
    assert len(ids) == len(set(ids))
    assert log.flush() >= 0
    ids_after = [e.id for e in log.entries()]
    assert ids_after == ids  # nothing lost, nothing written twice by the recovering flush
    note = vault.get(log.path() or "")
    assert all(e.content.endswith("with a second line") for e in parse_entries(note.body))


def test_two_processes_append_to_one_session(vault: mdstore.Vault) -> None:
    children = [_spawn(vault.root, "busy", 300, tag) for tag in ("alpha", "beta")]
    outputs = [c.communicate(timeout=300) for c in children]
    assert all(c.returncode == 0 for c in children), outputs
    log = vault.memory.log("busy")
    entries = log.entries()
    assert len(entries) == 600 and len({e.id for e in entries}) == 600
    for tag in ("alpha", "beta"):  # each writer's entries keep their order
        mine = [int(e.content.split()[2]) for e in entries if e.role == tag]
        assert mine == list(range(300))
    assert log.flush() == 0  # both children flushed at exit
    # 600 entries: a first note of 500 (part_entries) and a second part with the rest.
    parts = log.parts()
    assert [p.rsplit("/", 1)[1] for p in parts] == ["busy.md", "busy (2).md"]
    held = [parse_entries(vault.get(p).body) for p in parts]
    assert [len(h) for h in held] == [500, 100]
    assert [e.id for h in held for e in h] == [e.id for e in entries]


def test_flush_interrupted_after_the_note_write_is_finished_once(tmp_path: Path) -> None:
    """A crash between writing the note and deleting the rotated journal file: the next flush
    finds the entries in the note by id and writes none of them twice."""
    from mdstore.memory.sessions import journal_folder

    root = tmp_path / "v"
    root.mkdir()
    with mdstore.open(root, memory={"flush_seconds": 3600}) as vault:
        log = vault.memory.log("s")
        for n in range(3):
            log.append(f"entry {n}")
        log.flush()
        log.append("entry 3")
        folder = journal_folder(vault, "s")
        saved = (folder / "live.jsonl").read_bytes()
        log.flush()
        (folder / f"r-{0:020d}-1.jsonl").write_bytes(saved)  # the file the crash left behind
        assert log.length() == 4
        assert log.flush() == 0
        assert [e.content for e in parse_entries(vault.get(log.path() or "").body)] == [
            f"entry {n}" for n in range(4)
        ]


def test_flush_waits_for_another_process_flushing_the_same_session(vault: mdstore.Vault) -> None:
    """A flush while another process has the session's flush turn waits for it, then writes
    its lines (it returned 0 and left them in the journal: a closing writer's lines stayed
    unwritten when the other writer flushed at the same moment)."""

    from mdstore.memory.sessions import journal_folder

    log = vault.memory.log("shared")
    for n in range(3):
        log.append(f"line {n}")
    folder = journal_folder(vault, "shared")
    folder.mkdir(parents=True, exist_ok=True)
    # Another process's flush turn, held by a child so the flock is not this process's own.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(0.5)\n",
            str(folder / "flush.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert log.flush() == 3
    holder.wait(timeout=30)
    holder.stdout.close()
    assert len(parse_entries(vault.get(log.path() or "").body)) == 3
