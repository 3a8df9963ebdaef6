"""MCP server benchmark: tool-call latency through the SDK's in-memory client (search, read_note,
update_note) against the same ``Vault`` call, start-up to the first answered call, and the size of
``tools/list``.

    python benchmarks/bench_mcp.py [--notes 10000] [--repeat 100] [--reuse]

Runs on a fresh copy of the seeded synthetic vault (benchmarks/genvault.py); prints a table and
writes benchmarks/out/mcp.json. Needs the mcp extra (``pip install -e '.[mcp]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any

from common import OUT, fresh_copy, machine, percentiles, synthetic_vault


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="reuse the indexed copy of the last run")
    args = parser.parse_args()
    import anyio
    from mcp import Client

    import mdstore
    from mdstore.mcp import build_server

    root = OUT / "work" / "mcp"
    reused = args.reuse and (root / ".mdstore").exists()
    if not reused:
        root = fresh_copy(synthetic_vault(args.notes), "mcp")
    vault = mdstore.open(root)
    t0 = time.perf_counter()
    vault.sync()
    sync_key = "sync_reused_index_s" if reused else "cold_index_s"
    results: dict[str, Any] = {"notes": args.notes, sync_key: round(time.perf_counter() - t0, 1)}
    paths = vault.sql("SELECT path FROM notes ORDER BY hash LIMIT 200").column("path")
    titles = vault.sql("SELECT title FROM notes ORDER BY hash LIMIT 80").column("title")
    words = [found[0] for found in (re.findall(r"[a-z]{4,}", t.lower()) for t in titles) if found]
    vault.search(words[0])  # warm the searcher and the related-notes model

    direct: dict[str, list[float]] = {"search": [], "read_note": [], "update_note": []}
    tool: dict[str, list[float]] = {"search": [], "read_note": [], "update_note": []}

    def timed(samples: list[float], fn: Any, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        out = fn(*a, **kw)
        samples.append(time.perf_counter() - t)
        return out

    async def through_client() -> dict[str, Any]:
        started = time.perf_counter()
        server = build_server(vault)
        async with Client(server) as client:
            listed = await client.list_tools()
            first = await client.call_tool("read_note", {"path": paths[0]})
            assert not first.is_error
            first_answer = time.perf_counter() - started
            everything = await Client(build_server(vault, tools="all")).__aenter__()
            all_tools = await everything.list_tools()
            await everything.__aexit__(None, None, None)
            for i in range(args.repeat):
                word, path = words[i % len(words)], paths[i % len(paths)]
                # Alternate the two sides call by call, so both see the same machine load.
                timed(direct["search"], vault.search, word)
                r = await _timed_async(tool["search"], client.call_tool("search", {"query": word}))
                assert not r.is_error, r.content
                timed(direct["read_note"], vault.get, path)
                r = await _timed_async(tool["read_note"], client.call_tool("read_note", {"path": path}))
                assert not r.is_error, r.content
            for i in range(max(10, args.repeat // 3)):
                a, b = paths[2 * i % len(paths)], paths[(2 * i + 1) % len(paths)]
                timed(direct["update_note"], vault.update, a, set={"bench": i})
                call = client.call_tool("update_note", {"path": b, "set": {"bench": i}})
                r = await _timed_async(tool["update_note"], call)
                assert not r.is_error, r.content
        return {"first_answer": first_answer, "default": listed, "all": all_tools}

    got = anyio.run(through_client)
    results["in_process_first_answer_ms"] = round(got["first_answer"] * 1000, 1)
    for name in ("default", "all"):
        tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in got[name].tools]
        chars = len(json.dumps(tools))
        results[f"tools_list_{name}"] = {"tools": len(tools), "chars": chars, "tokens_est": round(chars / 4)}
    for name in tool:
        d50, d99 = percentiles(direct[name])
        t50, t99 = percentiles(tool[name])
        results[name] = {
            "tool_p50_ms": round(t50, 2),
            "tool_p99_ms": round(t99, 2),
            "vault_p50_ms": round(d50, 2),
            "overhead_p50_ms": round(t50 - d50, 2),
            "calls": len(tool[name]),
        }
    vault.close()
    results["stdio_first_answer_ms"] = round(_stdio_first_answer(root, paths[0]) * 1000, 1)
    results["machine"] = machine()
    results["load_average_1m"] = round(os.getloadavg()[0], 1)

    load = results["load_average_1m"]
    print(f"MCP server on {args.notes} notes ({sync_key} {results[sync_key]}, load average {load})")
    print(f"{'tool':<12} {'p50 ms':>8} {'p99 ms':>8} {'Vault p50':>10} {'overhead':>9}")
    for name in tool:
        r = results[name]
        cells = (r["tool_p50_ms"], r["tool_p99_ms"], r["vault_p50_ms"], r["overhead_p50_ms"])
        print(f"{name:<12} {cells[0]:>8} {cells[1]:>8} {cells[2]:>10} {cells[3]:>9}")
    print(f"first answer: in process {results['in_process_first_answer_ms']} ms, "
          f"stdio subprocess {results['stdio_first_answer_ms']} ms")  # fmt: skip
    for name in ("default", "all"):
        r = results[f"tools_list_{name}"]
        print(f"tools/list ({name}): {r['tools']} tools, {r['chars']} chars, ~{r['tokens_est']} tokens")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "mcp.json").write_text(json.dumps(results, indent=2) + "\n")


async def _timed_async(samples: list[float], call: Any) -> Any:
    t = time.perf_counter()
    out = await call
    samples.append(time.perf_counter() - t)
    return out


def _stdio_first_answer(root: Any, path: str, repeat: int = 3) -> float:
    """Median seconds from spawning ``mdstore mcp`` to the answer of its first tool call."""
    import statistics

    import anyio
    from mcp import Client, StdioServerParameters

    async def once() -> float:
        command = ["-m", "mdstore", "--vault", str(root), "mcp"]
        params = StdioServerParameters(command=sys.executable, args=command)
        t = time.perf_counter()
        async with Client(params) as client:
            r = await client.call_tool("read_note", {"path": path})
            assert not r.is_error, r.content
            return time.perf_counter() - t

    return statistics.median(anyio.run(once) for _ in range(repeat))


if __name__ == "__main__":
    main()
