"""A panel the writer refused shows in its request's Panels tab, in place, with the reason
and the line that sent it; table rows given as mappings show as a table (Textual pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.syntax import Syntax
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Markdown, Static, TabbedContent

import dm_log
from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from tests.explore.plugin_page import HERE, PluginPage, plugin_page

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (160, 45)


@pytest.fixture
def page(tmp_path: Path) -> tuple[Path, PluginPage]:
    folder = tmp_path / "logs"
    return folder, plugin_page(folder)


def _describe(widget: Any) -> str:
    """What one widget of the Panels tab shows, as text."""
    if isinstance(widget, DataTable):
        header = [str(c.label) for c in widget.columns.values()]
        rows = [[str(c) for c in widget.get_row_at(i)] for i in range(widget.row_count)]
        return f"table {header} {rows}"
    if isinstance(widget, Markdown):
        return f"markdown {widget.source}"
    if isinstance(widget, Static):
        content = widget.content
        return content.code if isinstance(content, Syntax) else str(widget.render())
    return type(widget).__name__


async def test_refused_panels_show_in_place_with_reason_and_line(
    page: tuple[Path, PluginPage],
) -> None:
    folder, written = page
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        app.open_span(written.span)
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        screen.query_one(TabbedContent).active = "tab-panels"
        await pilot.pause(0.2)
        shown = [_describe(w) for w in screen.query_one("#panels", VerticalScroll).children]
    assert shown[0] == "Seats"
    assert shown[1] == "table ['key', 'value'] [['left', '3'], ['course', 'demo']]"
    refused_seats = shown[2]  # right under the good entry of the same panel, in order
    assert refused_seats.startswith("refused by the writer")
    assert "data.content must be object" in refused_seats
    assert f"{HERE}:{written.refused_lines['Seats']} in _plugin" in refused_seats
    assert "['not', 'a', 'mapping']" in refused_seats
    assert shown[3] == "Enrollment"
    assert shown[4] == "table ['student', 'mode'] [['ann', 'audit'], ['bob', '']]"
    assert shown[5] == "Grades"  # a panel refused outright keeps its place among the others
    assert "must contain ['columns']" in shown[6]
    assert f"{HERE}:{written.refused_lines['Grades']} in _plugin" in shown[6]
    assert shown[7:] == ["Notes", "markdown **3** seats left"]


async def test_the_readme_examples_show_by_type(log_dir: Path) -> None:
    from tests.ci_docs.test_readme_panels import EXAMPLES

    with dm_log.span("readme") as span:
        for example in EXAMPLES:
            exec(example, {"dm_log": dm_log})
    dm_log.configure(log_dir=None)  # the file closed; the fixture restores the rest
    folder = log_dir
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        app.open_span(span.span_id)
        await pilot.pause(0.2)
        app.screen.query_one(TabbedContent).active = "tab-panels"
        await pilot.pause(0.2)
        widgets = list(app.screen.query_one("#panels", VerticalScroll).children)
        shown = [(type(w).__name__, _describe(w)) for w in widgets]
    titles = [text for kind, text in shown if kind == "Static" and "\n" not in text]
    assert titles[:1] == ["Notes"] and {"Query", "Course", "Enrollment", "Cart"} <= set(titles)
    assert ("Static", "3 seats left\nwaiting list: 2") in shown
    assert any(kind == "Markdown" and "**3** seats left" in text for kind, text in shown)
    assert any("SELECT * FROM seat" in text for kind, text in shown)
    assert ("DataTable", "table ['key', 'value'] [['id', '42'], ['title', 'Demo'], "
            "['open', 'True']]") in shown  # fmt: skip
    enrollment = [text for kind, text in shown if text.startswith("table ['student'")]
    assert enrollment == [
        "table ['student', 'mode'] [['ann', 'audit'], ['bob', 'verified']]",
        "table ['student', 'mode'] [['cy', 'audit'], ['dee', '']]",
    ]
    assert any(kind == "Tree" for kind, _ in shown)
