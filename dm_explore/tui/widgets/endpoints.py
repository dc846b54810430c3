"""The endpoints view: per (service, method, route), task and command, sortable by any column.

``s`` sorts by the next column, ``r`` reverses, a click on a header sorts by it;
Enter opens the trace of the endpoint's slowest run.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from ...model import Model
from ...model.endpoints import EndpointStats, endpoint_stats
from ...model.findings import FindingOptions, find_findings
from ..messages import OpenTrace
from ..text import cell

__all__ = ["COLUMNS", "EndpointsTable"]

MAX_ROWS = 2000
EVERY = 2.0  # seconds between two computations while the model changes (at least)
COST_FACTOR = 5  # ... and at least this many times what the last one took: the UI stays free
# (header, the figure it shows and sorts by); the first sort is by count, most first
COLUMNS: tuple[tuple[str, str], ...] = (
    ("endpoint", "key"),
    ("kind", "kind"),
    ("count", "count"),
    ("errors", "error_rate"),
    ("retries", "retries"),
    ("p50", "p50_ms"),
    ("p95", "p95_ms"),
    ("p99", "p99_ms"),
    ("max", "max_ms"),
    ("queries med", "queries_median"),
    ("queries max", "queries_max"),
    ("findings", "findings"),
)


def _ms(value: float) -> str:
    return f"{value:.1f}"


class EndpointsTable(DataTable[object]):
    """One row per endpoint; Enter posts :class:`~dm_explore.tui.messages.OpenTrace`."""

    BINDINGS = [
        Binding("enter", "choose", "Slowest trace"),
        Binding("s", "next_sort", "Sort"),
        Binding("r", "reverse", "Reverse"),
    ]

    sort_by = "count"
    descending = True
    _rows: list[EndpointStats] = []  # replaced, never changed in place
    _version = -1
    _at = 0.0
    _cost = 0.0
    _catch_up_pending = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for header, figure in COLUMNS:  # room for the sort arrow
            self.add_column(header + "  ", key=figure)

    def refresh_from(self, model: Model, force: bool = False) -> None:
        """Recompute when the model changed (at most every :data:`EVERY` seconds, and
        :data:`COST_FACTOR` times what the last computation took), then draw."""
        now = time.monotonic()
        if model.version == self._version:
            return
        wait = max(EVERY, COST_FACTOR * self._cost) - (now - self._at)
        if wait > 0 and not force and self._version >= 0:
            if not self._catch_up_pending:  # the last change is drawn, even if none follows
                self._catch_up_pending = True
                self.set_timer(wait, self._catch_up)
            return
        options = FindingOptions(n_plus_one=model.n_plus_one)
        self._rows = endpoint_stats(model, find_findings(model, options))
        self._version, self._at = model.version, now
        self._cost = time.monotonic() - now
        self._draw()

    def _catch_up(self) -> None:
        self._catch_up_pending = False
        redraw = getattr(self.app, "redraw", None)  # the app redraws under the model lock
        if callable(redraw):
            redraw(force=True)

    def _sorted(self) -> list[EndpointStats]:
        figure = self.sort_by
        if figure in ("key", "kind"):
            return sorted(
                self._rows, key=lambda r: str(getattr(r, figure)), reverse=self.descending
            )
        return sorted(
            self._rows, key=lambda r: (float(getattr(r, figure)), r.key), reverse=self.descending
        )

    def _draw(self) -> None:
        keep = self.cursor_row
        self.clear()
        for row in self._sorted()[:MAX_ROWS]:
            self.add_row(
                cell(row.key, 60),
                row.kind,
                str(row.count),
                f"{row.errors} ({100 * row.error_rate:.0f}%)" if row.errors else "0",
                str(row.retries) if row.retries else "",
                _ms(row.p50_ms),
                _ms(row.p95_ms),
                _ms(row.p99_ms),
                _ms(row.max_ms),
                f"{row.queries_median:g}",
                str(row.queries_max),
                str(row.findings) if row.findings else "",
                key=f"{row.example_trace}|{row.key}",
            )
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))
        arrow = " ▼" if self.descending else " ▲"
        for header, figure in COLUMNS:  # the sort column's header says so
            column = self.columns.get(ColumnKey(figure))
            if column is not None:
                column.label = Text(header + (arrow if figure == self.sort_by else "  "))
        self.refresh()

    def sort_on(self, figure: str) -> None:
        """Sort by ``figure``; again on the same one reverses."""
        if figure == self.sort_by:
            self.descending = not self.descending
        else:
            self.sort_by, self.descending = figure, figure not in ("key", "kind")
        self._draw()

    def action_next_sort(self) -> None:
        figures = [f for _h, f in COLUMNS]
        self.sort_by = figures[(figures.index(self.sort_by) + 1) % len(figures)]
        self.descending = self.sort_by not in ("key", "kind")
        self._draw()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self._draw()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value:
            self.sort_on(str(event.column_key.value))

    def _open(self, key: str) -> None:
        trace = key.split("|", 1)[0]
        if trace:
            self.post_message(OpenTrace(trace))

    def action_choose(self) -> None:
        if self.row_count:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if key:
                self._open(str(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self._open(str(event.row_key.value))
