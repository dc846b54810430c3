"""The issues view: errors grouped by fingerprint, findings grouped the same way, or both.

``v`` switches between errors, findings and both. Enter on an error opens the
issue (its traceback and where it happened); on a finding, its example trace
(the run where it was worst).
"""

from __future__ import annotations

import heapq
import time

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from dm_log.contract import format_time

from ...model import Model
from ...model.findings import Finding, FindingOptions, find_findings
from ...outputs.render import KIND_TITLES
from ..messages import OpenTrace
from ..text import cell

__all__ = ["MODES", "IssuesTable"]

MAX_ROWS = 1000  # the most frequent issues shown; a hostile folder may hold many more
MODES = ("errors", "findings", "both")
FINDINGS_EVERY = 2.0  # seconds between two searches for findings while the model changes
COST_FACTOR = 5  # ... and at least this many times what the last one took: the UI stays free


class IssuesTable(DataTable[object]):
    """One row per issue or finding; Enter posts :class:`IssuesTable.Chosen` or opens a trace."""

    BINDINGS = [
        Binding("enter", "choose", "Open"),
        Binding("v", "cycle_mode", "Errors/findings/both"),
    ]

    class Chosen(Message):
        def __init__(self, fingerprint: str) -> None:
            super().__init__()
            self.fingerprint = fingerprint

    mode = "errors"
    _shown: tuple[object, ...] | None = None  # what was drawn: mode, counts
    _findings: list[Finding] = []  # replaced, never changed in place
    _findings_version = -1
    _findings_at = 0.0
    _findings_cost = 0.0
    _catch_up_pending = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for header in ("count", "kind", "what", "where", "first seen", "last seen"):
            self.add_column(header if header != "kind" else "findings (v)", key=header)
        self.add_column("handled/per run", key="handled")

    def _update_findings(self, model: Model, force: bool) -> None:
        now = time.monotonic()
        if model.version == self._findings_version:
            return
        wait = max(FINDINGS_EVERY, COST_FACTOR * self._findings_cost) - (now - self._findings_at)
        if wait > 0 and not force and self._findings_version >= 0:
            if not self._catch_up_pending:  # the last change is drawn, even if none follows
                self._catch_up_pending = True
                self.set_timer(wait, self._catch_up)
            return
        self._findings = find_findings(model, FindingOptions(n_plus_one=model.n_plus_one))
        self._findings_version, self._findings_at = model.version, now
        self._findings_cost = time.monotonic() - now

    def refresh_from(self, model: Model, force: bool = False) -> None:
        """Redraw when an issue or a finding was added or seen again, or the mode changed."""
        if self.mode != "errors":
            self._update_findings(model, force)
        errors = self.mode != "findings"
        findings = self.mode != "errors"
        signature = (
            self.mode,
            len(model.issues) if errors else 0,
            sum(issue.count for issue in model.issues.values()) if errors else 0,
            self._findings_version if findings else 0,
        )
        if signature == self._shown:
            return
        self._shown = signature
        keep = self.cursor_row
        self.clear()
        rows = 0
        if errors:
            shown = heapq.nsmallest(
                MAX_ROWS, model.issues.values(), key=lambda i: (-i.count, -i.last_seen)
            )
            for issue in shown:
                self.add_row(
                    str(issue.count),
                    cell(issue.type, 40, "bold red"),
                    cell(issue.message, 60),
                    cell(", ".join(sorted(issue.services)), 40),
                    format_time(issue.first_seen),
                    format_time(issue.last_seen),
                    f"{issue.handled}/{issue.count} handled",
                    key=f"e:{issue.fingerprint}",
                )
            rows += len(shown)
            if len(model.issues) > len(shown):
                self.add_row(
                    Text(f"+{len(model.issues) - len(shown)}", style="dim"),
                    Text("more errors, less frequent", style="dim"),
                    key="",
                )
        if findings:
            for finding in self._findings[:MAX_ROWS]:
                low, high = finding.min_per_unit, finding.max_per_unit
                self.add_row(
                    str(finding.units),
                    cell(KIND_TITLES.get(finding.kind, finding.kind), 40, "bold yellow"),
                    cell(finding.subject, 60),
                    cell(f"{finding.svc} {finding.where}", 40),
                    format_time(finding.first_seen),
                    format_time(finding.last_seen),
                    f"{low}x per run" if low == high else f"{low}-{high}x per run",
                    key=f"f:{finding.example_trace}:{finding.example_span}:{finding.fingerprint}",
                )
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))
        kind = self.columns.get(ColumnKey("kind"))
        if kind is not None:  # the header says what is shown, and how to switch
            kind.label = Text(f"{self.mode} (v)".ljust(12))
            self.refresh()

    def _catch_up(self) -> None:
        self._catch_up_pending = False
        redraw = getattr(self.app, "redraw", None)  # the app redraws under the model lock
        if callable(redraw):
            redraw(force=True)

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.app.notify(f"issues view: {self.mode}")
        redraw = getattr(self.app, "redraw", None)  # the app redraws under the model lock
        if callable(redraw):
            redraw(force=True)

    def _open(self, key: str) -> None:
        if key.startswith("e:"):
            self.post_message(self.Chosen(key[2:]))
        elif key.startswith("f:"):
            _f, trace, span, _fp = key.split(":", 3)
            if trace:
                self.post_message(OpenTrace(trace, span or None))

    def action_choose(self) -> None:
        if self.row_count:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if key:
                self._open(str(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self._open(str(event.row_key.value))
