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
from .keyed import KeyedTable

__all__ = ["COLUMNS", "EndpointsTable"]

MAX_ROWS = 2000
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


class EndpointsTable(KeyedTable):
    """One row per endpoint; Enter posts :class:`~dm_explore.tui.messages.OpenTrace`."""

    BINDINGS = [
        Binding("enter", "choose", "Slowest trace"),
        Binding("s", "next_sort", "Sort"),
        Binding("r", "reverse", "Reverse"),
    ]

    sort_by = "count"
    descending = True
    _rows: list[EndpointStats] = []  # replaced, never changed in place

    def on_mount(self) -> None:
        self.zebra_stripes = True
        for header, figure in COLUMNS:  # room for the sort arrow
            self.add_column(header + "  ", key=figure)

    def refresh_from(self, model: Model, force: bool = False) -> None:
        """Recompute when the model changed (at most every :attr:`EVERY` seconds, and
        :attr:`COST_FACTOR` times what the last computation took), then draw."""
        if not self.compute_due(model.version, force):
            return
        began = time.monotonic()
        options = FindingOptions(n_plus_one=model.n_plus_one)
        self._rows = endpoint_stats(model, find_findings(model, options))
        self.computed(model.version, began)
        self._draw()

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

    def open_key(self, key: str) -> None:
        """The trace of the endpoint's slowest run."""
        trace = key.split("|", 1)[0]
        if trace:
            self.post_message(OpenTrace(trace))
