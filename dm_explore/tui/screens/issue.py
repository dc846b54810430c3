"""One issue: its traceback and the requests it happened in."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from dm_log.contract import format_time

from ...model import Model
from ..editor import Location
from ..messages import ModelLock, OpenSpan, OpenTrace
from ..text import block, cell, duration
from ..widgets.located import frame_items, issue_location
from ..widgets.nav import LocatedList, NavTable

__all__ = ["IssueScreen"]


class IssueScreen(Screen[None]):
    """Traceback on top, the requests it happened in below; Enter opens one, ``t`` its trace.

    ``e`` opens the frame under the cursor in the traceback, elsewhere the innermost
    frame of the project's code.
    """

    CSS_PATH = "issue.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("t", "trace", "Trace")]

    def __init__(self, model: Model, model_lock: ModelLock, fingerprint: str) -> None:
        super().__init__()
        self.model = model
        self.model_lock = model_lock
        self.fingerprint = fingerprint

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="issue-title")
        yield LocatedList(id="issue-frames")
        yield NavTable(id="issue-spans")
        yield Footer()

    def on_mount(self) -> None:
        with self.model_lock():
            issue = self.model.issues.get(self.fingerprint)
            if issue is None:
                return
            out = Text(end="")
            out.append_text(cell(issue.type, 120, "bold red"))
            out.append(": ")
            out.append_text(block(issue.message))
            first = format_time(issue.first_seen, date=True)
            last = format_time(issue.last_seen, date=True)
            out.append(
                f"\n{issue.count} times, {issue.handled} handled, first {first}, last {last}, in ",
                style="dim",
            )
            out.append_text(cell(", ".join(sorted(issue.services)), 200))
            self.query_one("#issue-title", Static).update(out)
            frames = frame_items(issue.example.get("frames"), indent="")
            self.query_one("#issue-frames", LocatedList).set_items(frames)
            table = self.query_one("#issue-spans", NavTable)
            table.focus()
            table.add_columns("when", "service", "span", "status", "duration")
            for span_id in reversed(issue.spans):
                span = self.model.span(span_id)
                if span is None:
                    continue
                root = span
                for _ in range(64):  # show the request the error happened in
                    if root.kind in ("request", "task", "command", "test") or not root.parent:
                        break
                    parent = self.model.span(root.parent, root.trace)
                    if parent is None or parent.process != root.process:
                        break
                    root = parent
                table.add_row(
                    format_time(span.start_ts) if span.start_ts else "?",
                    cell(root.svc, 20),
                    cell(f"{root.kind} {root.name}", 80),
                    cell(root.status or root.outcome, 20),
                    duration(root.ms),
                    key=root.ref,
                )

    def location(self) -> Location | None:
        """The innermost frame of the project's code in the issue's traceback."""
        with self.model_lock():
            issue = self.model.issues.get(self.fingerprint)
            return issue_location(issue) if issue is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenSpan(str(event.row_key.value)))

    def action_trace(self) -> None:
        span_id = self.query_one("#issue-spans", NavTable).current_key()
        span = self.model.span(span_id) if span_id else None
        if span is not None:
            self.post_message(OpenTrace(span.trace, span.span_id))
