"""Child process for the crash tests: Vault writes in a loop until killed with SIGKILL.

``python writer.py ROOT single``: update a.md back and forth (one atomic replace per write).
``python writer.py ROOT batch``: batches that flip every file between state X and Y, all or nothing.
"""

from __future__ import annotations

import sys

BIG = "x" * 20000


def batch_state(root) -> str:  # type: ignore[no-untyped-def]
    return "Y" if (root / "d.md").exists() else "X"


def main() -> None:
    from pathlib import Path

    import mdstore

    root, mode = Path(sys.argv[1]), sys.argv[2]
    vault = mdstore.open(root, index={"parse_workers": 1}, search={"engine": "none"})
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        if mode == "single":
            vault.update("a.md", set={"state": "X" if i % 2 else "Y"}, body=("X" if i % 2 else "Y") * 5000 + "\n")
        else:
            towards = "X" if batch_state(root) == "Y" else "Y"
            with vault.batch() as b:
                for name in "abc":
                    b.update(f"{name}.md", set={"state": towards}, body=towards + BIG + "\n")
                if towards == "X":
                    b.move("d.md", "e.md", update_links=False)
                    b.create("sub/f.md", {"state": "X"})
                else:
                    b.move("e.md", "d.md", update_links=False)
                    b.delete("sub/f.md", permanent=True)


if __name__ == "__main__":
    main()
