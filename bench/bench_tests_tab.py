"""The Tests view on a large run: what a refresh costs when nothing, little or much changed.

    python bench/bench_tests_tab.py [--tests 10000] [--arriving 20]

Writes a folder of ``--tests`` tests (one statement each, every fifth with a
request, about 1% failing), opens the real app headless (Textual's ``run_test``)
on it, shows the Tests view, then times, on the UI thread, each including the
DataTable's own measuring and painting that follows (until the app is idle):

- the first build (every row drawn, up to the cap);
- a redraw tick when no test changed (the model's other counters moved);
- ``--arriving`` tests arriving while the view is open (rows added and moved);
- a full rebuild of the same rows (the table cleared), the baseline the
  incremental refresh is compared with, in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dm_explore.tui.app import ExplorerApp  # noqa: E402
from dm_explore.tui.widgets.tests import TestsTable  # noqa: E402
from tests.explore.applying import apply_event  # noqa: E402
from tests.explore.fixtures import Writer  # noqa: E402


def _tests(w: Writer, start: int, count: int) -> Writer:
    for i in range(start, start + count):
        trace, span, second = f"{i + 1:032x}", f"{i + 1:016x}", i * 0.01
        nodeid = f"tests/test_m{i // 100}.py::test_{i}"
        w.ev("test.start", second, trace, span, nodeid=nodeid, worker=f"gw{i % 4}")
        w.ev("sql", second + 0.001, trace, span, sql="SELECT 1", params=[], ms=0.1)
        if i % 5 == 0:
            req = f"{i + 1:08x}00000001"
            w.ev("request.start", second + 0.002, trace, req, parent=span, method="GET", path="/")
            w.ev("request.end", second + 0.003, trace, req, parent=span, ms=1.0, outcome="ok",
                 status=200)  # fmt: skip
        result = "failed" if i % 97 == 0 else "passed"
        w.ev("test.end", second + 0.005, trace, span, nodeid=nodeid, ms=5.0,
             outcome="error" if result == "failed" else "ok", result=result)  # fmt: skip
    return w


async def _settled(pilot: object, t0: float) -> float:
    """Milliseconds from ``t0`` until the app has handled what the refresh queued."""
    await pilot.pause()  # type: ignore[attr-defined]
    return (time.perf_counter() - t0) * 1000


async def run(tests: int, arriving: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "logs"
        _tests(Writer("pytest", 7), 0, tests).write(folder / "pytest.h1.7.jsonl")
        app = ExplorerApp(folder, follow_files=False)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause(0.2)
            table = app.query_one(TestsTable)
            t0 = time.perf_counter()
            app.action_tab("tests")
            first = await _settled(pilot, t0)
            print(f"{tests} tests: first build {first:.0f} ms ({table.row_count} rows drawn)")

            ticks = []
            for _ in range(20):
                app.model.version += 1  # something else changed: no test did
                t0 = time.perf_counter()
                app.redraw(force=True)
                ticks.append(await _settled(pilot, t0))
            print(f"  redraw tick, no test changed: median {statistics.median(ticks):.1f} ms")

            model = app.model
            fid = next(iter(model.files))
            new = _tests(Writer("pytest", 7), tests, arriving)
            for line in new.lines:
                apply_event(model, fid, orjson.loads(line))
            table._at = 0.0  # not throttled: time the refresh itself
            t0 = time.perf_counter()
            app.redraw(force=True)
            incremental = await _settled(pilot, t0)
            print(f"  {arriving} tests arriving: {incremental:.0f} ms")

            model.tests_version += 1
            table._at = 0.0
            table.clear()
            table._shown.clear()
            table._refs.clear()
            t0 = time.perf_counter()
            app.redraw(force=True)
            full = await _settled(pilot, t0)
            print(f"  full rebuild of the same rows (baseline): {full:.0f} ms")
            print(f"  incremental / full: {incremental / full:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--arriving", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.tests, args.arriving))


if __name__ == "__main__":
    main()
