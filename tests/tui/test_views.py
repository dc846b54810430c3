"""The explorer driven like a user would: keys in, what is on screen out (Textual pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Markdown, Static, TabbedContent

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from dm_explore.tui.screens.file import FileScreen
from dm_explore.tui.screens.help import HelpScreen
from dm_explore.tui.screens.issue import IssueScreen
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets.nav import LocatedList
from dm_explore.tui.widgets.request_list import RequestList
from dm_explore.tui.widgets.trace_lines import TraceLines
from tests.explore.fixtures import API_REQ, T1, three_services

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (140, 40)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return three_services(tmp_path / "logs")


def _static_text(widget: Static) -> str:
    return str(widget.render())


def _paths(app: ExplorerApp) -> list[Any]:
    return [s.start.get("path") for s in app.screen_stack[0].query_one(RequestList).rows]


async def test_requests_newest_first_filters_and_order(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert _paths(app) == ["/api/late/", "/api/", "/courses/", "/gz/", "/old/"]
        status = _static_text(app.query_one("#status", Static))
        assert "5 requests" in status and "4 invalid lines" in status
        await pilot.press("o")
        await pilot.pause(0.1)
        assert _paths(app)[0] == "/courses/"  # slowest first
        await pilot.press("o", "ctrl+f")
        for key in "status:5xx":
            await pilot.press(key if key != ":" else "colon")
        await pilot.pause(0.1)
        assert _paths(app) == ["/api/late/"]
        filter_input = app.query_one("#filter")
        filter_input.value = "svc:web"  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert _paths(app) == ["/courses/", "/old/"]
        filter_input.value = "errors"  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert set(_paths(app)) == {"/api/late/", "/api/", "/courses/"}
        filter_input.value = "slow:250"  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert _paths(app) == ["/api/late/", "/courses/"]


async def test_search_and_next_match(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("f")  # pause following so the cursor stays where search puts it
        await pilot.press("slash", *"api", "enter")
        await pilot.pause(0.1)
        listing = app.query_one(RequestList)
        assert listing.current is not None and listing.current.start["path"] == "/api/late/"
        await pilot.press("n")
        assert listing.current.start["path"] == "/api/"
        await pilot.press("n")
        assert listing.current.start["path"] == "/api/late/"  # wraps around
        await pilot.press("N")
        assert listing.current.start["path"] == "/api/"


async def test_detail_shows_sql_flags_logs_exceptions_and_panels(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("f", "down", "enter")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.span_id == API_REQ
        overview = _static_text(screen.query_one("#overview", Static))
        assert "GET" in overview and "/api/" in overview and "8 statements" in overview
        table = screen.query_one("#sql-table", DataTable)
        assert table.row_count == 8
        flags = [str(table.get_row_at(i)[2]) for i in range(8)]
        assert flags.count("N+1 ") == 6 and flags.count("DUP ") == 2
        summary = _static_text(screen.query_one("#sql-summary", Static))
        assert "N+1 suspects 1" in summary
        await pilot.press("s")  # by duration: the 2 ms statements first
        assert str(table.get_row_at(0)[1]) == "2.00"
        assert "grade missing" in screen.query_one("#logs", LocatedList).plain_text()
        exceptions = screen.query_one("#exceptions", LocatedList).plain_text()
        assert "KeyError" in exceptions and "/srv/api/views.py:48 in detail" in exceptions
        assert "row['grade']" in exceptions
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_panels_render_by_type(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        app.open_span("1000000000000001")  # the web request with the Enrollment panel
        await pilot.pause(0.1)
        screen = app.screen
        screen.query_one(TabbedContent).active = "tab-panels"
        await pilot.pause(0.1)
        markdown = screen.query_one(".panel-markdown", Markdown)
        assert "3" in markdown.source and "seats" in markdown.source
        table = screen.query_one(".panel-table", DataTable)
        assert table.row_count == 1 and str(table.get_row_at(0)[0]) == "ann"


async def test_trace_tree_across_services_then_detail_and_its_sql(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("f", "down", "t")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, TraceScreen) and screen.trace_id == T1
        lines = screen.query_one(TraceLines)
        labels = [str(lines.label(row)) for row in lines.rows]
        assert len(labels) == 6
        assert labels[0].startswith("web") and "GET /courses/" in labels[0]
        assert any("worker" in label and "courses.tasks.recount" in label for label in labels)
        assert lines.current is not None and lines.current.span.span_id == API_REQ
        summary = _static_text(screen.query_one("#trace-span", Static))  # the highlighted span
        assert "GET /api/" in summary and "KeyError" in summary and "grade missing" in summary
        await pilot.press("enter")
        await pilot.pause(0.1)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.span_id == API_REQ
        detail.query_one(TabbedContent).active = "tab-sql"
        await pilot.pause(0.1)
        detail.query_one("#sql-table", DataTable).focus()
        await pilot.press(*["down"] * 7)
        await pilot.pause(0.1)
        full = _static_text(detail.query_one("#sql-full", Static))  # the statement under the cursor
        assert full.startswith("#8") and "SELECT 1" in full and "DUP" in full


async def test_issues_commands_metrics_files_and_help(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("2")
        await pilot.pause(0.1)
        issues = app.query_one("#issues-table", DataTable)
        assert issues.row_count == 1 and str(issues.get_row_at(0)[0]) == "2"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, IssueScreen)
        spans = app.screen.query_one("#issue-spans", DataTable)
        assert spans.row_count == 2
        await pilot.press("t")  # the trace of the request it happened in
        await pilot.pause(0.1)
        assert isinstance(app.screen, TraceScreen)
        await pilot.press("escape", "enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape", "escape", "3")
        await pilot.pause(0.1)
        commands = app.query_one("#commands-table", DataTable)
        row = [str(c) for c in commands.get_row_at(0)]
        assert row[0] == "import_grades" and row[2] == "SYSTEM_KILL" and "40%" in row[3]
        await pilot.press("4")
        await pilot.pause(0.1)
        metrics = _static_text(app.query_one("#metrics-view", Static))
        assert "queue.depth" in metrics and "p95=" in metrics and "api" in metrics
        await pilot.press("5")
        await pilot.pause(0.1)
        files = app.query_one("#files-table", DataTable)
        names = [str(files.get_row_at(i)[0]) for i in range(files.row_count)]
        assert "garbage.jsonl" in names and "sub/worker.h2.303.jsonl" in names
        files.move_cursor(row=names.index("garbage.jsonl"))
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, FileScreen)
        body = _static_text(app.screen.query_one("#file-body", Static))
        assert "line 1: not JSON" in body and "newer" in body
        await pilot.press("escape", "question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)


async def test_live_lines_appear_and_hostile_text_stays_literal(tmp_path: Path) -> None:
    from tests.explore.fixtures import Writer

    folder = tmp_path / "live"
    Writer("web", 1).ev("log", 1.0, level="info", msg="start").write(folder / "web.jsonl")
    app = ExplorerApp(folder, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        assert _paths(app) == []
        w = Writer("evil", 2)
        w.ev(
            "request.start", 2.0, T1, "1000000000000001", method="GET", path="/[red]x[/red]\x1b[31m"
        )
        w.ev("request.end", 2.1, T1, "1000000000000001", ms=5.0, outcome="ok", status=200)
        with open(folder / "web.jsonl", "ab") as f:
            f.write(b"".join(w.lines))
        for _ in range(50):
            await pilot.pause(0.1)
            if _paths(app):
                break
        assert _paths(app) == ["/[red]x[/red]\x1b[31m"]
        listing = app.query_one(RequestList)
        line = "".join(seg.text for seg in listing.render_line(1))
        assert "/[red]x[/red]\\x1b[31m" in line and "\x1b" not in line


async def test_escape_ctrl_f_and_the_quick_filter_keys(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        listing = app.query_one(RequestList)
        await pilot.press("slash", "a", "escape")
        assert not app.query_one("#search").display and app.focused is listing
        await pilot.press("ctrl+f", *"svc", "colon", *"web", "enter")
        await pilot.pause(0.1)
        assert _paths(app) == ["/courses/", "/old/"] and app.focused is listing
        await pilot.press("slash", *"old", "enter")
        await pilot.pause(0.1)
        assert "search: old" in _static_text(app.query_one("#status", Static))
        assert listing.current is not None and listing.current.start["path"] == "/old/"
        await pilot.press("x", "E")  # clear the filter, then errors only
        await pilot.pause(0.1)
        assert set(_paths(app)) == {"/api/late/", "/api/", "/courses/"}
        assert app.query_one("#filter").value == "errors"  # type: ignore[attr-defined]
        await pilot.press("E")  # errors only, off again
        await pilot.pause(0.1)
        assert len(_paths(app)) == 5
