"""A new filter over many requests fills the list in over several redraws, newest
first, with the status line saying how many are still to match; keys keep working."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Static

import dm_explore.tui.rows as rows_module
from dm_explore.model import filter_requests
from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.filters import parse_filter
from dm_explore.tui.widgets.request_list import RequestList
from tests.tui.keys_folder import keys_folder

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


async def test_a_filter_matches_a_slice_per_redraw_and_ends_with_every_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows_module, "SCAN_BUDGET", 0.0)  # one chunk of requests per redraw
    monkeypatch.setattr(rows_module, "_SCAN_CHUNK", 4)
    app = ExplorerApp(keys_folder(tmp_path / "logs"), follow_files=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.1)
        listing = app.query_one(RequestList)
        total = len(app.model.requests)
        app.query_one("#filter").value = "accept"  # type: ignore[attr-defined]
        seen_matching = False
        for _ in range(200):  # every redraw matches 4 more requests
            status = str(app.query_one("#status", Static).render())
            seen_matching = seen_matching or "more…" in status
            if not listing.rows.pending:
                break
            await asyncio.sleep(0.005)
        assert seen_matching, "the status line said that matching went on"
        assert not listing.rows.pending
        await pilot.pause(0.1)
        status = str(app.query_one("#status", Static).render())
        assert "more…" not in status
        expected = filter_requests(app.model, parse_filter("accept"), "newest")
        assert [s.span_id for s in listing.rows] == [s.span_id for s in expected]
        assert 0 < len(expected) < total
