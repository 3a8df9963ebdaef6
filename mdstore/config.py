"""Settings: ``mdstore.toml`` at the vault root < ``MDSTORE_*`` environment < explicit arguments.

This is the only module that reads the environment or the config file; everything else receives a
``Config``. Every key is declared here with its type and default, so an unknown or mistyped key is
a ``ConfigError`` naming it. Environment variables are ``MDSTORE_<SECTION>_<KEY>`` (upper case),
e.g. ``MDSTORE_INDEX_BUSY_TIMEOUT=30``. String values may reference the environment as
``${NAME}`` (the only way secrets enter the config).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from .errors import ConfigError

CONFIG_FILE = "mdstore.toml"
STATE_DIR = ".mdstore"


@dataclass(frozen=True)
class VaultSettings:
    extensions: tuple[str, ...] = (".md",)  # files indexed as notes; others are attachments
    ignore: tuple[str, ...] = ()  # extra gitignore-style patterns, on top of .mdstoreignore/.gitignore
    max_note_bytes: int = 10 * 1024 * 1024  # larger notes are indexed by path only, with an error
    link_style: str = "obsidian"  # "obsidian": [[target|alias]]; "dendron": [[alias|target]]


@dataclass(frozen=True)
class IndexSettings:
    busy_timeout: float = 10.0  # seconds to wait for another process holding the index
    parse_workers: int = 0  # 0 = one per core; 1 = no worker processes
    parallel_threshold: int = 200  # parse in worker processes only when this many files changed
    build_chunk: int = 2000  # notes per commit of a cold build (memory follows the chunk, not the vault)


@dataclass(frozen=True)
class SearchSettings:
    engine: str = "whoosh"  # "whoosh" | "tantivy" | "none"
    related: bool = True  # keep the TF-IDF model behind related() and similar()
    refit_ratio: float = 0.2  # refit the TF-IDF model once this share of the notes changed since the last fit
    refit_min: int = 20  # ... and at least this many notes
    # Apply held-back search changes when the vault closes; false leaves them to the next reader,
    # the daemon or a queued job (the CLI does this: a one-note write need not load scikit-learn).
    flush_at_close: bool = True


@dataclass(frozen=True)
class WatchSettings:
    debounce_ms: int = 150  # a changed path is indexed once it has been quiet this long
    settle_ms: int = 20  # ... or this long after a save completed (file closed after writing, renamed in)
    max_delay_ms: int = 1000  # a path written continuously is still indexed this often
    rescan_interval: float = 300.0  # seconds between full reconciling scans
    storm_threshold: int = 500  # this many waiting paths (git checkout, big copy) become one full scan
    heartbeat_interval: float = 10.0  # seconds between heartbeats in .mdstore/watch.json when idle


@dataclass(frozen=True)
class TierSettings:
    name: str = "local"  # "local" (files, spool queue) or "team" (the team database at [team] url)


@dataclass(frozen=True)
class QueueSettings:
    backend: str = "auto"  # "auto" (the tier's: spool on local, postgres on team), "spool" or "postgres"
    fsync: bool = True  # fsync job files and folders: a state change survives a power cut
    retention_hours: float = 24.0  # finished jobs are deleted after this
    lease_seconds: float = 60.0  # a claimed job returns to the queue if its worker is silent this long
    max_attempts: int = 5  # failed runs before a job is dead
    backoff_seconds: float = 1.0  # first retry delay; doubles per failure, with jitter
    backoff_max_seconds: float = 300.0
    poll_seconds: float = 0.02  # longest sleep of an idle worker between looks at the queue
    message_retention_hours: float = 1.0  # pub/sub messages are deleted after this
    concurrency: int = 1  # jobs one `mdstore worker` runs at once (threads)
    claim_batch: int = 10  # jobs a worker thread claims at once (each its own claim and lease)
    ack_delay_ms: float = 10.0  # longest a finished job's ack waits in the worker's buffer
    watcher_jobs: bool = False  # the watcher enqueues `index` jobs instead of indexing itself
    # "package.module" (its @mdstore.queue.handler functions), "package.module:function" or
    # "kind=package.module:function"
    handlers: tuple[str, ...] = ()


class UnsetReference(str):
    """A setting's text that refers to an environment variable that is not set, kept as written
    (``"${MDSTORE_TEAM_URL}"``) with the error to raise when the setting is used (see ``_DEFERRED``)."""

    error: str

    def __new__(cls, text: str, error: str) -> UnsetReference:
        made = super().__new__(cls, text)
        made.error = error
        return made


@dataclass(frozen=True)
class TeamSettings:
    url: str = ""  # the team database: a libpq URL, usually "${MDSTORE_TEAM_URL}" (never a password)
    space: str = ""  # the shared space this vault belongs to
    policy: str = "keep-both"  # a true overlap of two edits: "keep-both" | "mine" | "theirs" | "fail"
    max_attachment_bytes: int = 25 * 1024 * 1024  # larger attachments stay local (notes have no limit)
    poll_seconds: float = 30.0  # the watcher also pulls this often, in case a notification was missed

    def database_url(self) -> str:
        """``url`` for connecting: a ``ConfigError`` when it refers to an unset ``${NAME}`` (the
        vault itself opens without it: only what needs the team database asks for it)."""
        if isinstance(self.url, UnsetReference):
            raise ConfigError(self.url.error)
        return self.url


@dataclass(frozen=True)
class GitSettings:
    autocommit: str = "off"  # "off" | "write" | "interval"
    autocommit_interval: float = 60.0
    author_name: str = ""
    author_email: str = ""


@dataclass(frozen=True)
class MemorySettings:
    folder: str = "Memory"  # agent memory notes live under this folder (docs/memory.md)
    memory_file: str = "MEMORY.md"  # the note whose generated section Dream refreshes
    embeddings: str = "lsa"  # "lsa" (offline, from the TF-IDF model) | "none"
    dimensions: int = 64  # LSA vector size
    half_life_days: float = 30.0  # recency weight in ranking and Dream's relevance decay
    recency_weight: float = 0.3  # share of an insight's score that recency decides
    vector_weight: float = 0.3  # weight of the vector ranking against the text ranking in the fusion
    entry_vector_weight: float = 0.1  # the same for session entries (search_sessions)
    entry_context_weight: float = 0.1  # weight of the neighbouring turns' words in an entry's text
    flush_entries: int = 512  # session entries (or insights) held in a journal before they go to notes
    part_entries: int = 500  # a session note holds this many entries; the session goes on in a new part
    flush_seconds: float = 1.0  # ... or this long after the first of them was acknowledged
    fsync: bool = False  # fsync each append/insight (power-cut safe); a kill -9 loses nothing either way
    dream_interval_hours: float = 24.0  # the scheduled Dream job runs this often
    dream_min_sessions: int = 5  # ... and only when this many sessions happened since the last one
    dream_window_hours: float = 24.0  # the sessions one Dream looks at
    merge_threshold: float = 0.8  # cosine similarity above which two insights are one
    pattern_min_sessions: int = 3  # a term recurring in this many sessions becomes a pattern insight


@dataclass(frozen=True)
class Config:
    root: Path
    vault: VaultSettings = field(default_factory=VaultSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    tier: TierSettings = field(default_factory=TierSettings)
    git: GitSettings = field(default_factory=GitSettings)
    team: TeamSettings = field(default_factory=TeamSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    collections: dict[str, Any] = field(default_factory=dict)  # [collections.NAME] tables, free-form

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR


_SECTIONS: dict[str, type] = {
    "vault": VaultSettings,
    "index": IndexSettings,
    "search": SearchSettings,
    "watch": WatchSettings,
    "queue": QueueSettings,
    "tier": TierSettings,
    "git": GitSettings,
    "team": TeamSettings,
    "memory": MemorySettings,
}
# Settings that take one of a few words.
_CHOICES: dict[str, tuple[str, ...]] = {
    "vault.link_style": ("obsidian", "dendron"),
    "search.engine": ("whoosh", "tantivy", "none"),
    "git.autocommit": ("off", "write", "interval"),
    "queue.backend": ("auto", "spool", "postgres"),
    "tier.name": ("local", "team"),
    "team.policy": ("keep-both", "mine", "theirs", "fail"),
    "memory.embeddings": ("lsa", "none"),
}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Settings only the team database needs: an unset ${NAME} in one of them is an error when it is
# used (TeamSettings.database_url), not when the vault opens, so a clone whose environment lacks
# the variable still works locally.
_DEFERRED = frozenset({"team.url"})


VAULT_MARKERS = (CONFIG_FILE, STATE_DIR, ".obsidian")
"""What makes a folder a vault: mdstore's own files, or an Obsidian vault's settings folder."""

STATE_GITIGNORE = "# mdstore's indexes and state: rebuilt from the notes, never committed\n*\n"


def find_vault_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``mdstore.toml``, ``.mdstore/`` or
    ``.obsidian/`` (an Obsidian vault is a vault as it is)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (
            (folder / CONFIG_FILE).is_file()
            or (folder / STATE_DIR).is_dir()
            or (folder / ".obsidian").is_dir()
        ):
            return folder
    return None


def in_vault(target: Path, root: Path | None = None) -> Path | None:
    """The root of the vault that ``target`` (resolved) is a file of, or None: the vault at
    ``root``, or by default the one ``find_vault_root`` finds above it. ``.mdstore/`` does not
    count (it is mdstore's, not the user's). A file mdstore writes for the user elsewhere (a
    backup, an export) must not land among the notes as if it were one."""
    target = target.resolve()
    root = root or find_vault_root(target.parent)
    if root is None:
        return None
    root = root.resolve()
    if target.is_relative_to(root) and not target.is_relative_to(root / STATE_DIR):
        return root
    return None


def ensure_state_dir(state_dir: Path) -> None:
    """Create the state folder (if missing) with a ``.gitignore`` of ``*`` in it, so that git never
    sees the indexes, whatever the vault's own ``.gitignore`` says."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ignore = state_dir / ".gitignore"
    if ignore.exists():
        return
    try:
        with open(ignore, "x", encoding="utf-8") as handle:
            handle.write(STATE_GITIGNORE)
    except FileExistsError:
        pass  # another process wrote it meanwhile


def load_config(
    root: Path,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Build the config of the vault at ``root`` from its file, the environment and overrides."""
    environ = os.environ if environ is None else environ
    raw: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    collections: dict[str, Any] = {}
    path = root / CONFIG_FILE
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        for section, values in data.items():
            if section == "collections" and isinstance(values, dict):
                collections = values
                continue
            if section not in _SECTIONS and not isinstance(values, dict):
                raise ConfigError(f"{path}: {_top_level_key(section)}")
            if section not in _SECTIONS:
                raise ConfigError(f"{path}: unknown section [{section}]")
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: [{section}] must be a table")
            raw[section].update(values)
    for name, value in environ.items():
        if not name.startswith("MDSTORE_") or name == "MDSTORE_VAULT":
            continue
        section, _, key = name[len("MDSTORE_") :].lower().partition("_")
        if section in _SECTIONS and key:
            raw[section][key] = value
    for section, values in (overrides or {}).items():
        if section not in _SECTIONS:
            raise ConfigError(f"unknown config section {section!r}")
        raw[section].update(values)
    built = {name: _build_section(name, cls, raw[name], environ) for name, cls in _SECTIONS.items()}
    return Config(root=root, collections=collections, **built)


def _top_level_key(key: str) -> str:
    """Why ``key = ...`` outside any section is refused, and where it belongs if it is a setting."""
    owners = [name for name, cls in _SECTIONS.items() if key in {f.name for f in dataclasses.fields(cls)}]
    if owners:
        where = " or ".join(f"[{name}]" for name in owners)
        return f"unknown top-level key {key!r}: it is a setting of {where}; write it under that section"
    sections = ", ".join(f"[{name}]" for name in _SECTIONS)
    return f"unknown top-level key {key!r}: settings go in a section ({sections})"


def _build_section(name: str, cls: type, values: dict[str, Any], environ: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {name}.{key} (known: {', '.join(sorted(known))})")
        kwargs[key] = _coerce(f"{name}.{key}", hints[key], value, environ)
        choices = _CHOICES.get(f"{name}.{key}")
        if choices and kwargs[key] not in choices:
            raise ConfigError(f"setting {name}.{key}: {kwargs[key]!r} is not one of {', '.join(choices)}")
    return cls(**kwargs)


def _coerce(label: str, hint: Any, value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        try:
            value = _expand(label, value, environ)
        except ConfigError as exc:
            if label not in _DEFERRED:
                raise
            return UnsetReference(value, str(exc))
    text = isinstance(value, str)
    try:
        if hint is bool:
            if text:
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if isinstance(value, bool):
                return value
            raise ValueError
        if hint is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value) if text or isinstance(value, int) else _no(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value) if text or isinstance(value, int | float) else _no(value)
        if hint is str:
            return value if text else _no(value)
        if hint == tuple[str, ...]:
            if text:
                return tuple(part.strip() for part in value.split(",") if part.strip())
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(_expand(label, v, environ) for v in value)
            raise ValueError
    except ValueError:
        pass
    raise ConfigError(f"setting {label}: {value!r} is not a valid {_type_name(hint)}")


def _no(value: Any) -> Any:
    raise ValueError(value)


def _type_name(hint: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(hint, "list of strings")


def _expand(label: str, value: str, environ: Mapping[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"setting {label} refers to ${{{name}}}, which is not set")
        return environ[name]

    return _ENV_REF.sub(sub, value)
