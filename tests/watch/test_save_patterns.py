"""Each way editors and tools save, move and delete files leaves every note indexed under its path
with its content (a real watchdog on a temp vault, an in-process watcher)."""

from __future__ import annotations

import os
import shutil
import time

from .conftest import assert_exact, indexed, note, wait_for, write


def body_of(vault, rel: str) -> str | None:
    row = vault.sql("SELECT body FROM notes WHERE path = ?", [rel]).first()
    return row["body"] if row else None


def wait_body(vault, rel: str, text: str) -> None:
    wait_for(lambda: text in (body_of(vault, rel) or ""), what=f"{rel} to hold {text!r}")


def test_new_edited_and_deleted_note(watched, tmp_path):
    vault, _ = watched({"a.md": note("a")})
    write(vault.root, "b.md", note("b", "first"))
    wait_body(vault, "b.md", "first")
    write(vault.root, "b.md", note("b", "second"))
    wait_body(vault, "b.md", "second")
    (vault.root / "b.md").unlink()
    wait_for(lambda: "b.md" not in indexed(vault), what="b.md to leave the index")
    assert_exact(vault, tmp_path)


def test_vim_save_rename_away_then_create(watched, tmp_path):
    vault, _ = watched({"v.md": note("v", "old")})
    root = vault.root
    # vim: swap file, 4913 probe, note.md -> note.md~, new note.md written, backup deleted
    write(root, ".v.md.swp", "swap")
    write(root, "4913", "")
    (root / "4913").unlink()
    os.rename(root / "v.md", root / "v.md~")
    write(root, "v.md", note("v", "new"))
    (root / "v.md~").unlink()
    (root / ".v.md.swp").unlink()
    wait_body(vault, "v.md", "new")
    assert not {p for p in indexed(vault) if "swp" in p or p.endswith("~")}
    assert_exact(vault, tmp_path)


def test_atomic_temp_then_replace(watched, tmp_path):
    vault, _ = watched({"atom.md": note("atom", "old")})
    tmp = vault.root / ".atom.md.tmp"
    tmp.write_text(note("atom", "replaced"))
    os.replace(tmp, vault.root / "atom.md")
    wait_body(vault, "atom.md", "replaced")
    assert_exact(vault, tmp_path)


def test_jetbrains_safe_write(watched, tmp_path):
    vault, _ = watched({"jb.md": note("jb", "old")})
    root = vault.root
    write(root, "jb.md___jb_tmp___", note("jb", "jetbrains"))
    os.rename(root / "jb.md", root / "jb.md___jb_old___")
    os.rename(root / "jb.md___jb_tmp___", root / "jb.md")
    (root / "jb.md___jb_old___").unlink()
    wait_body(vault, "jb.md", "jetbrains")
    assert "jb.md___jb_old___" not in indexed(vault)
    assert_exact(vault, tmp_path)


def test_in_place_truncate_and_write(watched, tmp_path):
    vault, _ = watched({"inplace.md": note("i", "old")})
    with open(vault.root / "inplace.md", "r+", encoding="utf-8") as fh:
        fh.truncate(0)
        fh.flush()
        time.sleep(0.05)  # a reader in between sees an empty file; the watcher must wait for the close
        fh.write(note("i", "rewritten"))
    wait_body(vault, "inplace.md", "rewritten")
    assert_exact(vault, tmp_path)


def test_continuous_writing_is_indexed_within_max_delay(watched):
    vault, _ = watched({}, watch={"debounce_ms": 150, "max_delay_ms": 600})
    path = vault.root / "log.md"
    seen = None
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# Log\n")
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            fh.write("line\n")
            fh.flush()  # a modified event every 50 ms: never quiet for 150 ms
            time.sleep(0.05)
            if seen is None and "log.md" in indexed(vault):
                seen = time.monotonic() - (deadline - 4)
    assert seen is not None, "a continuously written file must be indexed before the writing stops"


def test_folder_rename_with_200_notes(watched, tmp_path):
    files = {f"proj/sub/n{i}.md": note(i) for i in range(200)}
    vault, _ = watched({**files, "n0.md": note(0)})
    os.rename(vault.root / "proj", vault.root / "archive")
    want = {f"archive/sub/n{i}.md" for i in range(200)} | {"n0.md"}
    wait_for(lambda: indexed(vault) == want, what="the renamed folder's notes")
    assert_exact(vault, tmp_path)


def test_folder_moved_out_and_back_in(watched, tmp_path):
    files = {f"box/n{i}.md": note(i) for i in range(50)}
    vault, _ = watched({**files, "keep.md": note("k")})
    outside = tmp_path / "outside-box"
    shutil.move(str(vault.root / "box"), str(outside))  # one `deleted dir` event, nothing per file
    wait_for(lambda: indexed(vault) == {"keep.md"}, what="the moved-out folder to leave the index")
    shutil.move(str(outside), str(vault.root / "box2"))  # `created` for every child
    want = {f"box2/n{i}.md" for i in range(50)} | {"keep.md"}
    wait_for(lambda: indexed(vault) == want, what="the moved-in folder's notes")
    assert_exact(vault, tmp_path)


def test_folder_deleted(watched, tmp_path):
    files = {f"gone/deep/n{i}.md": note(i) for i in range(30)}
    vault, _ = watched({**files, "stay.md": note("s")})
    shutil.rmtree(vault.root / "gone")
    wait_for(lambda: indexed(vault) == {"stay.md"}, what="the deleted folder's notes to leave")
    assert_exact(vault, tmp_path)


def test_case_only_rename(watched, tmp_path):
    vault, _ = watched({"Case.md": note("c")})
    os.rename(vault.root / "Case.md", vault.root / "case.md")
    wait_for(lambda: indexed(vault) == {"case.md"}, what="the case-only rename")
    assert_exact(vault, tmp_path)


def test_note_renamed_is_a_move(watched, tmp_path):
    vault, _ = watched({"old.md": note("o"), "other.md": "see [[old]]\n"})
    events: list = []
    vault._watcher.subscribe(events.append)
    os.rename(vault.root / "old.md", vault.root / "new.md")
    wait_for(lambda: any(e.kind == "moved" for e in events), what="a moved event")
    moved = [e for e in events if e.kind == "moved"][0]
    assert (moved.old_path, moved.path) == ("old.md", "new.md") and moved.hash
    assert_exact(vault, tmp_path)


def test_ignored_paths_never_reach_the_index(watched, tmp_path):
    vault, watcher = watched({".gitignore": "build/\n", "a.md": note("a")})
    root = vault.root
    write(root, "build/out.md", note("b"))
    write(root, ".obsidian/workspace.md", "x")
    write(root, ".mdstore/junk.md", "x")
    write(root, "x.md.swp", "x")
    write(root, ".#lock.md", "x")
    write(root, "z.md", note("z"))  # a marker: once it is in, the others have been seen too
    wait_for(lambda: "z.md" in indexed(vault), what="z.md")
    assert indexed(vault) == {"a.md", "z.md"}
    assert_exact(vault, tmp_path)


def test_attachments_follow_too(watched, tmp_path):
    vault, _ = watched({"a.md": "![[pic.png]]\n"})
    (vault.root / "pic.png").write_bytes(b"\x89PNG")
    wait_for(
        lambda: vault.sql("SELECT count(*) AS c FROM attachments").first()["c"] == 1, what="the attachment"
    )
    wait_for(lambda: vault.outlinks("a.md").first()["resolved"] == "pic.png", what="the link to resolve")
    assert_exact(vault, tmp_path)


def test_unchanged_touch_is_a_no_op(watched):
    vault, watcher = watched({"t.md": note("t")})
    events: list = []
    watcher.subscribe(events.append)
    gen = vault.status()["generation"]
    os.utime(vault.root / "t.md")
    write(vault.root, "marker.md", note("m"))
    wait_for(lambda: "marker.md" in indexed(vault), what="the marker")
    time.sleep(0.3)
    assert [e.path for e in events] == ["marker.md"]
    assert int(vault.status()["generation"]) >= int(gen)
