"""Huge and hostile folders: the figures behind docs/reliability.md's attack table.

    python bench/bench_scale.py [--spans 1000000] [--depth 100000] [--bomb 100000000]

- the trace view of a ``--spans`` trace: ``t`` to the first drawn line, Esc back
  to the request list (the real app headless, Textual's ``run_test``), once
  loaded and while loading;
- ``tree`` and the trace view of a ``--depth``-level chain;
- a decompression bomb (``--bomb`` lines of ``x``) and 20M bare newlines, read
  by ``summary`` in a subprocess under ``resource.setrlimit`` (RLIMIT_AS 1 GiB):
  peak resident memory and time;
- ``tail -n 3 --no-follow`` on a small file and on one 100 times its size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.strip import Strip  # noqa: E402

from dm_explore.ingest import load_folder  # noqa: E402
from dm_explore.tui.app import ExplorerApp  # noqa: E402
from dm_explore.tui.screens.trace import TraceScreen  # noqa: E402
from dm_explore.tui.widgets.trace_lines import TraceLines  # noqa: E402
from tests.reliability.shapes import write_bomb, write_chain, write_wide  # noqa: E402

_MEASURED = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from dm_explore.cli.main import main
t = time.perf_counter()
try:
    main(["summary", sys.argv[1]])
finally:
    # VmHWM: this process's own peak (ru_maxrss would include the parent's, from before exec)
    status = open("/proc/self/status").read()
    rss = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(f"@@ {time.perf_counter() - t:.2f} {rss:.0f}", file=sys.stderr)
"""


async def trace_view_times(folder: Path, repeat: int = 5) -> tuple[float, float, int]:
    """Median seconds from the ``t`` key to the trace's lines drawn, and from Esc to the list's.

    The keys go straight to the app's queue, as the terminal driver sends them
    (``Pilot.press`` also waits for the app to look idle); "drawn" is the
    widget's ``render_line`` producing a line after the key; "back" is the request
    list being the screen again (Textual keeps its lines: it draws none anew).
    """
    drawn: dict[str, float] = {}
    draw_trace = TraceLines.render_line

    def trace_line(self: TraceLines, y: int) -> Strip:
        strip = draw_trace(self, y)
        if self.rows:
            drawn["trace"] = time.perf_counter()
        return strip

    TraceLines.render_line = trace_line  # type: ignore[method-assign]
    opened, back = [], []
    app = ExplorerApp(folder, follow_files=False)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause(0.3)
            rows = 0
            for _ in range(repeat):
                t0 = drawn["key"] = time.perf_counter()
                app.post_message(events.Key("t", "t"))
                await _until(lambda: drawn.get("trace", 0.0) > drawn["key"], "the trace drawn")
                opened.append(drawn["trace"] - t0)
                rows = len(app.screen.query_one(TraceLines).rows)
                await asyncio.sleep(0.3)
                t0 = time.perf_counter()
                app.post_message(events.Key("escape", None))
                await _until(lambda: not isinstance(app.screen, TraceScreen), "the list back")
                back.append(time.perf_counter() - t0)
                await asyncio.sleep(0.3)
    finally:
        TraceLines.render_line = draw_trace  # type: ignore[method-assign]
    return statistics.median(opened), statistics.median(back), rows


async def _until(done: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.001)


async def trace_view_while_loading(folder: Path) -> tuple[float, float, float]:
    """``t`` pressed as soon as the request is listed, while the folder still loads.

    Seconds from the key to the trace's lines drawn, from Esc to the list again, and
    the whole load; the reader goes on between the view's redraws.
    """
    drawn: dict[str, float] = {}
    draw_trace = TraceLines.render_line

    def trace_line(self: TraceLines, y: int) -> Strip:
        drawn["trace"] = time.perf_counter()
        return draw_trace(self, y)

    TraceLines.render_line = trace_line  # type: ignore[method-assign]
    begin = time.perf_counter()
    app = ExplorerApp(folder)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await _until(lambda: bool(app.model.requests), "the request listed")
            await pilot.pause(0.2)
            t0 = time.perf_counter()
            app.post_message(events.Key("t", "t"))
            await _until(lambda: drawn.get("trace", 0.0) > t0, "the trace drawn")
            opened = drawn["trace"] - t0
            await asyncio.sleep(1.0)
            t0 = time.perf_counter()
            app.post_message(events.Key("escape", None))
            await _until(lambda: not isinstance(app.screen, TraceScreen), "the list back")
            back = time.perf_counter() - t0
            await _until(lambda: app.loader.loaded, "the folder loaded", timeout=600)
            loaded = time.perf_counter() - begin
    finally:
        TraceLines.render_line = draw_trace  # type: ignore[method-assign]
    return opened, back, loaded


def timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0


def summary_under_limit(folder: Path) -> tuple[float, float]:
    """(seconds, peak MiB) of ``summary`` in a subprocess limited to 1 GiB of address space."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(folder)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    figures = [line for line in done.stderr.splitlines() if line.startswith("@@ ")][-1]
    seconds, rss = figures.split()[1:]
    return float(seconds), float(rss)


def _view(opened: float, back: float, rows: int) -> str:
    return (
        f"  trace view: t -> drawn {opened * 1000:.0f} ms ({rows} rows), Esc {back * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--depth", type=int, default=100_000)
    parser.add_argument("--bomb", type=int, default=100_000_000)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "dm_explore.cli"]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        wide = base / "wide"
        write_wide(wide / "web.jsonl", args.spans)
        size = (wide / "web.jsonl").stat().st_size / 2**20
        t0 = time.perf_counter()
        load_folder(wide)
        loaded = time.perf_counter() - t0
        print(f"wide trace: {args.spans} spans, {size:.0f} MiB, loaded in {loaded:.1f} s")
        print(_view(*asyncio.run(trace_view_times(wide))))
        opened, back, loaded = asyncio.run(trace_view_while_loading(wide))
        print(f"  while loading: t -> drawn {opened * 1000:.0f} ms, Esc {back * 1000:.0f} ms,")
        print(f"  the whole load {loaded:.1f} s with the view opened and closed")
        print(f"  tree: {timed([*cli, 'tree', str(wide), 'abab']):.1f} s")

        deep = base / "deep"
        write_chain(deep / "web.jsonl", args.depth)
        print(f"deep chain: {args.depth} levels")
        print(f"  tree: {timed([*cli, 'tree', str(deep), 'abab']):.1f} s")
        print(_view(*asyncio.run(trace_view_times(deep))))

        bomb = base / "bomb"
        write_bomb(bomb / "bomb.jsonl.gz", args.bomb)
        packed = (bomb / "bomb.jsonl.gz").stat().st_size / 1024
        seconds, rss = summary_under_limit(bomb)
        print(f"bomb: {packed:.0f} KiB of gzip -> {args.bomb} lines of x")
        print(f"  summary {seconds:.1f} s, peak {rss:.0f} MiB (RLIMIT_AS 1 GiB)")
        newlines = base / "newlines"
        write_bomb(newlines / "nl.jsonl.gz", 20_000_000, b"\n")
        seconds, rss = summary_under_limit(newlines)
        print(f"20M bare newlines (gz): summary {seconds:.1f} s, peak {rss:.0f} MiB")

        small, big = base / "small", base / "big"
        write_wide(small / "web.jsonl", 10_000)
        write_wide(big / "web.jsonl", 1_000_000)
        tail_small = timed([*cli, "tail", "-n", "3", "--no-follow", str(small)])
        tail_big = timed([*cli, "tail", "-n", "3", "--no-follow", str(big)])
        print(f"tail -n 3 --no-follow: 10k-line file {tail_small:.2f} s,")
        print(f"  1M-line file {tail_big:.2f} s (ratio {tail_big / tail_small:.2f})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bench peak rss {rss:.0f} MiB")


if __name__ == "__main__":
    main()
