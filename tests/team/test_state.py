"""The clone's state in .mdstore/team/: a small sync appends a record instead of rewriting it, and
a record cut short by a crash, or left from before a rewrite, never changes what the clone decides."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

import mdstore
from mdstore.errors import BackendUnavailable
from tests.team.conftest import SPACE, Clone, tree, write


def _state(vault: mdstore.Vault) -> tuple[Path, Path]:
    folder = vault.root / ".mdstore" / "team"
    return folder / "state.bin", folder / "state.log"


def _server_revision(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT revision FROM team_spaces WHERE name = %s", (SPACE,)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_small_sync_appends_to_the_log_and_a_reopened_clone_reads_it(clone: Clone) -> None:
    a = clone("a")
    for i in range(50):
        write(a, f"notes/n{i}.md", f"# Note {i}\n\nbody {i}\n")
    a.team.sync()
    whole, log = _state(a)
    before = whole.read_bytes()
    write(a, "notes/n7.md", "# Note 7\n\nedited in an editor, no watcher running\n")
    report = a.team.sync()
    assert report.pushed == ("notes/n7.md",)
    assert whole.read_bytes() == before  # not rewritten for one path
    assert log.stat().st_size > 0
    a.close()
    again = clone("a")
    settled = again.team.sync()
    assert settled.changed_count == 0 and settled.pushed == () and settled.pulled == ()
    assert again.team.status()["waiting"] == 0


def test_a_record_cut_short_by_a_crash_settles_without_a_new_revision(clone: Clone, team_url: str) -> None:
    a, b = clone("a"), clone("b")
    write(a, "Plan.md", "# Plan\n\nfirst\n")
    a.team.sync()
    b.team.sync()
    write(a, "Plan.md", "# Plan\n\nsecond\n")
    assert a.team.sync().pushed == ("Plan.md",)
    revision = _server_revision(team_url)
    _, log = _state(a)
    data = log.read_bytes()
    log.write_bytes(data[:-3])  # the process died while appending its record
    a.close()
    a = clone("a")
    report = a.team.sync()
    assert report.conflicts == () and report.pushed == () and report.pulled == ()
    assert _server_revision(team_url) == revision  # the server's copy was adopted, not pushed again
    b.team.sync()
    assert tree(a) == tree(b)
    # The next record is written over the torn one, so it is read back.
    write(a, "Plan.md", "# Plan\n\nthird\n")
    assert a.team.sync().pushed == ("Plan.md",)
    a.close()
    a = clone("a")
    assert a.team.sync().changed_count == 0 and a.team.status()["waiting"] == 0


def test_a_log_from_before_a_rewrite_is_not_replayed(clone: Clone, team_url: str) -> None:
    a, b = clone("a"), clone("b")
    write(a, "One.md", "one\n")
    a.team.sync()
    b.team.sync()
    write(b, "Two.md", "two\n")
    b.team.sync()
    a.team.sync()  # pulls Two.md: a record in a's log
    whole, log = _state(a)
    old_log = log.read_bytes()
    write(b, "Two.md", "two, edited\n")
    b.team.sync()
    whole.unlink()  # a's state is lost: the next sync rebuilds it and writes it whole
    a.team.sync()
    assert a.team.status()["revision"] == _server_revision(team_url)
    log.write_bytes(old_log)  # as if the process died between the rewrite and the log's removal
    a.close()
    a = clone("a")
    assert a.team.status()["revision"] == _server_revision(team_url)  # the old record is ignored
    report = a.team.sync()
    assert report.conflicts == () and report.pushed == () and report.pulled == ()
    assert tree(a) == tree(b)


def test_a_push_to_a_space_the_role_left_is_one_clear_error(pg_cluster, team_url: str, clone: Clone) -> None:  # type: ignore[no-untyped-def]
    clone("admin").team.members_add("leaver_m")
    dbname = team_url.split("/")[3].split("?")[0]
    a = clone("a", url=pg_cluster.url(dbname, "leaver_m"))
    write(a, "Plan.md", "# Plan\n")
    a.team.sync()
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("DELETE FROM team_members WHERE role = 'leaver_m'")
    write(a, "Plan.md", "# Plan\n\nedited after leaving\n")
    with pytest.raises(BackendUnavailable) as caught:
        a.team.sync()
    message = str(caught.value)
    assert SPACE in message and "\n" not in message
    assert (a.root / "Plan.md").read_text() == "# Plan\n\nedited after leaving\n"


def test_a_state_written_before_the_log_keeps_its_bases(clone: Clone) -> None:
    import marshal

    a, b = clone("a"), clone("b")
    write(a, "Plan.md", "# Plan\n\nfirst\n")
    a.team.sync()
    b.team.sync()
    write(a, "Plan.md", "# Plan\n\nedited before mdstore was upgraded\n")
    whole, log = _state(a)
    a.close()
    # The state as the previous version wrote it: one file, format 1, no epoch, no log.
    raw = marshal.loads(whole.read_bytes())
    raw.pop("epoch")
    raw["format"] = 1
    whole.write_bytes(marshal.dumps(raw))
    log.unlink(missing_ok=True)
    a = clone("a")
    report = a.team.sync()
    assert report.conflicts == () and report.pushed == ("Plan.md",)
    b.team.sync()
    assert tree(a) == tree(b)
    assert marshal.loads(whole.read_bytes())["format"] == 2  # written in the new format


@pytest.mark.parametrize("wrong", ["database", "role", "port"])
def test_a_mistyped_server_keeps_the_state(pg_cluster, team_url: str, clone: Clone, wrong: str) -> None:  # type: ignore[no-untyped-def]
    text = "# Plan\n\none\ntwo\nthree\nfour\n"
    a, b = clone("a"), clone("b")
    write(a, "Plan.md", text)
    a.team.sync()
    b.team.sync()
    write(a, "Plan.md", text.replace("one", "ONE by ann"))  # waiting to be pushed
    write(b, "Plan.md", text.replace("four", "FOUR by bob"))
    b.team.sync()
    before = a.team.status()
    a.close()
    dbname = team_url.split("/")[3].split("?")[0]
    typo = {
        "database": pg_cluster.url(dbname + "x"),
        "role": pg_cluster.url(dbname, "nobody_here"),
        "port": team_url.replace(f"port={pg_cluster.port}", "port=1"),
    }[wrong]
    mistyped = clone("a", url=typo)
    with pytest.raises(BackendUnavailable):
        mistyped.team.sync()
    assert mistyped.team.status()["reachable"] is False
    mistyped.close()
    a = clone("a")
    after = a.team.status()
    assert after["revision"] == before["revision"] and after["last_sync"] == before["last_sync"]
    assert after["waiting"] == 1
    report = a.team.sync()
    assert report.merged == ("Plan.md",) and report.conflicts == ()
    b.team.sync()
    both = text.replace("one", "ONE by ann").replace("four", "FOUR by bob")
    assert tree(a) == tree(b) == {"Plan.md": both.encode()}
