"""SVG snapshots of the main screens on a fixed folder, terminal size and clock-free data."""

from __future__ import annotations

from pathlib import Path

import pytest

from dm_explore.tui.app import ExplorerApp
from tests.explore.fixtures import three_services

pytestmark = pytest.mark.tui
SIZE = (140, 36)


@pytest.fixture
def app(tmp_path: Path) -> ExplorerApp:
    return ExplorerApp(three_services(tmp_path / "logs"), follow_files=False)


def test_requests_screen(snap_compare, app: ExplorerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, press=["wait:300"])


def test_trace_screen(snap_compare, app: ExplorerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, press=["wait:300", "f", "down", "t", "wait:300"])


def test_detail_sql_tab(snap_compare, app: ExplorerApp) -> None:
    async def open_sql(pilot) -> None:
        await pilot.pause(0.3)
        await pilot.press("f", "down", "enter")
        await pilot.pause(0.3)
        pilot.app.screen.query_one("TabbedContent").active = "tab-sql"
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_sql)


def test_commands_tab(snap_compare, app: ExplorerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, press=["wait:300", "3", "wait:300"])
