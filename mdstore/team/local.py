"""The clone's side of a sync: which files the vault holds now, their hashes, and what a pushed
file tells the server besides its bytes (title, frontmatter, tags... for team queries).

Files are listed with the indexer's own walk and ignore rules (``index/scan.py``), so the team
shares exactly the notes and attachments the vault indexes. A file is re-read only when its stat
changed since the last sync (``ClientState.cached_hash``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..notes.model import ParseIssue, file_hash
from ..notes.paths import unportable

if TYPE_CHECKING:
    from ..config import Config
    from ..index.scan import FileStat
    from ..vault import Vault
    from .state import ClientState

FROM_INDEX_AT = 50  # pushes of this many notes take what the vault's index already parsed


class LocalFile(NamedTuple):  # a tuple: one is made per file on every sync
    hash: str
    kind: str  # "note" | "attachment"


class LocalFiles(dict[str, LocalFile]):
    """path → LocalFile, which also keeps ``hashes`` (path → hash): a sync compares that with the
    live bases (state.Bases) in one step to find what changed here."""

    def __init__(
        self, files: dict[str, LocalFile] | None = None, hashes: dict[str, str] | None = None
    ) -> None:
        super().__init__(files or {})
        self.hashes = dict(hashes) if hashes is not None else {p: f.hash for p, f in self.items()}

    def __setitem__(self, key: str, value: LocalFile) -> None:
        super().__setitem__(key, value)
        self.hashes[key] = value.hash

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        del self.hashes[key]

    def pop(self, key: str, *default: Any) -> Any:
        self.hashes.pop(key, None)
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, LocalFile]:
        key, value = super().popitem()
        del self.hashes[key]
        return key, value

    def clear(self) -> None:
        super().clear()
        self.hashes.clear()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


@dataclass
class LocalView:
    files: LocalFiles
    issues: list[ParseIssue]  # unreadable files, attachments over the size limit: not shared
    protected: list[str]  # folders that could not be listed: their files are not "deleted"
    # Files here under a name a clone on Windows could not hold: not shared, but a delete or a
    # move of one on the server still applies to it.
    withheld: dict[str, LocalFile] = field(default_factory=dict)


def not_shared(view: LocalView, state: ClientState) -> list[str]:
    """What stays out of the space, one line each (a sync's ``skipped``, ``team status``'s
    ``not_shared``): this clone's files it does not share, then the server's paths it does not
    hold (``ClientState.withheld``)."""
    lines = [f"{i.path}: {i.message}" for i in view.issues]
    here = {i.path for i in view.issues}
    lines += [f"{path}: {why}" for path, why in sorted(state.withheld.items()) if path not in here]
    return lines


def name_issue(rel: str) -> ParseIssue | None:
    """Why the file ``rel`` is not shared for its name (one a clone on Windows could not hold), or
    None: the rule the vault applies to the names it creates (``notes.paths.unportable``)."""
    why = unportable(rel)
    return None if why is None else ParseIssue(rel, f"not shared: {why}; rename it", "unportable")


@dataclass
class Listing:
    """The last full look at the files, kept with the state in memory: what the walk found and
    what was made of it. The next look starts from it and takes again only the entries whose stat
    changed, those too new to trust their stat, and those that could not be read."""

    notes: dict[str, FileStat]
    attachments: dict[str, FileStat]
    files: dict[str, LocalFile]
    hashes: dict[str, str]
    large: dict[str, ParseIssue]  # attachments over the limit (a function of their size)
    withheld: dict[str, tuple[LocalFile, ParseIssue]]  # names a clone on Windows could not hold
    unreadable: dict[str, ParseIssue]
    recent: dict[str, float]  # path -> mtime of the entries at or after trusted_before
    trusted_before: float
    limit: int


def scan_files(config: Config, state: ClientState) -> LocalView:
    """Every file of the vault with its hash. A file is read only when its stat changed since it
    was last read (``ClientState.cached_hash``); the per-file work follows what changed since the
    last look of this process (``Listing``), only the walk itself visits every file."""
    from ..index.scan import IgnoreRules, scan
    from ..notes.fileio import RACY_SECONDS

    listing = scan(config.root, IgnoreRules(config.root, config.vault.ignore), config.vault.extensions)
    limit = config.team.max_attachment_bytes
    trusted_before = state.seen_at - RACY_SECONDS  # see ClientState.cached_hash
    # Taken apart and updated in place: an error on the way leaves no listing, so the next look
    # starts over.
    last, state.listing = state.listing, None
    if last is None or last.limit != limit or last.trusted_before > trusted_before:
        last = Listing({}, {}, {}, {}, {}, {}, {}, {}, trusted_before, limit)  # (or the clock went back)
    files, hashes, large, withheld = last.files, last.hashes, last.large, last.withheld
    unreadable: dict[str, ParseIssue] = {}
    redo = dict.fromkeys(last.unreadable)
    for now, before in ((listing.notes, last.notes), (listing.attachments, last.attachments)):
        if now == before:  # the common case, compared in one step
            continue
        redo.update((rel, None) for rel, stat in now.items() if before.get(rel) != stat)
        for rel in before.keys() - now.keys():
            files.pop(rel, None)
            hashes.pop(rel, None)
            large.pop(rel, None)
            withheld.pop(rel, None)
    # An entry last seen too soon after its change to trust its stat is looked at again.
    redo.update((rel, None) for rel, mtime in last.recent.items() if mtime >= trusted_before)
    seen = state.seen
    recent: dict[str, float] = {}
    root = os.fspath(config.root)
    for rel in redo:
        files.pop(rel, None)
        hashes.pop(rel, None)
        large.pop(rel, None)
        withheld.pop(rel, None)
        if rel in listing.notes:
            kind = "note"
            mtime, size = listing.notes[rel]
        elif rel in listing.attachments:
            kind = "attachment"
            mtime, size = listing.attachments[rel]
            if size > limit:
                large[rel] = ParseIssue(
                    rel, f"attachment over the team limit of {limit} bytes; not shared", "too-large"
                )
                continue
        else:
            continue  # gone since
        if mtime >= trusted_before:
            recent[rel] = mtime
        issue = name_issue(rel)
        known = seen.get(rel)
        if known is not None and known[0] == mtime and known[1] == size and mtime < trusted_before:
            digest = known[2]
        else:
            try:
                digest = file_hash(os.path.join(root, rel))
            except OSError as exc:
                unreadable[rel] = ParseIssue(rel, f"cannot read: {exc.strerror or exc}", "unreadable")
                continue
            if issue is None:  # (state.seen lists the shared files: refresh_files starts from it)
                state.remember(rel, mtime, size, digest)
        if issue is not None:
            withheld[rel] = (LocalFile(digest, kind), issue)
            continue
        files[rel] = LocalFile(digest, kind)
        hashes[rel] = digest
    if len(seen) > len(files):
        for gone in seen.keys() - files.keys():
            del seen[gone]
    state.stamp()
    state.listing = Listing(
        listing.notes,
        listing.attachments,
        files,
        hashes,
        large,
        withheld,
        unreadable,
        recent,
        trusted_before,
        limit,
    )
    issues = list(listing.issues) + list(large.values()) + [i for _, i in withheld.values()]
    issues += list(unreadable.values())
    kept = {rel: file for rel, (file, _) in withheld.items()}
    return LocalView(LocalFiles(files, hashes), issues, list(listing.unreadable), kept)


def refresh_files(config: Config, state: ClientState, paths: set[str]) -> LocalView:
    """The files as the last scan left them (``state.seen``), with only ``paths`` looked at again:
    what the watcher uses when it knows which files changed."""
    from ..index.scan import IgnoreRules

    exts = tuple(e.lower() for e in config.vault.extensions)

    def kind(rel: str) -> str:
        return "note" if rel.lower().endswith(exts) else "attachment"

    note, attachment = "note", "attachment"
    files = LocalFiles(
        {
            rel: LocalFile(seen[2], note if rel.lower().endswith(exts) else attachment)
            for rel, seen in state.seen.items()
        }
    )
    issues: list[ParseIssue] = []
    withheld: dict[str, LocalFile] = {}
    rules = IgnoreRules(config.root, config.vault.ignore)
    for rel in sorted(paths):
        full = config.root / rel
        try:
            st = full.stat()
        except OSError:
            st = None
        if st is None or not full.is_file() or rules.ignored(rel, is_dir=False):
            files.pop(rel, None)
            state.seen.pop(rel, None)
            continue
        if kind(rel) == "attachment" and st.st_size > config.team.max_attachment_bytes:
            files.pop(rel, None)
            continue
        issue = name_issue(rel)
        digest = state.cached_hash(rel, st.st_mtime, st.st_size) if issue is None else None
        if digest is None:
            try:
                digest = file_hash(os.fspath(full))
            except OSError as exc:
                issues.append(ParseIssue(rel, f"cannot read: {exc.strerror or exc}", "unreadable"))
                continue
        if issue is not None:
            files.pop(rel, None)
            state.seen.pop(rel, None)
            issues.append(issue)
            withheld[rel] = LocalFile(digest, kind(rel))
            continue
        state.remember(rel, st.st_mtime, st.st_size, digest)
        files[rel] = LocalFile(digest, kind(rel))
    return LocalView(files, issues, [], withheld)


def remember_written(config: Config, state: ClientState, rel: str, digest: str) -> None:
    """Record a file this sync just wrote, so the next look does not read it again."""
    try:
        st = (config.root / rel).stat()
    except OSError:
        state.seen.pop(rel, None)
        return
    state.remember(rel, st.st_mtime, st.st_size, digest)


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


def described_by_index(vault: Vault, rels: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """(hash, description) of each note the vault's index holds, for a large push: parsing 10k
    notes again costs seconds, reading what the index parsed a fraction of one. The caller uses an
    entry only when its hash is the one of the bytes pushed."""
    import json

    from ..errors import MdstoreError

    try:
        res = vault.sql(
            "SELECT n.path, n.hash, n.title, n.frontmatter, n.body, "
            "(SELECT list(tag) FROM tags t WHERE t.path = n.path) AS tags, "
            "(SELECT list(target ORDER BY ord) FROM links l WHERE l.path = n.path) AS links, "
            "(SELECT string_agg(text, chr(10) ORDER BY line) FROM headings h WHERE h.path = n.path) AS heads "
            "FROM notes n WHERE n.error IS NULL AND n.path IN (SELECT unnest(?::VARCHAR[]))",
            [rels],
        )
    except MdstoreError:
        return {}  # no usable index: the notes are parsed instead
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, digest, title, front, body, tags, links, heads in res.rows:
        # The index keeps the frontmatter as JSON text: it goes to the server as it is (reading it
        # into Python and writing it out again was a tenth of a large push).
        if front is None or isinstance(front, str):
            text = front.strip() if front else ""
            front_json = "{}" if text in ("", "null") else text
        else:
            front_json = json.dumps(front, default=str, ensure_ascii=False)
        out[path] = (
            digest,
            {
                "body": (body or "").replace("\x00", ""),
                "frontmatter_json": front_json,
                "title": (title or "").replace("\x00", ""),
                "headings": (heads or "").replace("\x00", ""),
                "tags": list(tags or ()),
                "links": list(links or ()),
            },
        )
    return out
