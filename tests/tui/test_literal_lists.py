"""Text from the files stays literal in the lists with a cursor (logs, frames, templates):
Rich markup is shown as typed and terminal escapes never reach the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.widgets.nav import LocatedList
from tests.explore.fixtures import T1, Writer

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SPAN = "1000000000000001"
HOSTILE = "[bold]hi[/bold] \x1b[31mred"


async def test_log_lines_frames_and_templates_show_markup_as_typed(tmp_path: Path) -> None:
    w = Writer("evil", 2)
    w.ev("request.start", 1.0, T1, SPAN, method="GET", path="/x/")
    w.ev("log", 1.01, T1, SPAN, level="info", msg=HOSTILE, logger="x",
         site={"file": "/app/[red]v.py", "line": 3, "func": "[i]f"})  # fmt: skip
    frames = [{"file": "/app/[red]v.py", "line": 4, "func": "[i]f", "module": "v",
               "in_app": True, "src": HOSTILE}]  # fmt: skip
    w.ev("exception", 1.02, T1, SPAN, type="ValueError", message=HOSTILE, fingerprint="a" * 16,
         frames=frames, handled=False)  # fmt: skip
    w.ev("template.start", 1.03, T1, "2000000000000002", SPAN, name=HOSTILE,
         origin="/app/[red]t.html", context_keys=[])  # fmt: skip
    w.ev("template.end", 1.04, T1, "2000000000000002", SPAN, ms=1.0, outcome="ok")
    w.ev("request.end", 1.1, T1, SPAN, ms=100.0, outcome="error", status=500)
    w.write(tmp_path / "evil.jsonl")
    app = ExplorerApp(tmp_path, follow_files=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.2)
        app.open_span(f"{T1}-{SPAN}")
        await pilot.pause(0.3)
        tabbed = app.screen.query_one("#detail-tabs", TabbedContent)
        for tab, selector in (
            ("tab-logs", "#logs"),
            ("tab-exceptions", "#exceptions"),
            ("tab-templates", "#templates"),
        ):
            tabbed.active = tab
            await pilot.pause(0.2)
            entries = app.screen.query_one(selector, LocatedList)
            drawn = "\n".join(
                "".join(segment.text for segment in entries.render_line(y))
                for y in range(entries.size.height)
            )
            assert "[bold]hi[/bold]" in drawn, (tab, drawn)
            assert "\x1b" not in drawn, tab
