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
from textual.widgets.data_table import ColumnKey

from dm_log.contract import format_time

from ...model import Model
from ...model.findings import Finding, FindingOptions, find_findings
from ...outputs.render import KIND_TITLES
from ..editor import Location
from ..messages import OpenTrace
from ..text import cell
from .keyed import KeyedTable
from .located import finding_location, issue_location

__all__ = ["MODES", "IssuesTable"]

MAX_ROWS = 1000  # the most frequent issues shown; a hostile folder may hold many more
MODES = ("errors", "findings", "both")


class IssuesTable(KeyedTable):
    """One row per issue or finding; Enter posts :class:`IssuesTable.Chosen` or opens a trace."""

    BINDINGS = [
        Binding("enter", "choose", "Open"),
        Binding("v", "cycle_mode", "Show errors, findings or both"),
    ]

    class Chosen(Message):
        def __init__(self, fingerprint: str) -> None:
            super().__init__()
            self.fingerprint = fingerprint

    mode = "errors"
    _shown: tuple[object, ...] | None = None  # what was drawn: mode, counts
    _findings: list[Finding] = []  # replaced, never changed in place

    def on_mount(self) -> None:
        self.zebra_stripes = True
        for header in ("count", "kind", "what", "where", "first seen", "last seen"):
            self.add_column(header if header != "kind" else "findings (v)", key=header)
        self.add_column("handled/per run", key="handled")

    def _update_findings(self, model: Model, force: bool) -> None:
        """Search for findings again when due (see :meth:`KeyedTable.compute_due`)."""
        if not self.compute_due(model.version, force):
            return
        began = time.monotonic()
        self._findings = find_findings(model, FindingOptions(n_plus_one=model.n_plus_one))
        self.computed(model.version, began)

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
            self._version if findings else 0,
        )
        if signature == self._shown:
            return
        self._shown = signature
        keep = self.cursor_row
        self.clear()
        self._locations = {}
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
                self._remember(f"e:{issue.fingerprint}", issue_location(issue))
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
                key = f"f:{finding.example_trace}:{finding.example_span}:{finding.fingerprint}"
                self.add_row(
                    str(finding.units),
                    cell(KIND_TITLES.get(finding.kind, finding.kind), 40, "bold yellow"),
                    cell(finding.subject, 60),
                    cell(f"{finding.svc} {finding.where}", 40),
                    format_time(finding.first_seen),
                    format_time(finding.last_seen),
                    f"{low}x per run" if low == high else f"{low}-{high}x per run",
                    key=key,
                )
                self._remember(key, finding_location(finding))
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))
        kind = self.columns.get(ColumnKey("kind"))
        if kind is not None:  # the header says what is shown, and how to switch
            kind.label = Text(f"{self.mode} (v)".ljust(12))
            self.refresh()

    def _remember(self, key: str, where: Location | None) -> None:
        if where is not None:
            self._locations[key] = where

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.app.notify(f"issues view: {self.mode}")
        redraw = getattr(self.app, "redraw", None)  # the app redraws under the model lock
        if callable(redraw):
            redraw(force=True)

    def open_key(self, key: str) -> None:
        """An error's issue screen, or a finding's example trace."""
        if key.startswith("e:"):
            self.post_message(self.Chosen(key[2:]))
        elif key.startswith("f:"):
            _f, trace, span, _fp = key.split(":", 3)
            if trace:
                self.post_message(OpenTrace(trace, span or None))
