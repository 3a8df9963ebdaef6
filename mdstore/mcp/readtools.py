"""The read tools: each a thin wrapper over one public ``Vault`` read, with paged, trimmed results.

Signatures are the tools' JSON schemas (the SDK reads the annotations), so this module does not
use postponed annotations.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from ..errors import QueryError
from ..notes.fmedit import section_span
from .gate import Gate
from .paging import MAX_DAYS, MAX_LIMIT, MAX_TEXT, check_page, clip, page, plain

Path = Annotated[str, Field(description="Note path, or a name resolved like a [[wikilink]]")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size")]
Offset = Annotated[int, Field(ge=0, description="Start of the page (next_offset of the last call)")]
Filters = Annotated[
    list[str] | None,
    Field(description='Filter strings, e.g. ["status = active", "priority >= 2", "#project"]'),
]

_FIND_COLUMNS = ("path", "title", "modified", "tags", "frontmatter")


class ReadTools:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def search(
        self,
        query: Annotated[str, Field(description='Full-text query: words, "phrases", OR, -not, title:word')],
        filters: Filters = None,
        tag: str | None = None,
        folder: str | None = None,
        limit: Limit = 10,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Ranked full-text search with highlighted snippets; filters as in find."""
        with self.gate.use(index=True) as vault:
            res = vault.search(query, *(filters or ()), tag=tag, folder=folder, limit=limit, offset=offset)
        out = page(res.to_dicts(), offset, limit, total=res.total)
        out["next_offset"] = out["next_offset"] if out.get("truncated") else res.next_offset
        if res.suggestions:
            out["suggestions"] = list(res.suggestions)
        return out

    def find(
        self,
        filters: Filters = None,
        tag: str | None = None,
        folder: Annotated[str | None, Field(description="This folder and below")] = None,
        sort: Annotated[str | None, Field(description='e.g. "-priority,title" or "-modified"')] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Notes matching the filter language (frontmatter keys, tags, links, dates)."""
        with self.gate.use(index=True) as vault:
            res = vault.find(
                *(filters or ()), tag=tag, folder=folder, sort=sort, limit=limit + 1, offset=offset
            )
        return page([{c: row[c] for c in _FIND_COLUMNS} for row in res], offset, limit)

    def read_note(
        self,
        path: Path,
        section: Annotated[
            str | None, Field(description='Only this heading\'s section ("Log" or "## Log")')
        ] = None,
        offset: Offset = 0,
        max_chars: Annotated[int, Field(ge=1, le=MAX_TEXT)] = MAX_TEXT,
    ) -> dict[str, Any]:
        """A note's frontmatter and body (or one section). Pass its hash as if_hash when editing."""
        with self.gate.use() as vault:
            note = vault.get(path)
        body = note.body
        if section is not None:
            span = section_span(body, section)
            if span is None:
                raise QueryError(f"{note.path} has no heading {section!r}")
            body = body[span[1] : span[2]]
        out: dict[str, Any] = {
            "path": note.path,
            "title": note.title,
            "hash": note.hash,
            "frontmatter": plain(note.frontmatter),
            "tags": list(note.tags),
        }
        if section is None:
            out["headings"] = [f"{'#' * h.level} {h.text}" for h in note.headings]
        if note.error:
            out["error"] = note.error
        return out | clip(body, offset, max_chars)

    def list_notes(
        self,
        folder: Annotated[str, Field(description='Folder path; "" is the vault root')] = "",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Browse a folder: its notes and its subfolders (with note counts)."""
        folder = folder.strip().strip("/")
        check_page(limit, offset)
        with self.gate.use(index=True) as vault:
            notes = vault.sql(
                "SELECT path, title FROM notes WHERE folder = ? ORDER BY path LIMIT ? OFFSET ?",
                [folder, limit + 1, offset],
            )
            prefix = f"{folder}/" if folder else ""
            subfolders = vault.sql(
                "SELECT name, count(*) AS notes FROM (SELECT split_part(substr(folder, length($p) + 1), "
                "'/', 1) AS name FROM notes WHERE folder <> '' AND starts_with(folder, $p) AND folder <> $f) "
                "GROUP BY name ORDER BY name LIMIT 500",
                {"p": prefix, "f": folder},
            )
        out = page(notes.to_dicts(), offset, limit)
        out["folders"] = [{"path": prefix + r["name"], "notes": r["notes"]} for r in subfolders]
        return {"folder": folder} | out

    def links(
        self,
        path: Path,
        kind: Annotated[
            Literal["backlinks", "outlinks", "related"],
            Field(description="backlinks: notes linking here; outlinks: links in it; related: similar text"),
        ] = "backlinks",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """A note's backlinks, outgoing links or most similar notes."""
        check_page(limit, offset)
        with self.gate.use(index=True) as vault:
            if kind == "backlinks":
                res = vault.backlinks(path)
            elif kind == "outlinks":
                res = vault.outlinks(path)
            else:
                res = vault.related(path, k=offset + limit + 1)
        return page(res.to_dicts()[offset : offset + limit + 1], offset, limit, total=len(res))

    def tags(self, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        """Every tag with its number of notes, most used first."""
        check_page(limit, offset)
        with self.gate.use(index=True) as vault:
            res = vault.tags()
        return page(res.to_dicts()[offset : offset + limit + 1], offset, limit, total=len(res))

    def tasks(
        self,
        done: Annotated[bool | None, Field(description="true: checked; false: open")] = None,
        path: Annotated[str | None, Field(description="Only this note")] = None,
        folder: str | None = None,
        tag: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Markdown tasks (- [ ] / - [x]) with their note, line and section."""
        check_page(limit, offset)
        with self.gate.use(index=True) as vault:
            res = vault.tasks(done=done, path=path, folder=folder, tag=tag, limit=offset + limit + 1)
        return page(res.to_dicts()[offset:], offset, limit)

    def recent_changes(
        self,
        days: Annotated[
            int, Field(ge=1, le=MAX_DAYS, description="Changed in the last this many days (up to a century)")
        ] = 7,
        folder: str | None = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Notes modified recently, newest first."""
        since = dt.date.today() - dt.timedelta(days=days)
        with self.gate.use(index=True) as vault:
            res = vault.find(
                modified_after=since, folder=folder, sort="-modified", limit=limit + 1, offset=offset
            )
        return page([{c: row[c] for c in ("path", "title", "modified")} for row in res], offset, limit)

    def sql(
        self,
        query: Annotated[str, Field(description="One read-only SELECT over notes, tags, links, tasks, ...")],
        params: Annotated[list[Any] | None, Field(description="Values for ? placeholders")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Read-only SQL over the index (tables: notes, tags, links, tasks, headings, properties)."""
        check_page(limit, offset)
        with self.gate.use(index=True) as vault:
            res = vault.sql(query, params)
        rows = res.to_dicts()
        return {"columns": list(res.columns)} | page(
            rows[offset : offset + limit + 1], offset, limit, len(rows)
        )

    def history(
        self,
        path: Path,
        mode: Annotated[
            Literal["log", "diff"], Field(description="log: commits; diff: unified diff")
        ] = "log",
        rev_a: Annotated[str, Field(description="diff from this revision")] = "HEAD",
        rev_b: Annotated[str | None, Field(description="diff to this revision (none: the file now)")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """A note's git history (commits, renames followed) or a diff between revisions."""
        check_page(limit, offset)
        with self.gate.use() as vault:
            if mode == "diff":
                return {"path": path} | clip(vault.diff(path, rev_a, rev_b), offset)
            revs = vault.history(path, limit=offset + limit + 1)
        rows = [
            {
                "rev": r.short,
                "date": r.date,
                "author": r.author,
                "kind": r.kind,
                "path": r.path,
                "subject": r.subject,
            }
            for r in revs[offset:]
        ]
        return page(rows, offset, limit)

    def status(self) -> dict[str, Any]:
        """What the index holds: note, link and error counts, last sync, search engine, watcher."""
        with self.gate.use() as vault:
            return dict(plain(vault.status()))
