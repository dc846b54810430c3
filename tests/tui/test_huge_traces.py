"""The trace view on deep, wide and cyclic traces, and the status line when following stops."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.trace import FOLDS, TraceScreen
from dm_explore.tui.widgets.trace_lines import TraceLines
from tests.reliability.shapes import write_chain, write_cycles, write_wide

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (140, 40)


async def _until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never showed it")


async def _open_trace(app: ExplorerApp, pilot: Pilot[None]) -> TraceLines:
    await pilot.pause(0.2)
    await pilot.press("t")
    await _until(pilot, lambda: isinstance(app.screen, TraceScreen))
    lines = app.screen.query_one(TraceLines)
    await _until(pilot, lambda: bool(lines.rows))
    return lines


def _drawn(lines: TraceLines) -> str:
    """The lines the widget draws on screen now."""
    return "\n".join(lines.render_line(y).text for y in range(lines.size.height))


async def test_a_chain_3000_deep_opens_folded_and_unfolds_from_a_span(tmp_path: Path) -> None:
    # 990 levels used to end the app with a RecursionError.
    write_chain(tmp_path / "web.jsonl", 3000)
    app = ExplorerApp(tmp_path, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        lines = await _open_trace(app, pilot)
        assert len(lines.rows) == FOLDS.depth + 1
        fold = lines.rows[-1]
        assert fold.fold == "depth" and fold.span.name == f"level {FOLDS.depth - 1}"
        assert "1 child span deeper" in str(lines.label(fold))
        await pilot.press("end", "enter")
        await _until(pilot, lambda: lines.rows[0].span is fold.span)
        title = str(app.screen.query_one("#trace-title", Static).render())
        assert f"from level {FOLDS.depth - 1}" in title and "3000 spans" in title
        assert lines.rows[-1].span.name == f"level {2 * FOLDS.depth - 2}"
        await pilot.press("backspace")
        await _until(pilot, lambda: lines.rows[0].span.kind == "request")
        assert lines.current is not None and lines.current.span is fold.span  # still on it
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, TraceScreen))


async def test_a_wide_trace_draws_some_children_and_shows_more_on_enter(tmp_path: Path) -> None:
    write_wide(tmp_path / "web.jsonl", 1000, fanout=1000)  # the request has 999 children
    app = ExplorerApp(tmp_path, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        lines = await _open_trace(app, pilot)
        widths = [r for r in lines.rows if r.fold == "width"]
        assert [r.more for r in widths] == [999 - FOLDS.children]
        assert lines.rows[-1] is widths[0]  # after the children drawn
        assert f"{999 - FOLDS.children} more spans" in str(lines.label(widths[0]))
        await pilot.press("end", "enter")
        await _until(pilot, lambda: not [r for r in lines.rows if r.fold == "width"])
        assert sum(1 for r in lines.rows if r.depth == 1) == 999


async def test_cycles_are_drawn_and_marked(tmp_path: Path) -> None:
    ids = write_cycles(tmp_path / "web.jsonl")
    app = ExplorerApp(tmp_path, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        lines = await _open_trace(app, pilot)
        assert [r.span.span_id for r in lines.rows] == [
            ids["root"], ids["self"], ids["b"], ids["c"], ids["below"]
        ]  # fmt: skip
        labels = [str(lines.label(r)) for r in lines.rows]
        assert [("cyclic" in label) for label in labels] == [False, True, True, True, False]
        await pilot.pause(0.2)
        drawn = _drawn(lines)
        assert "self-parent" in drawn and drawn.count("cyclic") == 3


async def test_the_status_line_says_when_following_stopped(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_cycles(folder / "web.jsonl")
    app = ExplorerApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one("#status", Static)
        await _until(pilot, lambda: "live" in str(status.render()))
        shutil.rmtree(folder)
        await _until(pilot, lambda: "not following: the folder is gone" in str(status.render()))
        write_chain(folder / "api.jsonl", 3)
        await _until(pilot, lambda: "live" in str(status.render()))
        await _until(pilot, lambda: app.model.totals["events"] == 8)
