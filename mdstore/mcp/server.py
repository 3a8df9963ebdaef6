"""Building and running the MCP server over one vault.

The server is the SDK's ``MCPServer`` with mdstore's tools (``catalog.py`` says which and with
what hints), the ``note://`` resources and the prompts. Tool calls run on worker threads, one at a
time through the ``Gate``; an ``MdstoreError`` or a bad argument reaches the client as a one-line
tool error (anything else as the SDK's bare "Error executing tool", its traceback in the log).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, MdstoreError
from .catalog import TOOLS, select_tools
from .gate import Gate, note_uri

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ..vault import Vault

INSTRUCTIONS = (
    "Tools over a folder of Markdown notes (an Obsidian-style vault). Find notes with search (full "
    "text) or find (filters on frontmatter, tags, links), read them with read_note, and pass the "
    "hash it returns as if_hash when you edit, so you never overwrite a change you have not seen. "
    "Use remember/recall for long-term memory and log for the session log. Paths are relative to "
    "the vault."
)


def build_server(
    vault: Vault, *, read_only: bool = False, tools: Iterable[str] | str | None = None
) -> MCPServer[Any]:
    """An MCP server over ``vault``. ``tools``: tool names and the words ``default``/``all`` (see
    ``select_tools``); ``read_only`` serves only the tools that change nothing."""
    _need_sdk()

    from .prompts import add_prompts
    from .resources import add_resources

    names = select_tools(tools, read_only=read_only)
    gate = Gate(vault)
    server = _server_class()(
        "mdstore",
        title="mdstore vault",
        version=_version(),
        instructions=INSTRUCTIONS,
        tools=_tools(gate, names),
        lifespan=_lifespan(gate),
        log_level="WARNING",
    )
    add_resources(server, gate)
    add_prompts(server, gate)
    return server


def serve(
    vault: Vault,
    *,
    read_only: bool = False,
    tools: Iterable[str] | str | None = None,
    http_port: int | None = None,
) -> None:
    """Run the server until the client goes away: over stdio, or with ``http_port`` over streamable
    HTTP on 127.0.0.1 (endpoint ``/mcp``)."""
    server = build_server(vault, read_only=read_only, tools=tools)
    if http_port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=http_port)


# -- internals ---------------------------------------------------------------------------------


def _need_sdk() -> None:
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ImportError:
        raise BackendUnavailable("the MCP server needs the mcp package: pip install 'mdstore[mcp]'") from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mdstore")
    except PackageNotFoundError:
        return "0"


def _tools(gate: Gate, names: Sequence[str]) -> list[Any]:
    from mcp.server.mcpserver.tools import Tool
    from mcp.types import ToolAnnotations

    from .readtools import ReadTools
    from .writetools import WriteTools

    holders = (ReadTools(gate), WriteTools(gate))
    out = []
    for name in names:
        fn = next(getattr(h, name) for h in holders if hasattr(h, name))
        hints = TOOLS[name]
        tool = Tool.from_function(
            fn,
            name=name,
            annotations=ToolAnnotations(
                read_only_hint=hints.read_only,
                destructive_hint=hints.destructive,
                idempotent_hint=hints.idempotent,
                open_world_hint=hints.open_world,
            ),
            structured_output=True,
        )
        # Titles repeat the property names: dropping them saves a tenth of tools/list.
        tool.parameters = _untitled(tool.parameters)
        out.append(tool)
    return out


def _untitled(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _untitled(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


def _lifespan(gate: Gate) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(server: Any) -> AsyncIterator[None]:
        import anyio.from_thread
        import anyio.lowlevel
        from mcp.shared.subscriptions import ResourceUpdated

        token = anyio.lowlevel.current_token()
        bus = server._subscriptions_bus

        async def publish(paths: Sequence[str]) -> None:
            for path in dict.fromkeys(paths):
                await bus.publish(ResourceUpdated(uri=note_uri(path)))

        def announce(paths: Sequence[str]) -> None:
            try:
                anyio.from_thread.run(publish, paths, token=token)
            except RuntimeError:  # the event loop is shutting down: nobody is listening any more
                pass

        gate.announce = announce
        subscription = None
        try:
            subscription = gate.vault.subscribe(
                lambda event: announce([p for p in (event.path, event.old_path) if p])
            )
        except BackendUnavailable:
            pass  # no watcher: clients hear of the server's own writes only
        try:
            yield None
        finally:
            gate.announce = None
            if subscription is not None:
                subscription.close()

    return lifespan


@functools.cache
def _server_class() -> Any:
    """The server class: the SDK's, with a bus of our own and one-line argument errors (defined
    here so the SDK loads only when a server is built)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.server.subscriptions import InMemorySubscriptionBus
    from pydantic import ValidationError

    class VaultServer(MCPServer[Any]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._subscriptions_bus = InMemorySubscriptionBus()
            super().__init__(*args, subscriptions=self._subscriptions_bus, **kwargs)

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as exc:
                cause = exc.__cause__
                if isinstance(cause, ValidationError):
                    raise ToolError(f"Error executing tool {name}: {_one_line(cause)}") from None
                if isinstance(cause, MdstoreError):  # the vault's own one-line message
                    raise ToolError(f"Error executing tool {name}: {cause}") from None
                raise

    return VaultServer


def _one_line(exc: Any) -> str:
    """A pydantic validation error as one line naming each bad argument."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"argument {where}: {err['msg']}")
    return "; ".join(parts)
