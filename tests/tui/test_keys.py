"""Every navigation key in every list, table and scrolled text of every view and screen.

Each key is pressed on the focused widget and the test checks where its cursor
(or, for text, its scroll position) went: ``j`` / Down one further, ``k`` / Up one
back, ``G`` / End to the last row, ``g`` / Home to the first, Page Down past
the next rows and Page Up back. Then ``[`` / ``]`` and Tab / Shift+Tab switch the
request detail's tabs from wherever the focus is, ``?`` lists the keys of the
screen in front, and the filter and ``/`` find a request by its query string,
a header or its view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.containers import ScrollableContainer
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static, TabbedContent, Tree

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from dm_explore.tui.screens.file import FileScreen
from dm_explore.tui.screens.help import HelpScreen
from dm_explore.tui.screens.issue import IssueScreen
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets.request_list import RequestList
from dm_explore.tui.widgets.trace_lines import TraceLines
from tests.tui.keys_folder import RICH, RICH_TRACE, keys_folder

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (120, 30)
DETAIL_TABS = (
    "tab-overview", "tab-headers", "tab-sql", "tab-templates", "tab-cache", "tab-profile",
    "tab-logs", "tab-exceptions", "tab-panels",
)  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return keys_folder(tmp_path / "logs")


def position(widget: Widget) -> int:
    """Where the widget's cursor is: its row, its entry, or (text) its top line."""
    if isinstance(widget, DataTable):
        return widget.cursor_row
    if isinstance(widget, OptionList):
        return widget.highlighted if widget.highlighted is not None else -1
    if isinstance(widget, RequestList | TraceLines):
        return widget.cursor
    if isinstance(widget, Tree):
        return widget.cursor_line
    assert isinstance(widget, ScrollableContainer), widget
    return round(widget.scroll_y)


def last(widget: Widget) -> int:
    """The last place the cursor can go."""
    if isinstance(widget, DataTable):
        return widget.row_count - 1
    if isinstance(widget, OptionList):
        return widget.option_count - 1
    if isinstance(widget, RequestList | TraceLines):
        return len(widget.rows) - 1
    if isinstance(widget, Tree):
        return widget.last_line
    assert isinstance(widget, ScrollableContainer)
    return round(widget.max_scroll_y)


async def open_rich_detail(app: ExplorerApp, pilot: Any) -> tuple[DetailScreen, TabbedContent]:
    """The rich request's detail, once the folder is read: the screen and its tabs."""
    await pilot.pause(0.2)
    app.open_span(f"{RICH_TRACE}-{RICH}")
    await pilot.pause(0.3)
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    return screen, screen.query_one("#detail-tabs", TabbedContent)


async def press(pilot: Any, key: str, scrolls: bool = False) -> None:
    """Press ``key`` and let it take effect (a scroll: drawn)."""
    await pilot.press(key)
    await pilot.pause(0.05 if scrolls else None)


async def walk(pilot: Any, widget: Widget) -> None:
    """Every navigation key on ``widget``, each one checked."""
    widget.focus()
    await pilot.pause(0.05)
    name = f"#{widget.id} ({type(widget).__name__})"
    scrolls = isinstance(widget, ScrollableContainer)
    end = last(widget)
    assert end >= 3, f"{name}: too few rows for the walk ({end + 1})"
    await press(pilot, "home", scrolls)
    assert position(widget) == 0, name
    expected = [("j", 1), ("down", 2), ("k", 1), ("up", 0), ("G", end), ("g", 0)]
    expected += [("end", end), ("home", 0)]
    for key, where in expected:
        await press(pilot, key, scrolls)
        assert position(widget) == where, f"{name}: {key} went to {position(widget)}, not {where}"
    await press(pilot, "pagedown", scrolls)
    paged = position(widget)
    assert paged >= min(3, end), f"{name}: pagedown went to {paged}"
    await press(pilot, "pageup", scrolls)
    assert position(widget) < paged, f"{name}: pageup stayed at {paged}"


async def test_every_view_and_screen_answers_every_navigation_key(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    app.animation_level = "none"  # a scroll lands at once (what TEXTUAL_ANIMATIONS=none does)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await press(pilot, "f")  # paused: the cursor is the user's
        views = {
            "1": "#request-list",
            "2": "#issues-table",
            "3": "#commands-table",
            "4": "#metrics-scroll",
            "5": "#files-table",
            "6": "#endpoints-table",
            "7": "#tests-table",
        }
        for key, selector in views.items():
            await press(pilot, key)
            await pilot.pause(0.2)
            widget = app.screen.query_one(selector, Widget)
            assert app.focused is widget, f"view {key} focuses its list"
            await walk(pilot, widget)

        app.open_span(f"{RICH_TRACE}-{RICH}")
        await pilot.pause(0.3)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        tabbed = detail.query_one("#detail-tabs", TabbedContent)
        for tab, selector in (
            ("tab-headers", "NavScroll"),
            ("tab-sql", "#sql-table"),
            ("tab-templates", "#templates"),
            ("tab-cache", "#cache-table"),
            ("tab-profile", "#profile-top"),
            ("tab-profile", "#profile-tree"),
            ("tab-logs", "#logs"),
            ("tab-exceptions", "#exceptions"),
            ("tab-panels", "#panels"),
        ):
            tabbed.active = tab
            await pilot.pause(0.1)
            pane = tabbed.get_pane(tab)
            await walk(pilot, pane.query_one(selector, Widget))
        await press(pilot, "t")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TraceScreen)
        await walk(pilot, app.screen.query_one(TraceLines))
        await press(pilot, "escape")
        await press(pilot, "escape")

        await press(pilot, "2")
        table = app.screen.query_one("#issues-table", DataTable)
        table.move_cursor(row=0)  # the most frequent: the rich request's error, 7 times
        await press(pilot, "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, IssueScreen)
        await walk(pilot, app.screen.query_one("#issue-frames", Widget))
        await walk(pilot, app.screen.query_one("#issue-spans", Widget))
        await press(pilot, "escape")

        await press(pilot, "5")
        files = app.screen.query_one("#files-table", DataTable)
        bad = next(i for i in range(files.row_count) if "bad" in str(files.get_row_at(i)[0]))
        files.move_cursor(row=bad)
        await press(pilot, "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FileScreen)
        await walk(pilot, app.screen.query_one("#file-scroll", Widget))
        await press(pilot, "question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        await walk(pilot, app.screen.query_one("NavScroll", Widget))


async def test_brackets_and_tab_switch_the_detail_tabs_wherever_the_focus_is(
    folder: Path,
) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, tabbed = await open_rich_detail(app, pilot)
        assert tabbed.active == "tab-overview"
        for step in range(1, len(DETAIL_TABS) + 1):  # all the way round, and back to the start
            await press(pilot, "right_square_bracket")
            expected = DETAIL_TABS[step % len(DETAIL_TABS)]
            assert tabbed.active == expected
            pane = tabbed.get_pane(expected)
            assert app.focused is not None and pane in app.focused.ancestors, "its list is focused"
        tabbed.active = "tab-sql"
        await pilot.pause(0.1)
        screen.query_one("#sql-table", DataTable).focus()
        await press(pilot, "j")  # inside the SQL table: the row moves, the tab stays
        assert tabbed.active == "tab-sql"
        assert screen.query_one("#sql-table", DataTable).cursor_row == 1
        for key, expected in (
            ("right_square_bracket", "tab-templates"),  # the next tab, no Right needed
            ("left_square_bracket", "tab-sql"),
            ("tab", "tab-templates"),
            ("shift+tab", "tab-sql"),
            ("shift+tab", "tab-headers"),
        ):
            await press(pilot, key)
            assert tabbed.active == expected, key
        screen.query_one("#logs").focus()  # from a list in another tab, too
        await press(pilot, "right_square_bracket")
        assert tabbed.active == "tab-exceptions"


def _help_text(app: ExplorerApp) -> str:
    assert isinstance(app.screen, HelpScreen)
    return str(app.screen.query_one("#help-text", Static).render())


async def test_help_lists_every_key_of_the_screen_in_front(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await press(pilot, "question_mark")
        text = _help_text(app)
        assert "Keys: the requests view" in text
        # the list's keys, the app's, the other views'
        for expected in ("Detail", "Trace", "in the editor", "^f", "Issues", "errors, findings or"):
            assert expected in text, expected
        await press(pilot, "escape")

        app.open_span(f"{RICH_TRACE}-{RICH}")
        await pilot.pause(0.3)
        screen = app.screen
        screen.query_one(TabbedContent).active = "tab-sql"
        await pilot.pause(0.1)
        table = screen.query_one("#sql-table", DataTable)
        table.focus()
        bound = {app.get_key_display(b) for found in table._bindings.key_to_bindings.values()
                 for b in found}  # fmt: skip
        await press(pilot, "question_mark")
        text = _help_text(app)
        assert "Keys: detail screen" in text
        lines = text.splitlines()
        for key in bound | {"]", "[", "tab", "shift+tab", "e", "s", "t"}:
            assert any(key in line.strip().split("  ")[0].split() for line in lines), key
        assert "Next tab" in text and "Previous tab" in text and "Sort SQL" in text
        await press(pilot, "question_mark")  # ? again closes it
        assert app.screen is screen


async def test_filter_and_search_match_query_string_headers_and_view(folder: Path) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        listing = app.screen.query_one(RequestList)
        for typed, expected in (
            ("q=wagtail", {RICH}),
            ("shop/?q=wag", {RICH}),
            ("4f2a-needle", {RICH}),
            ("x-request-id: 4f2a", {RICH}),
            ("shop.views.shelf", {RICH}),
        ):
            await press(pilot, "ctrl+f")
            await pilot.press("ctrl+u", *typed)  # a fresh filter
            await pilot.pause(0.3)
            assert {span.span_id for span in listing.rows} == expected, typed
        await pilot.press("ctrl+f", "ctrl+u", *"shop.views.v3")
        await pilot.pause(0.3)
        assert len(listing.rows) == 8 and all(s.view == "shop.views.v3" for s in listing.rows)
        await pilot.press("escape", "x")
        await pilot.pause(0.3)
        assert len(listing.rows) == 61
        await press(pilot, "g")
        await pilot.press("slash", *"wagtail", "enter")
        await pilot.pause(0.2)
        assert listing.current is not None and listing.current.span_id == RICH
