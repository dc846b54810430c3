"""``e`` wherever the explorer shows a file and line: SQL rows (and the template line
that ran them), log lines, exception frames, templates, cache calls, trace spans,
issues, findings and the issue screen's traceback; a notice where nothing has one.

The editor is the stand-in ``vim`` of :mod:`tests.tui.test_editor`: it records its
arguments. Recorded paths are under ``/app``, mapped to a local folder with
``DM_PATH_MAP``; a pilot drives the app, and tmux drives it once in a real terminal.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.issue import IssueScreen
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets.nav import LocatedList
from dm_explore.tui.widgets.trace_lines import TraceLines
from tests.tui.keys_folder import RICH, RICH_TRACE, keys_folder
from tests.tui.test_editor import stand_in
from tests.tui.test_keys import open_rich_detail
from tests.tui.test_tmux import ROOT, TMUX, _eventually, _start, _wait_for

pytestmark = pytest.mark.tui
SIZE = (140, 40)


class Editor:
    """The stand-in editor's record: what the last ``e`` ran, consumed on reading."""

    def __init__(self, root: Path) -> None:
        self.record = root / "args.txt"
        self.src = root / "src"
        self.script = stand_in(root / "bin", "vim", self.record)

    def opened(self) -> list[str] | None:
        if not self.record.exists():
            return None
        args = self.record.read_text().splitlines()
        self.record.unlink()
        return args

    def at(self, path: str, line: int) -> list[str]:
        """What the editor is given for ``/app/<path>`` at ``line``."""
        return [f"+{line}", f"{self.src}/{path}"]


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Editor:
    found = Editor(tmp_path)
    for name in ("VISUAL", "DM_EDITOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDITOR", str(found.script))
    monkeypatch.setenv("DM_PATH_MAP", f"/app={found.src}")
    return found


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return keys_folder(tmp_path / "logs")


async def _e(pilot: Any) -> None:
    await pilot.press("e")
    await pilot.pause(0.2)


def _notices(app: ExplorerApp) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.mark.anyio
async def test_e_in_every_tab_of_the_request_detail(folder: Path, editor: Editor) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, tabbed = await open_rich_detail(app, pilot)

        await _e(pilot)  # the overview: nothing to open, and the user is told
        assert editor.opened() is None
        assert "nothing here has a file and line to open" in _notices(app)

        tabbed.active = "tab-sql"
        await pilot.pause(0.1)
        screen.query_one("#sql-table", DataTable).focus()
        await _e(pilot)
        assert editor.opened() == editor.at("shop/views.py", 100)
        await pilot.press("j")
        await _e(pilot)
        assert editor.opened() == editor.at("shop/views.py", 101)
        screen.query_one("#sql-table", DataTable).move_cursor(row=5)  # run from a template
        await _e(pilot)
        assert editor.opened() == editor.at("shop/templates/shop/row.html", 7)

        for tab, key_presses, expected in (
            ("tab-logs", (), ("shop/log.py", 200)),
            ("tab-logs", ("j", "j"), ("shop/log.py", 202)),
            ("tab-exceptions", (), ("shop/step6.py", 16)),  # the heading: where it was raised
            ("tab-exceptions", ("j",), ("shop/step0.py", 10)),  # its outermost frame
            ("tab-exceptions", ("j", "j", "j"), ("shop/step2.py", 12)),
            ("tab-templates", ("j",), ("shop/templates/shop/list.html", 1)),
            ("tab-cache", ("j",), ("shop/cache.py", 301)),
        ):
            lists = {"tab-logs": "#logs", "tab-exceptions": "#exceptions"}
            screen.query_one(
                lists.get(tab, "#templates" if "templ" in tab else "#cache-table")
            ).focus()
            await pilot.pause(0.1)
            assert tabbed.active == tab
            await pilot.press("home", *key_presses)
            await _e(pilot)
            assert editor.opened() == editor.at(*expected), (tab, key_presses)

        screen.query_one("#templates", LocatedList).focus()  # the count line: nothing
        await pilot.press("home")
        await _e(pilot)
        assert editor.opened() is None


@pytest.mark.anyio
async def test_e_on_trace_spans_issues_findings_and_the_issue_screen(
    folder: Path, editor: Editor
) -> None:
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        app.open_trace(RICH_TRACE, RICH)
        await pilot.pause(0.3)
        assert isinstance(app.screen, TraceScreen)
        lines = app.screen.query_one(TraceLines)
        await _e(pilot)  # the request: where its exception was raised
        assert editor.opened() == editor.at("shop/step6.py", 16)
        template = next(i for i, r in enumerate(lines.rows) if r.span.kind == "template")
        lines.action_jump(template)
        await _e(pilot)
        assert editor.opened() == editor.at("shop/templates/shop/list.html", 1)
        await pilot.press("G")  # a custom span that recorded nothing with a place
        await _e(pilot)
        assert editor.opened() is None
        await pilot.press("escape", "2")
        await pilot.pause(0.3)

        await pilot.press("home")  # the most frequent issue: the rich request's ValueError
        await _e(pilot)
        assert editor.opened() == editor.at("shop/step6.py", 16)
        await pilot.press("v")  # findings: the N+1 statement's call site
        await pilot.pause(2.5)
        table = app.screen.query_one("#issues-table", DataTable)
        assert table.row_count and "N+1" in str(table.get_row_at(0)[1])
        await pilot.press("home")
        await _e(pilot)
        opened = editor.opened()
        assert opened is not None and opened[1] == f"{editor.src}/shop/views.py"
        assert 100 <= int(opened[0][1:]) < 140
        await pilot.press("v", "v")  # errors again
        await pilot.pause(0.3)

        await pilot.press("home", "enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, IssueScreen)
        await _e(pilot)  # from the list of requests: the issue's own frame
        assert editor.opened() == editor.at("shop/step6.py", 16)
        app.screen.query_one("#issue-frames", LocatedList).focus()
        await pilot.press("home", "j")
        await _e(pilot)
        assert editor.opened() == editor.at("shop/step1.py", 11)


@pytest.mark.timeout(120)
def test_brackets_and_e_in_a_real_terminal(tmp_path: Path) -> None:
    """In tmux: the oldest request's detail, ``]`` twice to SQL, ``e`` on its first row."""
    folder = keys_folder(tmp_path / "logs")
    editor = Editor(tmp_path)
    session = f"dm-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))}"
        f" EDITOR={shlex.quote(str(editor.script))} VISUAL= DM_EDITOR="
        f" DM_PATH_MAP=/app={shlex.quote(str(editor.src))}"
        f" {shlex.quote(sys.executable)} -m dm_explore.cli {shlex.quote(str(folder))}; sleep 30"
    )
    _start(session, command)
    try:
        _wait_for(session, "1 Requests")
        _wait_for(session, "route")
        for keys in (["f", "G"], ["Enter"]):
            subprocess.run([*TMUX, "send-keys", "-t", session, *keys], check=True)
        _wait_for(session, "Overview")
        subprocess.run([*TMUX, "send-keys", "-t", session, "]", "]"], check=True)
        _wait_for(session, "N+1 suspects")  # the SQL tab's summary
        subprocess.run([*TMUX, "send-keys", "-t", session, "e"], check=True)
        assert _eventually(lambda: editor.record.exists(), timeout=10)
        assert editor.opened() == editor.at("shop/views.py", 100)
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
