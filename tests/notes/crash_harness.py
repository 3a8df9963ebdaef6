"""Child process for the crash tests: writes in a loop until the test kills it with SIGKILL.

``python crash_harness.py atomic FILE A B``: alternately atomic_write the bytes of files A and B to FILE.
``python crash_harness.py journal ROOT``: alternately commit the batches of ``journal_state`` X and Y.

It prints ``ready`` once imports are done, so the test's random delay lands inside the writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

SIZE = 48 * 1024  # big enough that a write takes a while, small enough to loop fast
MOVES = 30  # small renames make the apply phase long enough for kills to land in it too
# Notes each batch rewrites: more than the journal's BULK_SYNC_FILES, so its one-flush staging is
# what the kills interrupt.
WRITTEN = ("a", "b", "c", *(f"w{i}" for i in range(17)))


def content(tag: str, name: str) -> bytes:
    line = f"{tag} {name} ".encode() * 8 + b"\n"
    return (line * (SIZE // len(line) + 1))[:SIZE]


def journal_state(root: Path) -> str:
    """Which of the two batch outcomes the vault is in ("X" or "Y"), judging by d.md/e.md."""
    return "Y" if (root / "d.md").exists() else "X"


def setup_journal_vault(root: Path) -> None:
    """State Y, the starting point."""
    for name in WRITTEN:
        (root / f"{name}.md").write_bytes(content("Y", name))
    (root / "d.md").write_bytes(content("D", "d"))
    (root / "g.md").write_bytes(content("Y", "g"))
    (root / "t.md").write_bytes(content("T", "t"))
    for i in range(MOVES):
        (root / f"m{i}.md").write_bytes(b"m")


def run_batch(root: Path, towards: str) -> None:
    from mdstore.notes.journal import Journal

    with Journal(root).begin() as batch:
        for name in WRITTEN:
            batch.write(f"{name}.md", content(towards, name))
        for i in range(MOVES):
            src, dst = (f"m{i}.md", f"n{i}.md") if towards == "X" else (f"n{i}.md", f"m{i}.md")
            batch.move(src, dst)
        if towards == "X":
            batch.move("d.md", "e.md")
            batch.write("sub/f.md", content("F", "f"), create=True)
            batch.move("g.md", "h.md", data=content("X", "h"))
            batch.delete("t.md", to_trash=True)
        else:
            batch.move("e.md", "d.md")
            batch.delete("sub/f.md", to_trash=False)
            batch.move("h.md", "g.md", data=content("Y", "g"))
            batch.write("t.md", content("T", "t"), create=True)


def main(argv: list[str]) -> None:
    from mdstore.notes.fileio import atomic_write

    mode = argv[1]
    if mode == "atomic":
        target, first, second = Path(argv[2]), Path(argv[3]).read_bytes(), Path(argv[4]).read_bytes()
        print("ready", flush=True)
        flip = False
        while True:
            atomic_write(target, second if flip else first)
            flip = not flip
    elif mode == "journal":
        root = Path(argv[2])
        print("ready", flush=True)
        while True:
            run_batch(root, "X" if journal_state(root) == "Y" else "Y")
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv)
