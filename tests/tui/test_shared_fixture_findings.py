"""A test run's shared fixture in the explorer: its finding, and its trace, are its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets.issues import IssuesTable
from tests.explore.test_shared_fixtures import write_runs

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


def _column(table: DataTable[object], index: int) -> list[str]:
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


async def test_the_database_setup_finding_opens_the_fixture_trace(tmp_path: Path) -> None:
    serial, _ = write_runs(tmp_path)
    app = ExplorerApp(serial, follow_files=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause(0.2)
        table = app.query_one("#issues-table", IssuesTable)
        await pilot.press("v")
        await pilot.pause(0.2)
        assert table.mode == "findings"
        assert _column(table, 1) == ["N+1 queries"]
        assert _column(table, 3) == ["pytest fixture django_db_setup"]
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, TraceScreen) and app.screen.trace_id == "f1" * 16
