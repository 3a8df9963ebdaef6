"""The write and memory tools: thin wrappers over ``Vault.create/update/append/move/delete`` and
``vault.memory``. Every note edit can carry ``if_hash`` (the hash ``read_note`` returned), so an
agent never overwrites an edit it has not seen. No tool deletes for good: delete goes to the trash.

Signatures are the tools' JSON schemas, so this module does not use postponed annotations.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from ..errors import NoteNotFound, QueryError, WriteConflict
from ..memory.records import CATEGORIES, SOURCES, InsightFilter
from ..notes.fmedit import section_span
from .gate import Gate
from .paging import MAX_LIMIT, plain

IfHash = Annotated[
    str | None, Field(description="Hash from read_note: refuse the write if the note changed since")
]
Path = Annotated[str, Field(description="Note path (.md is added when missing)")]
User = Annotated[str, Field(description="Whose memory")]


class WriteTools:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def create_note(
        self,
        path: Path,
        body: str = "",
        frontmatter: dict[str, Any] | None = None,
        template: Annotated[str | None, Field(description="A note of templates/ to start from")] = None,
    ) -> dict[str, Any]:
        """Create a note; never overwrites an existing one."""
        with self.gate.use() as vault:
            note = vault.create(path, frontmatter, body, template=template)
        self.gate.wrote(note.path)
        return {"path": note.path, "hash": note.hash}

    def update_note(
        self,
        path: Path,
        mode: Annotated[
            Literal["replace", "append", "prepend", "replace_section"] | None,
            Field(description="What to do with text: replace the body, append, prepend, replace a section"),
        ] = None,
        text: str | None = None,
        section: Annotated[
            str | None, Field(description='Heading ("Log" or "## Log"): append under it, or replace_section')
        ] = None,
        set: Annotated[dict[str, Any] | None, Field(description="Frontmatter keys to set")] = None,  # noqa: A002
        unset: Annotated[list[str] | None, Field(description="Frontmatter keys to remove")] = None,
        if_hash: IfHash = None,
    ) -> dict[str, Any]:
        """Edit a note: frontmatter keys and/or the body. Only the touched bytes change."""
        if (mode is None) != (text is None):
            raise QueryError(
                "update_note: give mode and text together (or neither, to edit only frontmatter)"
            )
        if mode == "replace_section" and not section:
            raise QueryError("update_note: replace_section needs section (a heading)")
        body: str | None = text if mode == "replace" else None
        with self.gate.use() as vault:
            if mode in ("prepend", "replace_section"):
                current = vault.get(path)
                if if_hash is not None and if_hash != current.hash:
                    raise WriteConflict(f"{current.path} changed since it was read (hash {if_hash[:12]}...)")
                body = _edited_body(current.body, mode, text or "", section, current.path)
                note = vault.update(current.path, set, unset or (), body, if_hash=current.hash)
            else:
                try:
                    note = vault.update(path, set, unset or (), body, if_hash=if_hash)
                except NoteNotFound:  # a name, resolved like a wikilink
                    note = vault.update(vault.get(path).path, set, unset or (), body, if_hash=if_hash)
                if mode == "append":
                    note = vault.append(note.path, text or "", section, if_hash=note.hash)
        self.gate.wrote(note.path)
        return {"path": note.path, "hash": note.hash}

    def move_note(
        self,
        src: Path,
        dst: Annotated[str, Field(description="New path, or an existing folder")],
        update_links: Annotated[bool, Field(description="Rewrite links to it in other notes")] = True,
        if_hash: IfHash = None,
    ) -> dict[str, Any]:
        """Move or rename a note (or folder); links to it are rewritten. Never overwrites."""
        with self.gate.use() as vault:
            if if_hash is not None:
                current = vault.get(src)
                if current.hash != if_hash:
                    raise WriteConflict(f"{current.path} changed since it was read (hash {if_hash[:12]}...)")
            report = vault.move(src, dst, update_links=update_links)
        self.gate.wrote(*(p for pair in report.moved for p in pair), *report.rewritten)
        return {
            "moved": [list(pair) for pair in report.moved],
            "rewritten": list(report.rewritten),
            "links": report.links,
            "skipped": list(report.skipped),
        }

    def delete_note(self, path: Path, if_hash: IfHash = None) -> dict[str, Any]:
        """Move a note to the vault's .trash/ folder (it can be restored from there)."""
        with self.gate.use() as vault:
            rel = vault.get(path).path
            vault.delete(rel, if_hash=if_hash)
        self.gate.wrote(rel)
        return {"deleted": rel, "trash": True}

    # -- memory ---------------------------------------------------------------------------------

    def remember(
        self,
        content: Annotated[str, Field(description="The insight, in a sentence or two")],
        category: Literal[CATEGORIES] = "general",  # type: ignore[valid-type]
        user: User = "default",
        source: Literal[SOURCES] = "agent",  # type: ignore[valid-type]
        relevance: Annotated[float, Field(ge=0, le=1)] = 1.0,
    ) -> dict[str, Any]:
        """Store an insight in long-term memory (the same content again returns the stored one)."""
        with self.gate.use() as vault:
            insight = vault.memory.store_insight(
                content, user=user, source=source, category=category, relevance=relevance
            )
            # Insights are written behind; the note is announced, so it must exist first.
            vault.memory.flush()
        self.gate.wrote(insight.path)
        return dict(plain(insight.to_dict())) | {"path": insight.path}

    def recall(
        self,
        query: str,
        user: str | None = None,
        category: Literal[CATEGORIES] | None = None,  # type: ignore[valid-type]
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 10,
    ) -> dict[str, Any]:
        """Search stored insights: text match x relevance x recency."""
        with self.gate.use() as vault:
            found = vault.memory.search_insights(query, limit, InsightFilter(user=user, category=category))
        return {"insights": [plain(i.to_dict()) | {"score": i.score, "path": i.path} for i in found]}

    def log(
        self,
        session: Annotated[str, Field(description="Session id; one log note per session")],
        content: str,
        role: str = "agent",
    ) -> dict[str, Any]:
        """Append an entry to a session log (durable when this returns)."""
        with self.gate.use() as vault:
            entry = vault.memory.log(session).append(content, role=role)
        return dict(plain(entry.to_dict())) | {"session": session}

    def get_preferences(
        self,
        user: User = "default",
        key: Annotated[str | None, Field(description="One key (else all)")] = None,
    ) -> dict[str, Any]:
        """A user's stored preferences (all, or one key)."""
        with self.gate.use() as vault:
            if key is None:
                return {"user": user, "preferences": plain(vault.memory.list_preferences(user))}
            return {"user": user, "key": key, "value": plain(vault.memory.get_preference(user, key))}

    def set_preference(
        self, key: str, value: Any, user: User = "default", category: str | None = None
    ) -> dict[str, Any]:
        """Set one preference of a user (replaces its previous value)."""
        with self.gate.use() as vault:
            vault.memory.set_preference(user, key, value, category)
        return {"user": user, "key": key, "value": plain(value)}


def _edited_body(body: str, mode: str, text: str, section: str | None, path: str) -> str:
    """The body with ``text`` prepended, or put in place of a section's content."""
    body = body.replace("\r\n", "\n")  # update() writes each \n in the file's own line ending
    if text and not text.endswith("\n"):
        text += "\n"
    if mode == "prepend":
        return text + body
    span = section_span(body, section or "")
    if span is None:
        raise QueryError(f"{path} has no heading {section!r}")
    if span[2] < len(body) and not text.endswith("\n\n"):
        text += "\n"  # keep the blank line before the next heading
    return body[: span[1]] + text + body[span[2] :]
