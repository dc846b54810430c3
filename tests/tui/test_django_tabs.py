"""The request detail's Templates, Cache and Profile tabs, the request overview's Django
fields, the SQL detail's template site and plan, the Commands view's order and the
request list found by a pasted traceresponse header (Textual pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static, TabbedContent, Tree

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from dm_explore.tui.widgets.nav import LocatedList
from dm_explore.tui.widgets.request_list import RequestList
from tests.explore.django_page import PLAN, REQ, TD, TRACERESPONSE, django_page

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (160, 45)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return django_page(tmp_path / "logs")


def _text(widget: Static) -> str:
    return str(widget.render())


def _rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def _open_page(app: ExplorerApp, pilot: Any) -> DetailScreen:
    await pilot.pause(0.2)
    app.open_span(f"{TD}-{REQ}")
    await pilot.pause(0.2)
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    return screen


async def test_overview_shows_view_user_session_signals_and_cpu(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_page(app, pilot)
        overview = _text(screen.query_one("#overview", Static))
        for expected in (
            "view  courses.views.detail",
            "url name  courses:detail",
            'view kwargs  {"pk":42}',
            "user  ann (id 17)",
            "session keys  _auth_user_id, cart",
            "static  courses/app.css",
            "signal  django.db.models.signals.post_save x1 -> courses.signals.recount",
            "cpu  121.5ms CPU of 180.8ms wall",
        ):
            assert expected in overview, expected
        assert "cpu_ms" not in overview and "session_keys" not in overview  # not twice


async def test_templates_tab_nests_includes_with_their_context(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_page(app, pilot)
        screen.query_one(TabbedContent).active = "tab-templates"
        await pilot.pause(0.1)
        lines = screen.query_one("#templates", LocatedList).plain_text().splitlines()
        assert lines[0] == "4 templates rendered"
        names = [line for line in lines if ".html" in line and "=" not in line]
        assert names[0].startswith("courses/page.html  11.0ms")
        assert names[1].startswith("  base.html  9.0ms")
        assert names[2].startswith("    courses/row.html  0.8ms")
        assert "        api_token = [redacted]" in lines
        assert "    course = <Course pk=42>" in lines


async def test_cache_tab_lists_calls_with_hits_misses_and_time(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_page(app, pilot)
        screen.query_one(TabbedContent).active = "tab-cache"
        await pilot.pause(0.1)
        summary = _text(screen.query_one("#cache-summary", Static))
        assert summary.startswith("4 calls, 2 hits, 2 misses, 0.18 ms")
        rows = _rows(screen.query_one("#cache-table", DataTable))
        assert [(r[1], r[2], r[3]) for r in rows] == [
            ("get", "course:42:outline", "miss"),
            ("set", "course:42:outline", ""),
            ("get", "course:42:outline", "hit"),
            ("get_many", "a, b", "1/2 hits"),
        ]
        assert rows[0][6].endswith("views.py:31 in detail")


async def test_profile_tab_top_functions_by_self_or_total_and_call_tree(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_page(app, pilot)
        screen.query_one(TabbedContent).active = "tab-profile"
        await pilot.pause(0.1)
        summary = _text(screen.query_one("#profile-summary", Static))
        assert summary.startswith("118 samples every 1 ms") and "by self samples" in summary
        top = screen.query_one("#profile-top", DataTable)
        assert _rows(top)[0] == ["courses.grading:score", "90", " 76.3", "97", " 82.2"]
        top.focus()
        await pilot.press("p")
        await pilot.pause(0.1)
        assert _rows(top)[0][0] == "courses.views:detail" and _rows(top)[0][3] == "118"
        assert "by total samples" in _text(screen.query_one("#profile-summary", Static))
        tree = screen.query_one("#profile-tree", Tree)
        (detail,) = tree.root.children
        assert str(detail.label).startswith("100.0% courses.views:detail") and detail.is_expanded
        score, render = detail.children
        assert "courses.grading:score  97 samples, 90 self" in str(score.label)
        assert "django.shortcuts:render" in str(render.label)
        (weight,) = score.children
        assert "courses.grading:weight" in str(weight.label) and not score.children[0].children


async def test_sql_rows_show_template_library_and_plan_and_skip_transactions(
    folder: Path,
) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_page(app, pilot)
        screen.query_one(TabbedContent).active = "tab-sql"
        await pilot.pause(0.1)
        table = screen.query_one("#sql-table", DataTable)
        rows = _rows(table)
        assert len(rows) == 10 and all(r[2] == "" for r in rows if r[3] in ("BEGIN", "COMMIT"))
        summary = _text(screen.query_one("#sql-summary", Static))
        assert "duplicates 0" in summary and "N+1 suspects 0" in summary
        (library,) = [r for r in rows if '"page"' in r[3]]
        assert library[5].endswith("in specific (library)")
        teacher = next(i for i, r in enumerate(rows) if '"teacher"' in r[3])
        assert rows[teacher][5].startswith("courses/row.html:3 <- ")
        table.focus()
        table.move_cursor(row=teacher)
        await pilot.pause(0.1)
        full = _text(screen.query_one("#sql-full", Static))
        assert "template courses/row.html:3" in full and f"plan\n{PLAN}" in full


async def test_requests_filter_and_search_take_a_traceresponse_value(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        listing = app.query_one(RequestList)
        assert [s.target for s in listing.rows] == ["/admin/", "/courses/999/", "/courses/42/"]
        await pilot.press("f", "slash", *TRACERESPONSE, "enter")
        await pilot.pause(0.1)
        assert listing.current is not None and listing.current.trace == TD
        app.query_one("#filter").value = f"traceresponse: {TRACERESPONSE}"  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        assert [s.target for s in listing.rows] == ["/courses/42/"]
        app.query_one("#filter").value = "errors"  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        assert list(listing.rows) == []  # the 404 and the 403 are not errors


async def test_commands_view_lists_the_newest_run_first(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press("3")
        await pilot.pause(0.1)
        rows = _rows(app.query_one("#commands-table", DataTable))
        assert [r[0] for r in rows] == ["alpha", "zeta"]  # alpha ran last
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, DetailScreen) and app.screen.span is not None
        assert app.screen.span.name == "alpha"
