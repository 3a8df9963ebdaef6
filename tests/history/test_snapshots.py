"""Snapshots: annotated tags with validated, never-overwritten labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdstore.history import GitHistory, HistoryError

from .conftest import git, write


def test_snapshot_commits_pending_changes_then_tags(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    snap = hist.snapshot("before-cleanup", "state before the big cleanup")
    head = git(vault, "rev-parse", "HEAD").strip()
    assert (snap.label, snap.rev, snap.message, snap.tagger) == (
        "before-cleanup", head, "state before the big cleanup", "Ann Author",
    )  # fmt: skip
    assert snap.date.tzinfo is not None
    assert git(vault, "cat-file", "-t", "before-cleanup").strip() == "tag"  # annotated
    assert git(vault, "log", "-1", "--format=%s").strip() == "mdstore: snapshot before-cleanup"
    assert git(vault, "status", "--porcelain") == ""


def test_an_existing_label_is_an_error_not_an_overwrite(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    first = hist.snapshot("v1")
    write(vault, "a.md", "b")
    with pytest.raises(HistoryError, match="'v1' already exists"):
        hist.snapshot("v1")
    assert hist.snapshots("v1")[0].rev == first.rev
    assert git(vault, "status", "--porcelain") == " M a.md\n"  # the failed snapshot committed nothing


@pytest.mark.parametrize(
    "label", ["", "has space", "a..b", "-x", "tilde~1", "a:b", "star*", "x.lock", "end/", "@"]
)
def test_invalid_labels_are_clear_errors(vault: Path, hist: GitHistory, label: str) -> None:
    write(vault, "a.md", "a")
    with pytest.raises(HistoryError, match="invalid snapshot label"):
        hist.snapshot(label)


def test_snapshot_of_an_empty_repository(hist: GitHistory) -> None:
    with pytest.raises(HistoryError, match="no commits yet"):
        hist.snapshot("v1")


def test_snapshots_lists_every_tag_oldest_first(vault: Path, hist: GitHistory) -> None:
    write(vault, "a.md", "a")
    hist.snapshot("2026/first", "one\n\nwith a body")
    write(vault, "a.md", "b")
    hist.commit()
    git(vault, "tag", "light")
    git(vault, "tag", "-a", "-m", "by hand", "zzz-äöü", "HEAD~1")
    snaps = hist.snapshots()
    assert [s.label for s in snaps][0] == "2026/first"
    assert {s.label for s in snaps} == {"2026/first", "light", "zzz-äöü"}
    by_label = {s.label: s for s in snaps}
    assert by_label["2026/first"].message == "one\n\nwith a body"
    assert by_label["light"].message == "" and by_label["light"].tagger == ""
    assert by_label["light"].rev == git(vault, "rev-parse", "HEAD").strip()
    assert by_label["zzz-äöü"].rev == git(vault, "rev-parse", "HEAD~1").strip()
    assert hist.snapshots("nope") == []
