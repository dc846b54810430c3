"""The Tests view (key 7): every recorded test, failures first, Enter opens its trace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TabbedContent

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.screens.detail import DetailScreen
from dm_explore.tui.screens.trace import TraceScreen
from dm_explore.tui.widgets import tests as tests_widget
from dm_explore.tui.widgets.trace_lines import TraceLines
from tests.ci_docs.sample import RESULTS, SAMPLE, run_sample
from tests.explore.fixtures import Writer
from tests.tui.test_editor_everywhere import Editor

pytestmark = [pytest.mark.tui, pytest.mark.anyio]
SIZE = (160, 40)
SHOP = "tests/test_shop.py::"
# The sample suite runs in file order: newest first is the file's order reversed.
FAILURES_FIRST = [
    f"{SHOP}test_setup_error",  # error, the newer failure
    f"{SHOP}test_items_total_is_wrong",  # failed
    f"{SHOP}test_skipped",
    f"{SHOP}test_async_client",
    f"{SHOP}test_boom_is_a_500",
    f"{SHOP}test_items_page",
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by a real pytest run of the sample Django project under the plugin."""
    folder = tmp_path_factory.mktemp("run") / "logs"
    result = run_sample("--dm-log-dir", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr  # one test fails on purpose
    return folder


def _rows(app: ExplorerApp) -> list[list[str]]:
    table = app.screen_stack[0].query_one("#tests-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _summary(app: ExplorerApp) -> str:
    return str(app.screen_stack[0].query_one("#tests-summary", Static).render())


async def _until(pilot: Pilot[int], check: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never showed it")


@pytest.mark.django
async def test_every_test_listed_failures_first_and_enter_opens_its_trace(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = Editor(tmp_path)
    for name in ("VISUAL", "DM_EDITOR", "DM_PATH_MAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDITOR", str(editor.script))
    app = ExplorerApp(recorded, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("7")
        await _until(pilot, lambda: len(_rows(app)) == len(RESULTS))
        assert app.query_one("#tabs", TabbedContent).active == "tests"
        rows = _rows(app)
        assert [row[1] for row in rows] == FAILURES_FIRST
        assert {row[1]: row[0] for row in rows} == RESULTS
        by_id = {row[1]: row for row in rows}
        # Tests that made no request are listed too, with no request and no statement.
        for quiet in ("test_setup_error", "test_skipped"):
            assert by_id[SHOP + quiet][3:5] == ["0", "0"], quiet
        failing = by_id[f"{SHOP}test_items_total_is_wrong"]
        assert failing[4] == "1" and int(failing[3]) > 4  # the fixture's inserts, the 4 SELECTs
        assert failing[5] and not failing[5].startswith("gw")  # no xdist: the host alone
        assert "AssertionError" in failing[7]
        assert "fixture could not start" in by_id[f"{SHOP}test_setup_error"][7]
        await _until(pilot, lambda: "6 tests" in _summary(app))
        summary = _summary(app)
        assert "6 tests: 1 failed, 1 error, 3 passed, 1 skipped" in summary
        assert "failures first, then newest" in summary and "showing" not in summary

        # e on the failing test: the assertion that failed it, in the editor.
        await pilot.press("down", "e")
        await pilot.pause(0.2)
        source = SAMPLE / "tests" / "test_shop.py"
        line = (
            source.read_text().splitlines().index('    assert len(response.json()["items"]) == 4')
        )
        assert editor.opened() == [f"+{line + 1}", str(source)]

        # Enter on it: its trace, the cursor on the test, its SQL counted.
        await pilot.press("enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TraceScreen)
        lines = screen.query_one(TraceLines)
        assert lines.current is not None and lines.current.span.kind == "test"
        test_span = lines.current.span
        assert test_span.name == f"{SHOP}test_items_total_is_wrong"
        assert screen.trace_id == test_span.trace
        labels = [str(lines.label(row)) for row in lines.rows]
        assert "test_items_total_is_wrong" in labels[0] and "sql" in labels[0]
        assert any("GET /items/" in label for label in labels[1:])
        below = str(screen.query_one("#trace-span", Static).render())
        assert f"{failing[3]} with child spans" in below and "AssertionError" in below
        # ... and Enter again: the test's detail, its statements in the SQL tab.
        await pilot.press("enter")
        await pilot.pause(0.2)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        detail.query_one(TabbedContent).active = "tab-sql"
        await pilot.pause(0.2)
        statements = detail.query_one("#sql-table", DataTable)
        assert statements.row_count == int(failing[3])
        sql = " ".join(str(statements.get_row_at(i)) for i in range(statements.row_count))
        assert "INSERT" in sql and "SELECT" in sql

        # Back on the list, Enter on a test that made no request opens its trace too.
        await pilot.press("escape", "escape")
        await pilot.pause(0.1)
        await pilot.press("up", "enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TraceScreen)
        lines = screen.query_one(TraceLines)
        assert lines.current is not None
        assert lines.current.span.name == f"{SHOP}test_setup_error"
        assert len(lines.rows) == 1


def _test(w: Writer, n: int, second: float, nodeid: str, result: str, **end: object) -> None:
    trace, span = f"{0x7000 + n:032x}", f"{0x7000 + n:016x}"
    w.ev("test.start", second, trace, span, nodeid=nodeid, worker="gw1")
    outcome = "error" if result in ("failed", "error") else "ok"
    w.ev("test.end", second + 0.5, trace, span, nodeid=nodeid, ms=500.0, outcome=outcome,
         result=result, **end)  # fmt: skip


async def test_hostile_node_ids_stay_literal_and_a_capped_list_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "logs"
    w = Writer("pytest", 41)
    hostile = "t.py::test_x[[bold]b[/bold]\x1b[31mRED]"
    _test(w, 1, 1.0, hostile, "failed", message="[red]boom[/red]\nsecond line")
    for n in range(2, 8):
        _test(w, n, float(n), f"t.py::test_{n}", "passed")
    _test(w, 8, 0.5, "t.py::test_old_failure", "error", message="setup broke")
    _test(w, 9, 0.1, "t.py::test_odd", "[bold]odd\x1b[0m")  # a result no plugin writes
    w.write(folder / "pytest.h1.41.jsonl")
    monkeypatch.setattr(tests_widget, "MAX_ROWS", 4)
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("7")
        await _until(pilot, lambda: len(_rows(app)) == 4)
        rows = _rows(app)
        assert [row[1] for row in rows] == [
            "t.py::test_x[[bold]b[/bold]\\x1b[31mRED]",  # shown as written, escape and all
            "t.py::test_old_failure",
            "t.py::test_7",
            "t.py::test_6",
        ]
        assert rows[0][7] == "[red]boom[/red]" and rows[0][5] == "gw1 h1"
        await _until(pilot, lambda: "9 tests" in _summary(app))
        summary = _summary(app)
        assert "9 tests: 1 failed, 1 error, 6 passed, 1 [bold]odd\\x1b[0m" in summary
        assert "showing the first 4 of 9" in summary


async def test_tests_arriving_while_open_take_their_place(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    w = Writer("pytest", 42)
    for n in range(1, 4):
        _test(w, n, float(n), f"t.py::test_{n}", "passed")
    path = w.write(folder / "pytest.h1.42.jsonl")
    w.lines.clear()
    app = ExplorerApp(folder, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        await _until(pilot, lambda: len(_rows(app)) == 3)
        table = app.query_one("#tests-table", DataTable)
        table.move_cursor(row=1)  # on test_2
        _test(w, 4, 10.0, "t.py::test_4", "passed")
        _test(w, 5, 11.0, "t.py::test_5", "failed", message="late failure")
        with open(path, "ab") as f:
            f.write(b"".join(w.lines))
        await _until(pilot, lambda: len(_rows(app)) == 5)
        assert [row[1] for row in _rows(app)] == [
            "t.py::test_5",
            "t.py::test_4",
            "t.py::test_3",
            "t.py::test_2",
            "t.py::test_1",
        ]
        assert _rows(app)[0][0] == "failed"
        assert table.cursor_row == 3  # still on test_2
        await _until(pilot, lambda: "5 tests: 1 failed, 4 passed" in _summary(app))
        # A test that started is listed running; when it ends, its row says how.
        trace, span = f"{0x7006:032x}", f"{0x7006:016x}"
        w.ev("test.start", 12.0, trace, span, nodeid="t.py::test_6")
        with open(path, "ab") as f:
            f.write(b"".join(w.lines))
        w.lines.clear()
        await _until(pilot, lambda: len(_rows(app)) == 6)
        assert _rows(app)[1][:3] == ["running", "t.py::test_6", "…"]
        w.ev("sql", 12.1, trace, span, sql="SELECT 1", params=[], ms=0.2)
        w.ev("test.end", 12.4, trace, span, nodeid="t.py::test_6", ms=400.0, outcome="ok",
             result="skipped", message="no database")  # fmt: skip
        with open(path, "ab") as f:
            f.write(b"".join(w.lines))
        await _until(pilot, lambda: _rows(app)[1][0] == "skipped")
        assert _rows(app)[1][1:4] == ["t.py::test_6", "400.0ms", "1"]
        assert len(_rows(app)) == 6 and table.cursor_row == 4  # still on test_2


async def test_a_full_list_gives_the_oldest_rows_to_new_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "logs"
    w = Writer("pytest", 43)
    for n in range(1, 4):
        _test(w, n, float(n), f"t.py::test_{n}", "passed")
    path = w.write(folder / "pytest.h1.43.jsonl")
    w.lines.clear()
    monkeypatch.setattr(tests_widget, "MAX_ROWS", 3)
    app = ExplorerApp(folder, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        await _until(pilot, lambda: len(_rows(app)) == 3)
        for n in (4, 5):
            _test(w, n, 10.0 + n, f"t.py::test_{n}", "failed" if n == 4 else "passed")
        with open(path, "ab") as f:
            f.write(b"".join(w.lines))
        await _until(pilot, lambda: _rows(app)[0][1] == "t.py::test_4")
        assert [row[:2] for row in _rows(app)] == [
            ["failed", "t.py::test_4"],
            ["passed", "t.py::test_5"],
            ["passed", "t.py::test_3"],
        ]
        await _until(pilot, lambda: "showing the first 3 of 5" in _summary(app))
        table = app.query_one("#tests-table", DataTable)
        assert table.cursor_row == 2  # the cursor was on test_3, the newest: it still is
        await pilot.press("up", "enter")  # test_5 (a new test took test_1's row: keys follow)
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TraceScreen) and screen.trace_id == f"{0x7005:032x}"
        lines = screen.query_one(TraceLines)
        assert lines.current is not None and lines.current.span.name == "t.py::test_5"
