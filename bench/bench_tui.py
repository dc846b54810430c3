"""Explorer UI: first screen, fully loaded, write-to-screen latency, key latency under load.

    python bench/bench_tui.py [--events 100000]

Uses the folder bench_ingest.py generates (bench/out/, made if missing) and runs
the real app headless (Textual's ``run_test``). "Drawn" means the request list's
``render_line`` produced the row: the write is timed from the ``write()`` of the
line, the key from its event reaching the app's queue, as the terminal driver
sends it. The writer of the key phase runs in the same process (as a thread),
so its work competes with the app's for the GIL: a pessimistic setting.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import _ts, generate  # noqa: E402
from textual import events  # noqa: E402
from textual.strip import Strip  # noqa: E402

from dm_explore.tui.app import ExplorerApp  # noqa: E402
from dm_explore.tui.widgets.request_list import RequestList  # noqa: E402


async def load_times(folder: Path) -> tuple[float, float, int]:
    """Seconds to the first drawn request row and to a fully loaded model."""
    t0 = time.perf_counter()
    app = ExplorerApp(folder)
    first = loaded = 0.0
    async with app.run_test(size=(160, 45)) as pilot:
        while True:
            await pilot.pause(0.01)
            rows = len(app.query_one(RequestList).rows)
            if rows and not first:
                first = time.perf_counter() - t0
            if app.loader.loaded:
                loaded = time.perf_counter() - t0
                break
        await pilot.pause(0.3)
        count = len(app.query_one(RequestList).rows)
    return first, loaded, count


def _line(i: int, span: str, kind: str, **fields: object) -> bytes:
    event = {
        "v": 1,
        "ts": _ts(time.time()),
        "event": kind,
        "svc": "live",
        "host": "bench",
        "pid": 1,
        "trace": f"{i + 1:032x}",
        "span": span,
        **fields,
    }
    return orjson.dumps(event) + b"\n"


class Painted:
    """Records when the request list last drew each row (wraps its ``render_line``)."""

    def __init__(self, listing: RequestList) -> None:
        self.listing = listing
        self.at: dict[int, float] = {}  # index of the row in the list -> last drawn
        self.text: dict[int, str] = {}
        draw = listing.render_line

        def render_line(y: int) -> Strip:
            strip = draw(y)
            index = y - 1 + listing.scroll_offset.y
            self.at[index] = time.perf_counter()
            self.text[index] = strip.text
            return strip

        listing.render_line = render_line  # type: ignore[method-assign]

    def drawn_after(self, t0: float, index: int, needle: str = "") -> bool:
        return self.at.get(index, 0.0) > t0 and needle in self.text.get(index, "")


async def live_latency(samples: int = 60) -> tuple[float, float]:
    """Append a request to a live folder; time until its row is drawn on screen."""
    folder = Path(tempfile.mkdtemp(prefix="dm-bench-tui-"))
    path = folder / "live.jsonl"
    path.write_bytes(b"")
    app = ExplorerApp(folder)
    latencies = []
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.5)
        painted = Painted(app.query_one(RequestList))
        with open(path, "ab", buffering=0) as f:
            for i in range(samples):
                t0 = time.perf_counter()
                f.write(
                    _line(i, f"{i + 1:016x}", "request.start", method="GET", path=f"/live/{i}/")
                )
                while not painted.drawn_after(t0, 0, f"/live/{i}/"):
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.05)
    shutil.rmtree(folder, ignore_errors=True)
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95) - 1]


async def key_latency(folder: Path, rate: int = 1000, presses: int = 60) -> tuple[float, float]:
    """With ``rate`` events/s being appended, time from a key event to the moved cursor drawn.

    The key goes straight to the app's queue, as the terminal driver sends it
    (``Pilot.press`` waits for the whole process to look idle, which a busy
    reader thread never does).
    """
    live = folder / "zz-live.jsonl"
    stop = threading.Event()

    def writer() -> None:
        i = 0
        with open(live, "ab", buffering=0) as f:
            while not stop.is_set():
                batch = b"".join(
                    _line(
                        10_000_000 + i + k,
                        f"{10_000_000 + i + k:016x}",
                        "request.start",
                        method="GET",
                        path="/load",
                    )
                    for k in range(rate // 20)
                )
                f.write(batch)
                i += rate // 20
                time.sleep(0.05)

    app = ExplorerApp(folder)
    timings = []
    async with app.run_test(size=(160, 45)) as pilot:
        while not app.loader.loaded:
            await pilot.pause(0.05)
        await pilot.press("f")  # paused: the cursor moves only by keys
        listing = app.query_one(RequestList)
        painted = Painted(listing)
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        await asyncio.sleep(1.0)
        for _ in range(presses):
            before = listing.cursor
            t0 = time.perf_counter()
            app.post_message(events.Key("down", None))
            while listing.cursor == before or not painted.drawn_after(t0, listing.cursor):
                await asyncio.sleep(0.001)
            timings.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05)
        stop.set()
        thread.join()
        requests = len(app.model.requests)
    live.unlink(missing_ok=True)
    timings.sort()
    print(f"  ({requests} requests in the model at the end)")
    return timings[len(timings) // 2], timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    folder = ROOT / "bench" / "out" / f"ingest-{args.events}-20"
    if not (folder / ".complete").exists():
        generate(folder, args.events, 20)
        (folder / ".complete").write_text("ok")
    first, loaded, rows = asyncio.run(load_times(folder))
    print(f"folder {folder.name}: first request row on screen {first:.2f} s,")
    print(f"  fully loaded {loaded:.2f} s ({rows} rows)")
    p50, p95 = asyncio.run(live_latency())
    print(f"write -> row drawn: p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 <= 250)")
    k50, k95 = asyncio.run(key_latency(folder))
    print(f"key -> moved cursor drawn, 1,000 events/s arriving: p50 {k50:.0f} ms, p95 {k95:.0f} ms")
    print("  (target: a key handled within 100 ms)")


if __name__ == "__main__":
    main()
