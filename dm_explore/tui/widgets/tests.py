"""The tests view: every recorded test, failures first, then newest first.

One row per ``test`` span the model holds (:attr:`~dm_explore.model.Model.tests`),
whether or not the test made a request: result, node id, duration, statements
and requests under it, worker and host, start time, and a failure's message.
Enter opens the test's trace; ``e`` opens where a failed test raised. Every
text from the files (node ids, results, messages, hosts) is shown literally.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from dm_log.contract import format_time

from ...model import Model
from ...model.suite import Suite, SuiteRow, suite_rows
from ..editor import Location, frame_location
from ..text import cell, duration
from .keyed import KeyedTable

__all__ = ["MAX_ROWS", "RESULT_STYLE", "TestsTable", "suite_summary"]

MAX_ROWS = 2000  # rows drawn: every failure first, then the newest
_REBUILD_AT = 200  # more rows left over than this: clear the table and add every row
RESULT_STYLE = {
    "failed": "bold red",
    "error": "bold red",
    "killed": "bold red",
    "passed": "green",
    "skipped": "yellow",
    "xfailed": "dim yellow",
    "xpassed": "yellow",
    "running": "italic cyan",
}
_ORDER = ("failed", "error", "killed", "running", "passed", "skipped", "xfailed", "xpassed")


def suite_summary(suite: Suite, shown: int) -> Text:
    """``12 tests: 2 failed, 9 passed, 1 skipped · failures first, then newest``, and how
    many rows are shown when not all are."""
    if not suite.total:
        return Text("no tests recorded (a pytest run with --dm-log-dir records them)", end="")
    out = Text(f"{suite.total} test{'' if suite.total == 1 else 's'}: ", style="bold", end="")
    known = [r for r in _ORDER if r in suite.results]
    others = sorted(r for r in suite.results if r not in _ORDER)
    for n, result in enumerate(known + others):
        if n:
            out.append(", ")
        out.append(str(suite.results[result]), style="bold")
        out.append(" ")
        out.append_text(cell(result, 20, RESULT_STYLE.get(result, "")))
    out.append(" · failures first, then newest", style="dim")
    if shown < suite.total:
        out.append(f" · showing the first {shown} of {suite.total}", style="bold yellow")
    return out


class TestsTable(KeyedTable):
    """One row per test, failures (failed, error, killed) first, then newest first.

    Refreshed only when the model's test list changed (:attr:`Model.tests_version`),
    at most every :attr:`EVERY` seconds and :attr:`COST_FACTOR` times what the last
    refresh took, and then only the rows that changed are touched (:meth:`_draw`);
    at most :data:`MAX_ROWS` rows are drawn, the summary saying so. Each refresh
    posts :class:`TestsTable.Counted`; Enter posts :class:`TestsTable.Chosen`.
    """

    __test__ = False  # a widget, not a test class, to pytest

    EVERY = 1.0
    BINDINGS = [Binding("enter", "choose", "Trace")]

    class Chosen(Message):
        """The user asked for a test's trace: ``span_id`` is the test span's ref."""

        def __init__(self, span_id: str) -> None:
            super().__init__()
            self.span_id = span_id

    class Counted(Message):
        """The list was refreshed: ``summary`` says how many tests ended how."""

        def __init__(self, summary: Text) -> None:
            super().__init__()
            self.summary = summary

    def on_mount(self) -> None:
        self.zebra_stripes = True
        self._shown: dict[str, _Shown] = {}  # test ref -> what its table row shows
        self._refs: dict[str, str] = {}  # row key -> the test ref it shows
        self._keys = 0  # row keys made so far
        for name in ("result", "test", "duration", "sql", "requests", "worker/host", "started"):
            self.add_column(name, key=name)
        self.add_column("message", key="message")

    def refresh_from(self, model: Model, force: bool = False) -> None:
        """Refresh when a test started, ended, was killed or evicted since the last time."""
        version = model.tests_version
        if not self.compute_due(version, force):
            return
        began = time.monotonic()
        suite = suite_rows(model, MAX_ROWS)
        self._draw(suite.rows)
        shown = self._shown
        self._locations = {
            shown[row.ref].key: where
            for row in suite.rows
            if row.failed
            and (span := model.span(row.ref)) is not None
            and (where := _raised_at(span.exceptions)) is not None
        }
        self.computed(version, began)
        self.post_message(self.Counted(suite_summary(suite, len(suite.rows))))

    def _draw(self, rows: list[SuiteRow]) -> None:
        """Show ``rows`` in their order, touching only what changed.

        A test still listed keeps its table row (its cells updated if the test
        changed); a new test takes over the row of a test no longer listed, else a
        new row; then the rows are put in order. A few tests arriving on a full list
        cost a few rows' cells, not the whole table (removing a DataTable row costs
        the whole table). Past :data:`_REBUILD_AT` rows left over, the table is
        cleared and filled again instead.
        """
        keep = self.current_key()
        keep_ref = self._refs.get(keep) if keep is not None else None
        keep_row = self.cursor_row
        shown, refs = self._shown, self._refs
        wanted = {row.ref for row in rows}
        free = [shown.pop(ref).key for ref in list(shown) if ref not in wanted]
        if len(free) - max(len(rows) - len(shown), 0) > _REBUILD_AT:
            self.clear()
            shown.clear()
            refs.clear()
            free = []
        for row in rows:
            before = shown.get(row.ref)
            if before is not None and before.row == row:
                continue
            cells = _cells(row)
            if before is None and not free:
                self._keys += 1
                key = f"row{self._keys}"
                self.add_row(*cells, key=key)
            else:
                key = before.key if before is not None else free.pop()
                for column, value in zip(self.ordered_columns, cells, strict=True):
                    self.update_cell(key, column.key, value)
            shown[row.ref] = _Shown(row, key, cells[0])
            refs[key] = row.ref
        for key in free:  # fewer tests than rows
            self.remove_row(key)
            del refs[key]
        position = {id(shown[row.ref].result): n for n, row in enumerate(rows)}
        self.sort("result", key=lambda result: position[id(result)])
        if not self.row_count:
            return
        index = None
        if keep_ref is not None and keep_ref in shown:  # the cursor stays on its test
            index = self.get_row_index(shown[keep_ref].key)
        self.move_cursor(row=index if index is not None else min(keep_row, self.row_count - 1))

    def open_key(self, key: str) -> None:
        """The test's trace, the cursor on the test."""
        ref = self._refs.get(key)
        if ref is not None:
            self.post_message(self.Chosen(ref))


@dataclass(slots=True)
class _Shown:
    """A test's table row: the row it shows, the row's key, the row's result cell."""

    row: SuiteRow
    key: str
    result: Text


def _cells(row: SuiteRow) -> tuple[Text, ...]:
    """A row's cells, all :class:`Text` (a ``str`` cell would be parsed as markup)."""
    return (
        cell(row.result, 12, RESULT_STYLE.get(row.result, "")),  # from the file: literal
        cell(row.nodeid, 100, "bold red" if row.failed else ""),
        Text(duration(row.ms) if row.ms is not None else "…", end=""),
        Text(str(row.sql), end=""),
        Text(str(row.requests), end=""),
        cell(f"{row.worker} {row.host}" if row.worker else row.host, 30),
        Text(format_time(row.start_ts, date=True) if row.start_ts else "?", end=""),
        cell(row.message.partition("\n")[0] if row.failed else "", 80, "red"),
    )


def _raised_at(exceptions: object) -> Location | None:
    """Where the last exception with usable frames was raised."""
    for event in reversed(exceptions if isinstance(exceptions, list) else []):
        if isinstance(event, dict) and (found := frame_location(event.get("frames"))):
            return found
    return None
