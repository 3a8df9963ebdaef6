"""What one team sync did (kept apart from the sync engine so ``import mdstore`` stays light)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TeamSyncReport:
    """What one ``vault.team.sync()`` did."""

    pulled: tuple[str, ...] = ()  # written here from the server (new or changed)
    deleted: tuple[str, ...] = ()  # moved to .trash/ because others deleted them
    moved: tuple[tuple[str, str], ...] = ()  # moves made by others, done here
    merged: tuple[str, ...] = ()  # both sides' edits combined
    pushed: tuple[str, ...] = ()  # local changes the server accepted
    conflicts: tuple[str, ...] = ()  # conflict copies made (keep-both) or paths left (fail)
    skipped: tuple[str, ...] = ()  # "path: why" for files not shared (too large, unreadable, bad name here)
    revision: int = 0  # the space's revision this clone has caught up with
    seconds: float = 0.0

    @property
    def changed_count(self) -> int:
        return len(self.pulled) + len(self.deleted) + len(self.moved) + len(self.pushed)
