"""The issues view: exceptions grouped by fingerprint, most frequent first."""

from __future__ import annotations

import heapq

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from dm_log.contract import format_time

from ...model import Model
from ..text import cell

__all__ = ["IssuesTable"]

MAX_ROWS = 1000  # the most frequent issues shown; a hostile folder may hold many more


class IssuesTable(DataTable[object]):
    """One row per issue; Enter posts :class:`IssuesTable.Chosen`."""

    BINDINGS = [Binding("enter", "choose", "Issue")]

    class Chosen(Message):
        def __init__(self, fingerprint: str) -> None:
            super().__init__()
            self.fingerprint = fingerprint

    _shown: tuple[int, int] | None = None  # (issues, total count) drawn

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(
            "count", "type", "message", "services", "first seen", "last seen", "handled"
        )

    def refresh_from(self, model: Model) -> None:
        """Redraw when an issue was added or seen again (counts only grow)."""
        signature = (len(model.issues), sum(issue.count for issue in model.issues.values()))
        if signature == self._shown:
            return
        self._shown = signature
        keep = self.cursor_row
        self.clear()
        shown = heapq.nsmallest(
            MAX_ROWS, model.issues.values(), key=lambda i: (-i.count, -i.last_seen)
        )
        for issue in shown:
            self.add_row(
                str(issue.count),
                cell(issue.type, 40, "bold red"),
                cell(issue.message, 80),
                cell(", ".join(sorted(issue.services)), 40),
                format_time(issue.first_seen),
                format_time(issue.last_seen),
                f"{issue.handled}/{issue.count}",
                key=issue.fingerprint,
            )
        if len(model.issues) > len(shown):
            self.add_row(
                Text(f"+{len(model.issues) - len(shown)}", style="dim"),
                Text("more, less frequent", style="dim"),
                key="",
            )
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def action_choose(self) -> None:
        if self.row_count:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if key:
                self.post_message(self.Chosen(str(key)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.Chosen(str(event.row_key.value)))
