"""The clone's side of a sync: which files the vault holds now, their hashes, and what a pushed
file tells the server besides its bytes (title, frontmatter, tags... for team queries).

Files are listed with the indexer's own walk and ignore rules (``index/scan.py``), so the team
shares exactly the notes and attachments the vault indexes. A file is re-read only when its stat
changed since the last sync (``ClientState.cached_hash``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..notes.model import ParseIssue, content_hash

if TYPE_CHECKING:
    from ..config import Config
    from .state import ClientState


@dataclass(frozen=True)
class LocalFile:
    hash: str
    kind: str  # "note" | "attachment"


@dataclass
class LocalView:
    files: dict[str, LocalFile]
    issues: list[ParseIssue]  # unreadable files, attachments over the size limit: not shared
    protected: list[str]  # folders that could not be listed: their files are not "deleted"


def scan_files(config: Config, state: ClientState) -> LocalView:
    from ..index.scan import IgnoreRules, scan

    listing = scan(config.root, IgnoreRules(config.root, config.vault.ignore), config.vault.extensions)
    files: dict[str, LocalFile] = {}
    issues = list(listing.issues)
    limit = config.team.max_attachment_bytes
    for kind, entries in (("note", listing.notes), ("attachment", listing.attachments)):
        for rel, stat in entries.items():
            if kind == "attachment" and stat.size > limit:
                issues.append(
                    ParseIssue(
                        rel, f"attachment over the team limit of {limit} bytes; not shared", "too-large"
                    )
                )
                continue
            digest = state.cached_hash(rel, stat.mtime, stat.size)
            if digest is None:
                try:
                    digest = content_hash((config.root / rel).read_bytes())
                except OSError as exc:
                    issues.append(ParseIssue(rel, f"cannot read: {exc.strerror or exc}", "unreadable"))
                    continue
                state.remember(rel, stat.mtime, stat.size, digest)
            files[rel] = LocalFile(digest, kind)
    state.seen = {p: v for p, v in state.seen.items() if p in files}
    state.stamp()
    return LocalView(files, issues, list(listing.unreadable))


def describe_note(config: Config, rel: str, data: bytes) -> dict[str, Any]:
    """What the server keeps beside a note's bytes so the team can query it."""
    from ..notes.parse import parse_note

    note = parse_note(rel, data, max_bytes=config.vault.max_note_bytes, link_style=config.vault.link_style)
    return {
        "body": note.body.replace("\x00", ""),
        "frontmatter": note.frontmatter,
        "title": note.title.replace("\x00", ""),
        "headings": "\n".join(h.text for h in note.headings).replace("\x00", ""),
        "tags": [t.replace("\x00", "") for t in note.tags],
        "links": [link.target.replace("\x00", "") for link in note.links],
    }
