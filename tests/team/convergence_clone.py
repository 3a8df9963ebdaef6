"""One clone of the convergence test, run as its own process: random edits, moves, deletes and
creates on the shared notes, syncing after each, until a deadline. Every edit's unique token is
logged (after its write) so the test can check that none was lost. Killed and restarted at will."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import mdstore
from mdstore.errors import MdstoreError


def main(root: Path, name: str, seed: int, until: float, log: Path) -> None:
    rng = random.Random(f"{seed}-{os.getpid()}")
    vault = mdstore.open(root)
    n = 0
    with open(log, "a", encoding="utf-8") as tokens:
        while time.time() < until:
            notes = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md") if _shared(root, p))
            n += 1
            token = f"tok-{name}-{os.getpid()}-{n}"
            roll = rng.random()
            op = "edit"
            try:
                if not notes or roll < 0.05:
                    path = f"new/{token}.md"
                    (root / "new").mkdir(exist_ok=True)
                    (root / path).write_text(f"# {token}\n\n{token}\n")
                elif roll < 0.10:
                    src = rng.choice(notes)
                    vault.move(src, f"moved/{token}.md", update_links=False)
                    token = ""  # a name, not an edit: a later move renames it again
                elif roll < 0.13:
                    vault.delete(rng.choice(notes))
                    token = ""
                elif roll < 0.55:
                    vault.append(rng.choice(notes), f"- {token}")
                    op = "append"
                else:
                    path = root / rng.choice(notes)
                    lines = path.read_text().splitlines(keepends=True)
                    i = rng.randrange(len(lines))
                    lines.insert(i, f"{token}\n")
                    tmp = path.with_name(f".{path.name}.edit")
                    tmp.write_text("".join(lines))
                    os.replace(tmp, path)  # an editor's atomic save
            except (MdstoreError, OSError, IndexError, ValueError):
                continue  # the note moved or vanished under us: another round
            if token:
                tokens.write(f"{token} {op}\n")
                tokens.flush()
            try:
                vault.team.sync()
            except MdstoreError:
                pass
    vault.close()


def _shared(root: Path, path: Path) -> bool:
    rel = path.relative_to(root).as_posix()
    return not rel.startswith((".mdstore/", ".trash/"))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), Path(sys.argv[5]))
