"""The Issues view's findings and the Endpoints view, driven by keys (Textual pilot)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.help import HelpScreen
from dm_explore.tui.screens.issue import IssueScreen
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets.endpoints import EndpointsTable
from dm_explore.tui.widgets.issues import IssuesTable
from tests.ci_docs.fixture import TRACE_PAGE, write_fixture
from tests.explore.fixtures import Writer

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (160, 40)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_fixture(tmp_path / "logs")
    return tmp_path / "logs"


def _column(table: DataTable[object], index: int) -> list[str]:
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


async def test_issues_toggle_between_errors_findings_and_both(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause(0.2)
        table = app.query_one("#issues-table", IssuesTable)
        assert table.mode == "errors"
        assert _column(table, 1) == ["KeyError", "AssertionError", "ValueError"]
        await pilot.press("v")
        await pilot.pause(0.2)
        assert table.mode == "findings"
        assert _column(table, 1) == ["N+1 queries", "duplicate query"]
        assert _column(table, 3) == ["web GET courses/<int:pk>/", "pytest POST checkout/"]
        assert _column(table, 6) == ["5x per run", "3x per run"]
        await pilot.press("enter")  # a finding opens its example trace
        await pilot.pause(0.2)
        assert isinstance(app.screen, TraceScreen) and app.screen.trace_id == TRACE_PAGE
        await pilot.press("escape", "v")
        await pilot.pause(0.2)
        assert table.mode == "both" and table.row_count == 5
        assert _column(table, 1)[:3] == ["KeyError", "AssertionError", "ValueError"]
        await pilot.press("enter")  # an error opens the issue, as before
        await pilot.pause(0.2)
        assert isinstance(app.screen, IssueScreen)
        await pilot.press("escape", "v")
        await pilot.pause(0.2)
        assert table.mode == "errors" and table.row_count == 3


async def test_endpoints_view_sorts_by_any_column_and_opens_the_slowest_trace(
    folder: Path,
) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await pilot.pause(0.2)
        table = app.query_one("#endpoints-table", EndpointsTable)
        assert app.focused is table
        keys = _column(table, 0)
        assert keys[0] == "web POST checkout/" and _column(table, 2)[0] == "2"
        assert "web GET courses/<int:pk>/" in keys and "worker task courses.tasks.recount" in keys
        page = keys.index("web GET courses/<int:pk>/")
        assert _column(table, 9)[page] == "5" and _column(table, 11)[page] == "1"
        await pilot.press("s")  # count -> errors
        await pilot.pause(0.1)
        assert table.sort_by == "error_rate"
        errors = dict(zip(_column(table, 0), _column(table, 3), strict=True))
        assert list(errors.values())[:2] == ["2 (100%)", "1 (100%)"]  # failing first
        assert errors["web POST checkout/"] == "2 (100%)" and errors["api GET api/grades/"]
        table.sort_on("max_ms")  # what a click on the header does
        await pilot.pause(0.1)
        durations = [float(v) for v in _column(table, 8)]
        assert durations == sorted(durations, reverse=True)
        await pilot.press("r")
        await pilot.pause(0.1)
        assert [float(v) for v in _column(table, 8)] == sorted(durations)
        table.sort_on("max_ms")
        table.move_cursor(row=0)  # the slowest: the page, the N+1 in it
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, TraceScreen) and app.screen.trace_id == TRACE_PAGE
        await pilot.press("escape", "question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        assert "Endpoints" in text and "--slow-query-ms" in text and "errors, findings" in text


async def test_live_endpoints_and_findings_catch_up_with_the_last_lines(tmp_path: Path) -> None:
    """Lines arriving faster than the views recompute: the last of them is still drawn."""
    folder = tmp_path / "logs"
    path = folder / "api.jsonl"
    writer = Writer("api", 7)
    _loop(writer, 0)
    writer.write(path)
    writer.lines.clear()
    app = ExplorerApp(folder, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        table = app.query_one("#endpoints-table", EndpointsTable)
        await _until(pilot, lambda: table.row_count == 1)
        for n in range(1, 4):  # three more runs in quick succession, then nothing
            _loop(writer, n)
            with open(path, "ab") as f:
                f.write(b"".join(writer.lines))
            writer.lines.clear()
            await pilot.pause(0.1)
        await _until(pilot, lambda: _column(table, 2) == ["4"], timeout=10)
        await pilot.press("2", "v")
        issues = app.query_one("#issues-table", IssuesTable)
        await _until(pilot, lambda: _column(issues, 0) == ["4"], timeout=10)
        assert _column(issues, 1) == ["N+1 queries"]


def _loop(writer: Writer, n: int) -> None:
    """Request ``n`` of ``GET /items/``: one SELECT per item, five items."""
    trace, span = f"{0xA0 + n:032x}", f"{0xB0 + n:016x}"
    writer.ev("request.start", 10.0 + n, trace, span, method="GET", path="/items/")
    for item in range(5):
        writer.ev("sql", 10.1 + n, trace, span, sql="SELECT * FROM item WHERE id = %s",
                  params=[item], ms=1.0)  # fmt: skip
    writer.ev("request.end", 10.5 + n, trace, span, ms=500.0, outcome="ok", status=200,
              route="items/")  # fmt: skip


async def _until(pilot: Pilot[int], check: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never showed it")
