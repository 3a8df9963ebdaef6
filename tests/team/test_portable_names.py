"""Names a clone on Windows could not hold (``a:b.md``, ``nul.md``...): a Linux clone leaves them
out of what it shares and says so every time, and a clone that meets one on the server (pushed by
an earlier mdstore) says so every time too, with the rule that refuses it."""

from __future__ import annotations

import hashlib

import psycopg

from tests.team.conftest import SPACE, Clone, tree, write

NAMES = {
    "nul.md": "'nul.md' is a reserved device name on Windows",
    "CON.md": "'CON.md' is a reserved device name on Windows",
    "a:b.md": "'a:b.md' contains :, which Windows and Obsidian refuse",
    "q?.md": "'q?.md' contains ?, which Windows and Obsidian refuse",
    "back\\slash.md": "'back\\\\slash.md' contains \\, which Windows and Obsidian refuse",
    "star*.md": "'star*.md' contains *, which Windows and Obsidian refuse",
    "lt<gt>.md": "'lt<gt>.md' contains < >, which Windows and Obsidian refuse",
    "pipe|.md": "'pipe|.md' contains |, which Windows and Obsidian refuse",
    'quote".md': "'quote\".md' contains \", which Windows and Obsidian refuse",
}


def _old_push(team_url: str, path: str, data: bytes | None) -> int:
    """A revision of ``path`` as an earlier mdstore pushed it (None: a delete); its number."""
    digest = hashlib.sha256(data or b"").hexdigest() if data is not None else ""
    with psycopg.connect(team_url) as conn:
        (revision,) = conn.execute(
            "UPDATE team_spaces SET revision = revision + 1 WHERE name = %s RETURNING revision", (SPACE,)
        ).fetchone()  # type: ignore[misc]
        values = (SPACE, revision, path, data or b"", digest, data is None)
        conn.execute(
            "INSERT INTO team_revisions (space, revision, path, content, content_hash, deleted) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            values,
        )
        conn.execute(
            "INSERT INTO team_notes (space, revision, path, content, content_hash, deleted) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (space, path) DO UPDATE SET "
            "revision = EXCLUDED.revision, content = EXCLUDED.content, "
            "content_hash = EXCLUDED.content_hash, deleted = EXCLUDED.deleted",
            values,
        )
    return int(revision)


def _live_paths(team_url: str) -> set[str]:
    with psycopg.connect(team_url) as conn:
        rows = conn.execute("SELECT path FROM team_notes WHERE space = %s AND NOT deleted", (SPACE,))
        return {path for (path,) in rows}


def test_a_clone_leaves_names_windows_refuses_out_and_says_so_every_time(clone: Clone, team_url: str) -> None:
    a, b = clone("a"), clone("b")
    for name in NAMES:
        write(a, name, f"# {name}\n")
    write(a, "Good.md", "# Good\n")
    expected = sorted(f"{name}: not shared: {rule}; rename it" for name, rule in NAMES.items())
    for _ in range(2):  # the first sync and every later one
        report = a.team.sync()
        assert sorted(report.skipped) == expected
        assert sorted(a.team.status()["not_shared"]) == expected
    assert report.pushed == () and _live_paths(team_url) == {"Good.md"}
    assert a.team.status()["waiting"] == 0
    write(a, "new?.md", "# new\n")  # as the watcher syncs: only the paths it saw change
    report = a.team.sync(paths={"new?.md"})
    assert report.pushed == () and report.skipped == (
        f"new?.md: not shared: {NAMES['q?.md'].replace('q', 'new')}; rename it",
    )
    (a.root / "new?.md").unlink()
    report = b.team.sync()
    assert report.pulled == ("Good.md",) and report.skipped == ()
    assert tree(b) == {"Good.md": b"# Good\n"}
    # Renamed to a portable name, the note is shared like any other.
    (a.root / "a:b.md").rename(a.root / "a-b.md")
    assert a.team.sync().pushed == ("a-b.md",)
    assert b.team.sync().pulled == ("a-b.md",)


def test_a_name_from_an_older_server_row_is_reported_until_it_is_gone(clone: Clone, team_url: str) -> None:
    b = clone("b")
    revision = _old_push(team_url, "a:b.md", b"# from an older mdstore\n")
    line = f"a:b.md: not pulled: {NAMES['a:b.md']}; left on the server (rename it where it was shared)"
    for _ in range(2):
        report = b.team.sync()
        assert report.skipped == (line,) and report.pulled == ()
        status = b.team.status()
        assert status["not_shared"] == [line] and status["revision"] == revision  # the cursor moved on
    assert not (b.root / "a:b.md").exists()
    b.close()
    b = clone("b")
    assert b.team.status()["not_shared"] == [line]  # kept with the clone's state
    _old_push(team_url, "a:b.md", None)  # deleted on the server: nothing left to report
    assert b.team.sync().skipped == () and b.team.status()["not_shared"] == []


def test_a_file_shared_under_such_a_name_stays_and_a_rename_travels(clone: Clone, team_url: str) -> None:
    data = b"# shared before mdstore checked names\n"
    _old_push(team_url, "a:b.md", data)
    a, b = clone("a"), clone("b")
    write(a, "a:b.md", data)  # this clone had pushed it, with an earlier mdstore
    for _ in range(2):
        report = a.team.sync()
        assert report.pushed == () and report.deleted == ()
        assert report.skipped == (f"a:b.md: not shared: {NAMES['a:b.md']}; rename it",)
    b.team.sync()
    # A copy under a portable name is a new note: the original is neither moved nor deleted.
    write(a, "copy.md", data)
    assert a.team.sync().pushed == ("copy.md",)
    assert _live_paths(team_url) == {"a:b.md", "copy.md"}
    # Renamed here, it is a move everywhere: the server's old row goes, and so does b's report.
    (a.root / "a:b.md").rename(a.root / "a-b.md")
    report = a.team.sync()
    assert sorted(report.pushed) == ["a-b.md", "a:b.md"] and report.skipped == ()  # a move
    assert _live_paths(team_url) == {"a-b.md", "copy.md"}
    report = b.team.sync()
    assert report.skipped == () and b.team.status()["not_shared"] == []
    assert tree(b) == {"a-b.md": data, "copy.md": data}
    assert (a.root / "a-b.md").read_bytes() == data
