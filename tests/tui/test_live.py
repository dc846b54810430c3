"""The explorer on a folder that grows while it is open: rows, details and traces follow."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Markdown, Static, TabbedContent, Tree

from dm_explore.ingest import FolderReader
from dm_explore.model import Model
from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets.nav import LocatedList
from dm_explore.tui.widgets.request_list import RequestList
from dm_explore.tui.widgets.trace_lines import TraceLines
from tests.explore.fixtures import T1, Writer

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (140, 40)
REQ, CHILD = "5000000000000001", "5000000000000002"


def _append(path: Path, writer: Writer) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(writer.lines))
    writer.lines.clear()


async def _until(pilot: Pilot[int], check: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never showed it")


def _requests(count: int, start: int = 0) -> Writer:
    w = Writer("api", 7)
    for i in range(start, start + count):
        span = f"{0x6000000000000000 + i:016x}"
        w.ev("request.start", 10.0 + i, T1, span, method="GET", path=f"/r{i}/")
        w.ev("request.end", 10.1 + i, T1, span, ms=100.0, outcome="ok", status=200)
    return w


def _paths(app: ExplorerApp) -> list[str]:
    return [s.start["path"] for s in app.screen_stack[0].query_one(RequestList).rows]


async def test_cursor_keeps_its_request_while_newer_ones_arrive(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    path = _requests(3).write(folder / "api.jsonl")
    app = ExplorerApp(folder, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: len(_paths(app)) == 3)
        listing = app.query_one(RequestList)
        await pilot.press("down")
        assert listing.current is not None and listing.current.start["path"] == "/r1/"
        _append(path, _requests(2, start=3))
        await _until(pilot, lambda: len(_paths(app)) == 5)
        assert _paths(app)[0] == "/r4/"
        assert listing.current.start["path"] == "/r1/" and listing.cursor == 3
        await pilot.press("f", "f")  # follow off, on again: back to the newest
        _append(path, _requests(1, start=5))
        await _until(pilot, lambda: len(_paths(app)) == 6)
        assert listing.cursor == 0 and listing.current.start["path"] == "/r5/"


async def test_in_flight_request_detail_and_trace_update_live(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    w = Writer("api", 7)
    w.ev("request.start", 1.0, T1, REQ, method="POST", path="/slow/")
    path = w.write(folder / "api.jsonl")
    w.lines.clear()
    app = ExplorerApp(folder, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: _paths(app) == ["/slow/"])
        line = "".join(seg.text for seg in app.query_one(RequestList).render_line(1))
        assert "/slow/" in line and "…" in line  # in flight: no status, no duration yet
        await pilot.press("enter")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        overview = screen.query_one("#overview", Static)
        assert "in flight" in str(overview.render())
        w.ev("sql", 1.1, T1, REQ, sql="SELECT 1", params=[], ms=1.0)
        w.ev("request.end", 1.5, T1, REQ, ms=500.0, outcome="ok", status=201)
        _append(path, w)
        await _until(pilot, lambda: "1 statements" in str(overview.render()))
        assert screen.query_one("#sql-table", DataTable).row_count == 1
        await pilot.press("t")
        await pilot.pause(0.1)
        trace_screen = app.screen
        assert isinstance(trace_screen, TraceScreen)
        lines = trace_screen.query_one(TraceLines)
        assert [(r.depth, r.span.span_id) for r in lines.rows] == [(0, REQ)]
        w.ev("span.start", 2.0, T1, CHILD, REQ, name="late.work")
        _append(path, w)
        await _until(pilot, lambda: len(lines.rows) == 2)
        assert (lines.rows[1].depth, lines.rows[1].span.name) == (1, "late.work")
        assert "late.work" in str(lines.label(lines.rows[1]))


async def test_every_panel_type_and_child_span_logs_and_exceptions(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    w = Writer("api", 7)
    w.ev("request.start", 1.0, T1, REQ, method="GET", path="/p/")
    hostile = "[red]x[/red] \x1b[31mred\x1b]0;title\x07 \u202eevil"
    panels: list[dict[str, Any]] = [
        {"type": "text", "content": hostile},
        {"type": "markdown", "content": "# Title\n\n**bold** " + hostile},
        {"type": "code", "lang": "python", "content": "def f():\n    return '[red]x[/red]'\n"},
        {"type": "kv", "content": {"user": hostile, "seats": 3}},
        {"type": "table", "columns": ["a", "b"], "content": [[1, hostile], [2, "y"]]},
        {"type": "json", "content": {"nested": {"list": [1, 2, {"deep": hostile}]}}},
    ]
    for second, panel in enumerate(panels):
        w.ev("panel", 1.1 + second / 100, T1, REQ, panel=f"P{second}", op="append", **panel)
    w.ev("span.start", 1.2, T1, CHILD, REQ, name="build.report")
    w.ev("log", 1.21, T1, CHILD, level="error", msg="report half empty", logger="reports")
    exc = {"type": "ValueError", "message": "no rows", "fingerprint": "00aa11bb22cc33dd"}
    w.ev("exception", 1.22, T1, CHILD, mechanism="logging", handled=True, frames=[], **exc)
    w.ev("span.end", 1.3, T1, CHILD, ms=100.0, outcome="error", name="build.report")
    w.ev("request.end", 1.5, T1, REQ, ms=500.0, outcome="ok", status=200)
    w.write(folder / "api.jsonl")
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        app.open_span(REQ)
        await pilot.pause(0.1)
        screen = app.screen
        logs = screen.query_one("#logs", LocatedList).plain_text()  # the child span's, marked
        assert "report half empty" in logs and "[build.report]" in logs
        exceptions = screen.query_one("#exceptions", LocatedList).plain_text()
        assert "in span build.report" in exceptions and "ValueError" in exceptions
        screen.query_one(TabbedContent).active = "tab-panels"
        await pilot.pause(0.1)
        text = str(screen.query_one(".panel-text", Static).render())
        assert "[red]x[/red]" in text and "\\x1b[31m" in text and "\\u202e" in text
        assert "\x1b" not in text and "\u202e" not in text
        markdown = screen.query_one(".panel-markdown", Markdown)
        assert "**bold**" in markdown.source and "\x1b" not in markdown.source
        assert screen.query(".panel-code")
        tables = list(screen.query(".panel-table").results(DataTable))
        assert [t.row_count for t in tables] == [2, 2]  # kv, then table
        assert str(tables[0].get_row_at(0)[1]).startswith("[red]x[/red]")
        tree = screen.query_one(".panel-json", Tree)
        labels: list[str] = []

        def walk(node: Any) -> None:
            for child in node.children:
                labels.append(str(child.label))
                walk(child)

        walk(tree.root)
        assert "nested" in labels and any("deep: [red]x[/red]" in label for label in labels)


async def test_command_palette_switches_views_and_filters(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    _requests(1).write(folder / "api.jsonl")
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("ctrl+p", *"show commands")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.query_one("#tabs", TabbedContent).active == "commands"
        await pilot.press("ctrl+p", *"errors only")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.query_one("#tabs", TabbedContent).active == "requests"
        assert app.query_one("#filter").value == "errors"  # type: ignore[attr-defined]
        assert _paths(app) == []


def test_reader_yields_between_slices(tmp_path: Path) -> None:
    path = _requests(2500).write(tmp_path / "api.jsonl")
    reader = FolderReader(tmp_path, Model())
    reader.discover()
    progress: list[int] = []
    applied: list[int] = []

    def between() -> None:
        progress.append(reader.bytes_read)
        applied.append(reader.model.totals["events"])

    state, lines, more = next(iter(reader.files.values())), 0, True
    while more:  # batch after batch, as read_in_turns reads one file
        count, more = reader.read_batch(state, between, 1000)
        lines += count
        if more:
            between()
    assert lines == 5000
    # never more than a slice of lines without standing aside, and progress moves on
    gaps = [b - a for a, b in zip([0, *applied], [*applied, 5000], strict=True)]
    assert len(applied) >= 4 and max(gaps) <= 1000
    assert progress == sorted(progress) and progress[-1] < path.stat().st_size
    assert reader.bytes_read == path.stat().st_size


async def test_files_view_lists_paths_the_reader_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    _requests(1).write(folder / "api.jsonl")
    os.mkfifo(folder / "pipe.jsonl")
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("5")
        await pilot.pause(0.1)
        files = app.query_one("#files-table", DataTable)
        rows = [[str(c) for c in files.get_row_at(i)] for i in range(files.row_count)]
        assert rows[0][0] == "api.jsonl" and rows[0][5] == "2"
        assert rows[1][0] == "pipe.jsonl" and rows[1][4].startswith("skipped: not a regular")


@pytest.mark.parametrize("poll", [False, True])
def test_a_loader_stopped_before_it_ran_reads_nothing_and_returns(
    tmp_path: Path, poll: bool
) -> None:
    from dm_explore.ingest.live import LiveFolder

    _requests(500).write(tmp_path / "api.jsonl")
    loader = LiveFolder(tmp_path, poll=poll)
    loader.stop()  # the app quit while the history was loading
    loader.run()  # returns at once, whether it follows with watchfiles or by polling
    assert loader.error is None and loader.model.totals.get("events", 0) == 0
