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
from tests.tui.keys_folder import RICH, keys_folder

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


async def test_a_search_goes_on_a_slice_at_a_time_and_finds_the_far_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dm_explore.tui.widgets.request_list as list_module

    monkeypatch.setattr(list_module, "SEARCH_SLICE", 0.0)  # 4 rows per turn of the loop
    monkeypatch.setattr(list_module, "_SEARCH_CHECK", 4)
    app = ExplorerApp(keys_folder(tmp_path / "logs"), follow_files=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.1)
        listing = app.query_one(RequestList)
        rows = list(listing.rows)
        far = max(i for i, span in enumerate(rows) if span.span_id == RICH)
        assert far > 8, "the row is past the first slices"
        listing.cursor = 0
        app.search_term = "q=wagtail"  # only the rich request's query string has it
        app.action_next_match(1, from_current=True)
        assert listing.cursor == 0, "the first slice returned without the row"
        for _ in range(200):
            if listing.cursor == far:
                break
            await asyncio.sleep(0.005)
        assert listing.cursor == far
        app.search_term = "no-such-text-anywhere"
        notified: list[str] = []
        monkeypatch.setattr(app, "notify", lambda text, **_: notified.append(text))
        app.action_next_match(1)
        for _ in range(200):
            if notified:
                break
            await asyncio.sleep(0.005)
        assert notified == ["no match for 'no-such-text-anywhere'"]
