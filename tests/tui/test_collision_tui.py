"""The TUI keeps two traces apart when their spans share a span id."""

from __future__ import annotations

from pathlib import Path

import pytest

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from tests.explore.test_collision import collision

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


async def test_the_tui_lists_both_requests_and_opens_each(tmp_path: Path) -> None:
    app = ExplorerApp(collision(tmp_path / "logs"), follow_files=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.5)
        requests = app.query_one("RequestList")
        names = sorted(span.name for span in requests.rows)  # type: ignore[attr-defined]
        assert names == ["GET /web-page/", "POST /api/cart/"]
        for svc in ("web", "shop"):
            span = next(s for s in app.model.requests.values() if s.svc == svc)
            app.open_span(span.ref)
            await pilot.pause(0.3)
            screen = app.screen
            assert isinstance(screen, DetailScreen) and screen.span is span
            title = str(screen.query_one("#detail-title").render())
            assert svc in title
            await pilot.press("escape")
            await pilot.pause(0.1)
