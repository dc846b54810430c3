"""``dm-explore mcp``: each tool's answer time on a folder of 1M events (target < 100 ms).

    python bench/bench_mcp.py [--events 1000000] [--files 20] [--rounds 20] [--no-stdio]

The folder is bench_ingest.py's (requests with SQL, logs and panels across ten
services, under bench/out/, reused), plus a file of errors (1,000 exceptions in
50 issues) and management command runs. It prints, per tool, the median and
worst of ``--rounds`` answers built in this process from the loaded model (the
lock taken, the JSON built and capped: what a call costs the server), against
a baseline measured the same way: an answer that reads nothing of the model.
Then, unless ``--no-stdio``, the same calls through a real ``dm-explore mcp``
subprocess and the SDK's stdio client, against a round trip of that baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import generate  # type: ignore[import-not-found]  # noqa: E402


def add_errors_and_commands(folder: Path) -> None:
    """1,000 exceptions in 50 issues, each in a request of its own, and 300 command runs."""
    lines = []
    t = 1_795_000_000.0
    for n in range(1000):
        trace, span = f"{n + 1:032x}", f"{n + 1:016x}"
        env = {"v": 1, "svc": "errsvc", "host": "bench", "pid": 99, "trace": trace, "span": span}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + n)) + ".000000Z"
        lines.append(
            {**env, "ts": stamp, "event": "request.start", "method": "POST", "path": "/pay/"}
        )
        frames = [
            {"file": f"/srv/app/pay{n % 50}.py", "line": 10 + n % 50, "func": "pay",
             "module": f"app.pay{n % 50}", "in_app": True, "src": "total = prices[key]"},
        ]  # fmt: skip
        lines.append({**env, "ts": stamp, "event": "exception", "type": "KeyError",
                      "message": f"'k{n}'", "frames": frames, "fingerprint": f"{n % 50:016x}",
                      "handled": False})  # fmt: skip
        lines.append({**env, "ts": stamp, "event": "request.end", "ms": 3.0, "outcome": "error",
                      "status": 500})  # fmt: skip
    for n in range(300):
        trace, span = f"c{n + 1:031x}", f"c{n + 1:015x}"
        env = {"v": 1, "svc": "jobs", "host": "bench", "pid": 98, "trace": trace, "span": span}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + n)) + ".000000Z"
        lines.append({**env, "ts": stamp, "event": "command.start",
                      "command": f"job{n % 5}", "params": {"n": n}})  # fmt: skip
        lines.append({**env, "ts": stamp, "event": "command.end", "ms": 40.0, "outcome": "ok",
                      "status": "FINISHED"})  # fmt: skip
    with open(folder / "errsvc.bench.99.jsonl", "wb") as out:
        for seq, line in enumerate(lines):
            out.write(orjson.dumps({**line, "seq": seq}) + b"\n")


def folder_for(events: int, files: int) -> Path:
    folder = ROOT / "bench" / "out" / f"ingest-{events}-{files}"
    if not (folder / ".complete").exists():
        print(f"generating {events} events in {folder} ...", flush=True)
        generate(folder, events, files)
        (folder / ".complete").write_text("ok")
    if not (folder / "errsvc.bench.99.jsonl").exists():
        add_errors_and_commands(folder)
    return folder


def calls(model: Any) -> dict[str, dict[str, Any]]:
    """The calls measured: name -> arguments (ids taken from the loaded model)."""
    from dm_explore.model import filter_requests

    busiest = max(list(model.requests.values())[:5000], key=lambda s: s.queries)
    fingerprint = max(model.issues.values(), key=lambda i: i.count).fingerprint
    return {
        "list_requests": {"limit": 50},
        "list_requests text": {"text": "page/42", "limit": 50},
        "list_requests 5xx": {"status": "5xx", "limit": 50},
        "list_requests slow+err": {"slow_ms": 40, "errors": True, "limit": 50},
        "list_requests no match": {"text": "no such path", "limit": 50},
        "get_request": {"span_id": busiest.span_id},
        "get_request (newest)": {"span_id": filter_requests(model)[0].span_id},
        "get_trace": {"trace_id": busiest.trace},
        "list_issues": {"limit": 50},
        "get_issue": {"fingerprint": fingerprint},
        "list_commands": {"limit": 50},
        "tail": {"limit": 100},
        "tail cursor": {"cursor": 0, "limit": 100},
    }


def builder(live: Any, name: str, args: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    from dm_explore.outputs import mcp_tools

    tool = name.split()[0]
    if tool == "tail":
        return lambda model: live.recent.since(args.get("cursor"), args["limit"])
    if tool == "list_requests":
        return lambda model: mcp_tools.list_requests(model, live.newest_first, **args)
    function = getattr(mcp_tools, tool)
    return lambda model: function(model, **args)


def in_process(folder: Path, rounds: int) -> dict[str, dict[str, Any]]:
    from dm_explore.cli.mcp_live import McpFolder

    live = McpFolder(folder)
    t0 = time.perf_counter()
    live.start()
    while not live.loaded:
        time.sleep(0.05)
    print(f"loaded {live.model.totals['events']:,} events in {time.perf_counter() - t0:.1f} s")
    live.stop()
    measured = calls(live.model)
    base = _times(lambda: live.answer(lambda model: {"ok": True}), rounds)
    print(f"\nin process: the answer built and capped, {rounds} rounds (ms)")
    print(f"  {'baseline (reads nothing)':28} median {_ms(base)}")
    for name, args in measured.items():
        build = builder(live, name, args)
        size = len(live.answer(build))
        times = _times(lambda b=build: live.answer(b), rounds)  # type: ignore[misc]
        flag = "" if max(times) < 0.1 else "   OVER 100 ms"
        print(
            f"  {name:28} median {_ms(times)}  worst {max(times) * 1000:7.2f}"
            f"  ({size:,} chars){flag}"
        )
    return measured


def over_stdio(folder: Path, measured: dict[str, dict[str, Any]], rounds: int) -> None:
    import anyio

    from tests.explore.mcp_client import mcp_server

    async def run() -> None:
        async with mcp_server(folder) as agent:
            await agent.until("tail", lambda a: a["source"]["loaded"], timeout=600, limit=0)
            print(f"\nover stdio: a real subprocess and the SDK's client, {rounds} rounds (ms)")
            base = [await _timed(agent.call("tail", limit=0)) for _ in range(rounds)]
            print(f"  {'baseline (tail limit=0)':28} median {_ms(base)}")
            for name, args in measured.items():
                times = [await _timed(agent.call(name.split()[0], **args)) for _ in range(rounds)]
                print(f"  {name:28} median {_ms(times)}  worst {max(times) * 1000:7.2f}")

    anyio.run(run)


async def _timed(call: Any) -> float:
    t0 = time.perf_counter()
    await call
    return time.perf_counter() - t0


def _times(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-stdio", action="store_true", help="only the in-process figures")
    args = parser.parse_args()
    folder = folder_for(args.events, args.files)
    measured = in_process(folder, args.rounds)
    if not args.no_stdio:
        over_stdio(folder, measured, args.rounds)


if __name__ == "__main__":
    main()
