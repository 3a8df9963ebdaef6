"""Connections to the team database.

A URL is a libpq connection string or ``postgresql://`` URI. Passwords come from ``PGPASSWORD``,
``~/.pgpass`` or a ``${ENV}`` reference expanded by the config; whatever the URL holds, errors and
logs show only :func:`describe`'s ``user@host:port/dbname``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, ConfigError

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 5  # seconds; libpq's connect_timeout (never hang on an unreachable server)
_SECRETS = frozenset({"password", "sslpassword"})  # libpq's keys whose values are secrets
_URI = re.compile(r"postgres(?:ql)?://[^\s'\"<>]*")
_URI_PASSWORD = re.compile(r"^(?P<head>postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@")
_KW_PASSWORD = re.compile(r"(?P<head>\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with any password of a connection string in it replaced by ``***``."""
    text = _URI.sub(_redact_uri, text)
    return _KW_PASSWORD.sub(r"\g<head>***", text)


def _redact_uri(match: re.Match[str]) -> str:
    # libpq percent-decodes a URI's query keys, so "pass%77ord=" is a password as much as "password=".
    head, mark, query = match.group(0).partition("?")
    head = _URI_PASSWORD.sub(r"\g<head>:***@", head)
    if mark:
        query = "&".join(_redact_param(part) for part in query.split("&"))
    return head + mark + query


def _redact_param(part: str) -> str:
    from urllib.parse import unquote

    key, eq, _ = part.partition("=")
    return f"{key}=***" if eq and unquote(key).strip().lower() in _SECRETS else part


def holds_password(url: str) -> bool:
    """Whether ``url`` carries a password (or a client key's), as libpq reads it. A URL libpq
    cannot parse (a ``${ENV}`` reference, say) is judged by its text."""
    if redact(url) != url:
        return True
    psycopg = _driver()
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return False
    return not _SECRETS.isdisjoint(params)


def refuse_password(url: str) -> None:
    """``ConfigError`` if ``url`` (to be written to mdstore.toml) carries a password."""
    if holds_password(url):
        raise ConfigError("the team URL holds a password: keep it in PGPASSWORD or ~/.pgpass instead")


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise BackendUnavailable("the team tier needs psycopg: pip install 'mdstore[team]'") from exc
    return psycopg


def describe(url: str) -> str:
    """``user@host:port/dbname`` of a connection URL, for messages (no password, no options)."""
    psycopg = _driver()
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid team database URL: {redact(str(exc))}") from None
    host = str(params.get("host") or "localhost")
    if host.startswith("/"):
        host = f"socket {host}"
    port = params.get("port") or 5432
    user = params.get("user") or ""
    dbname = params.get("dbname") or user
    return f"{user + '@' if user else ''}{host}:{port}/{dbname}"


def connect(
    url: str,
    *,
    autocommit: bool = False,
    timeout: float = CONNECT_TIMEOUT,
    application_name: str = "mdstore",
) -> psycopg.Connection[Any]:
    """An open psycopg connection, or ``BackendUnavailable`` naming the server (not the password)."""
    psycopg = _driver()
    label = describe(url)
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=max(1, int(timeout)),
            application_name=application_name,
        )
    except psycopg.OperationalError as exc:
        raise BackendUnavailable(f"cannot connect to the team database {label}: {_reason(exc)}") from None
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid team database URL for {label}: {redact(str(exc))}") from None


def first_line(exc: BaseException) -> str:
    """The first line of a database error's message, with any password redacted."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return redact(lines[0].strip() if lines else type(exc).__name__)


def not_allowed(label: str, exc: BaseException, what: str, remedy: str) -> BackendUnavailable:
    """The error for a role that logged in to ``label`` but may not use ``what`` (a permission
    denied), with what to do about it."""
    return BackendUnavailable(f"this role may not use {what} on {label} ({first_line(exc)}): {remedy}")


def _reason(exc: Exception) -> str:
    """libpq's message, first meaningful line only, with any password redacted."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[-1] if lines else type(exc).__name__
    for line in lines:
        if "password authentication failed" in line or "does not exist" in line:
            reason = line
            break
    reason = re.sub(r'^connection to server at "[^"]*" \([^)]*\), port \d+ failed: ', "", reason)
    reason = re.sub(r"^connection to server on socket \"[^\"]*\" failed: ", "", reason)
    return redact(reason)
