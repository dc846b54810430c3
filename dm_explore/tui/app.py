"""The explorer app: tabs over the model, pushed screens for traces and details."""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from dm_log.contract import zone_name

from ..ingest.live import LiveFolder
from ..model import Model, RequestFilter, trace_id_of
from ..outputs.textsafe import safe_line
from .filters import parse_filter
from .messages import OpenSpan, OpenTrace
from .open_editor import open_in_editor
from .screens.detail import DetailScreen
from .screens.file import FileScreen
from .screens.help import HelpScreen, screen_keys
from .screens.issue import IssueScreen
from .screens.trace import TraceScreen
from .status import ListState, status_line
from .widgets.commands import CommandsTable
from .widgets.endpoints import EndpointsTable
from .widgets.files import FilesTable
from .widgets.issues import IssuesTable
from .widgets.metrics import MetricsView
from .widgets.nav import NavScroll
from .widgets.request_list import RequestList
from .widgets.tests import TestsTable

__all__ = ["ExplorerApp", "run"]

W = TypeVar("W", bound=Widget)

TABS = ("requests", "issues", "commands", "metrics", "files", "endpoints", "tests")
PALETTE = (  # command palette entries beyond the views: title, help, action
    ("Filter requests", "svc:, status:, slow:, errors (ctrl+f)", "filter"),
    ("Errors only on/off", "requests with an error (E)", "toggle_word('errors')"),
    ("Open in editor", "the file and line of the row in front (e)", "open_in_editor"),
    ("In flight only on/off", "requests still running (i)", "toggle_word('inflight')"),
    ("Clear filter", "every request again (x)", "clear_filter"),
    ("Search", "in the current list (/ then n, N)", "search"),
    ("Follow on/off", "keep the newest request in view (f)", "toggle_follow"),
    ("Order newest/slowest", "the request list order (o)", "toggle_order"),
    ("Keys", "every key of the screen in front (?)", "help"),
)


class ExplorerApp(App[int]):
    """``dm-explore DIR``: every file of the folder merged into live views."""

    CSS_PATH = "app.tcss"
    TITLE = "dm-explore"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("slash", "search", "Search"),
        Binding("n", "next_match(1)", "Next match", show=False),
        Binding("N", "next_match(-1)", "Previous match", show=False),
        Binding("ctrl+f", "filter", "Filter"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("o", "toggle_order", "Order"),
        Binding("e", "open_in_editor", "Open the file and line in the editor", show=False),
        Binding("E", "toggle_word('errors')", "Requests with errors only (on/off)", show=False),
        Binding("i", "toggle_word('inflight')", "Requests in flight only (on/off)", show=False),
        Binding("x", "clear_filter", "Clear the filter", show=False),
        Binding("m", "toggle_per", "Metrics per second / per minute", show=False),
        Binding("escape", "leave_input", "Back", show=False),
        *(
            Binding(str(i + 1), f"tab('{name}')", name.title(), show=False)
            for i, name in enumerate(TABS)
        ),
    ]

    def __init__(
        self,
        folder: Path,
        *,
        poll: bool = False,
        model: Model | None = None,
        follow_files: bool = True,
    ) -> None:
        super().__init__()
        self.folder = folder
        self.loader = LiveFolder(folder, poll=poll, model=model)
        self.follow_files = follow_files
        self.follow = True
        self.order = "newest"
        self.per = "second"
        self.request_filter: RequestFilter = RequestFilter()
        self.search_term = ""
        self._drawn_version = -1
        self._drawn_at = 0.0
        self._dirty = False  # a forced redraw found the lock busy: draw on the next tick
        self._retry_pending = False
        self.sub_title = f"{safe_line(folder.name, 80)} · times in {zone_name()}"

    @property
    def model(self) -> Model:
        return self.loader.model

    def _main(self, selector: str, expect_type: type[W]) -> W:
        """A widget of the main (tabbed) screen, whichever screen is on top."""
        return self.screen_stack[0].query_one(selector, expect_type)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        with TabbedContent(id="tabs", initial="requests"):
            with TabPane("1 Requests", id="requests"):
                yield Input(
                    placeholder="ctrl+f filter: text  svc:NAME  status:5xx|404  slow:MS  errors  "
                    "inflight",
                    id="filter",
                    compact=True,
                )
                yield RequestList(id="request-list")
            with TabPane("2 Issues", id="issues"):
                yield IssuesTable(id="issues-table")
            with TabPane("3 Commands", id="commands"):
                yield CommandsTable(id="commands-table")
            with TabPane("4 Metrics", id="metrics"), NavScroll(id="metrics-scroll"):
                yield MetricsView(id="metrics-view")
            with TabPane("5 Files", id="files"):
                yield FilesTable(id="files-table")
            with TabPane("6 Endpoints", id="endpoints"):
                yield EndpointsTable(id="endpoints-table")
            with TabPane("7 Tests", id="tests"):
                yield Static(id="tests-summary")
                yield TestsTable(id="tests-table")
        yield Input(
            placeholder="search (Enter; n / N for the next and previous match)",
            id="search",
            compact=True,
        )
        yield Footer()

    def on_mount(self) -> None:
        self._main("#search", Input).display = False
        self._main("#request-list", RequestList).focus()
        if self.follow_files:
            self._load()
        else:
            self.loader.read_now()
            self.loader.loaded = True
        self.set_interval(0.15, self.redraw)
        self.redraw()

    @work(thread=True, exclusive=True, group="loader")
    def _load(self) -> None:
        self.loader.run()

    def on_unmount(self) -> None:
        self.loader.stop()

    # -- drawing -----------------------------------------------------------------------

    def redraw(self, force: bool = False) -> None:
        """Refresh the visible view when the model changed (batched: at most every 150 ms).

        The UI thread never waits for the reader: when the lock is busy this tick is
        skipped, and the reader stands aside so that the next one gets it.
        """
        if not self.screen_stack or self.screen is not self.screen_stack[0]:
            return  # a pushed view is on top: draw the lists when it is back
        if not self.screen_stack[0].query("#status"):
            return  # not composed yet, or already torn down
        now = time.monotonic()
        if not (self.loader.loaded or force or self._dirty) and now - self._drawn_at < 0.5:
            self._draw_status(locked=False)  # loading: the lists wait, the reader runs on
            return
        if not self.loader.try_lock():
            self._dirty = self._dirty or force
            if not self._retry_pending:  # the reader stands aside for us: come back soon
                self._retry_pending = True
                self.set_timer(0.01, self._retry_redraw)
            return
        try:
            version = self.model.version
            if version == self._drawn_version and not (force or self._dirty):
                if not self.loader.loaded or self.loader.error:
                    self._draw_status()
                elif self.model.live and now - self._drawn_at >= 1.0:
                    self._drawn_at = now  # requests in flight age on screen once a second
                    self._main("#request-list", RequestList).tick(self.model.now())
                return
            active = self._main("#tabs", TabbedContent).active
            if active != "requests" and not (force or self._dirty) and now - self._drawn_at < 0.5:
                return  # the summary tables redraw at most twice a second
            self._drawn_version, self._drawn_at, self._dirty = version, now, False
            if active == "requests":
                listing = self._main("#request-list", RequestList)
                listing.update_from(self.model, follow=self.follow, exact=False)
                if listing.rows.pending:  # a new filter is still being matched: go on soon
                    self._dirty = True
                    if not self._retry_pending:
                        self._retry_pending = True
                        self.set_timer(0.02, self._retry_redraw)
            elif active == "issues":
                self._main("#issues-table", IssuesTable).refresh_from(self.model)
            elif active == "commands":
                self._main("#commands-table", CommandsTable).refresh_from(self.model)
            elif active == "metrics":
                self._main("#metrics-view", MetricsView).refresh_from(self.model, self.per)
            elif active == "files":
                self._main("#files-table", FilesTable).refresh_from(
                    self.model, self.folder, self.loader.reader.problems
                )
            elif active == "endpoints":
                self._main("#endpoints-table", EndpointsTable).refresh_from(self.model, force)
            elif active == "tests":
                self._main("#tests-table", TestsTable).refresh_from(self.model, force)
            self._draw_status()
        finally:
            self.loader.lock.release()

    def _retry_redraw(self) -> None:
        self._retry_pending = False
        self.redraw()

    def _requery(self) -> None:
        """The filter or the order changed: the request list starts over."""
        self._main("#request-list", RequestList).set_query(self.request_filter, self.order)
        self.redraw(force=True)

    def _draw_status(self, locked: bool = True) -> None:
        """The status line; without the lock, only counters safe to read while loading."""
        listing = self._main("#request-list", RequestList)
        shown = ListState(
            self.follow, self.follow_files, self.order, self.search_term, listing.rows.pending
        )
        self._main("#status", Static).update(status_line(self.loader, shown, locked=locked))

    # -- opening things ------------------------------------------------------------------

    def open_span(self, span_id: str) -> None:
        self.push_screen(DetailScreen(self.model, self.loader.holding, span_id))

    def open_trace(self, trace_id: str, span_id: str | None = None) -> None:
        self.push_screen(TraceScreen(self.model, self.loader.holding, trace_id, span_id))

    def on_open_span(self, message: OpenSpan) -> None:
        self.open_span(message.span_id)

    def on_open_trace(self, message: OpenTrace) -> None:
        self.open_trace(message.trace_id, message.span_id)

    def on_request_list_chosen(self, message: RequestList.Chosen) -> None:
        span = self.model.span(message.span_id)
        if span is None:
            return
        if message.trace:
            self.open_trace(span.trace, span.span_id)
        else:
            self.open_span(span.ref)

    def on_issues_table_chosen(self, message: IssuesTable.Chosen) -> None:
        self.push_screen(IssueScreen(self.model, self.loader.holding, message.fingerprint))

    def on_commands_table_chosen(self, message: CommandsTable.Chosen) -> None:
        self.open_span(message.span_id)

    def on_tests_table_chosen(self, message: TestsTable.Chosen) -> None:
        """A test's trace, the cursor on the test (its ref names both)."""
        trace_id, _, span_id = message.span_id.rpartition("-")
        self.open_trace(trace_id, span_id)

    def on_tests_table_counted(self, message: TestsTable.Counted) -> None:
        self._main("#tests-summary", Static).update(message.summary)

    def on_files_table_chosen(self, message: FilesTable.Chosen) -> None:
        self.push_screen(FileScreen(self.model, self.loader.holding, message.file_id))

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "tabs":
            self.redraw(force=True)

    # -- input -------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.request_filter = parse_filter(event.value)
            self._requery()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.search_term = event.value
            event.input.display = False
            self._focus_list()
            self.action_next_match(1, from_current=True)
            self.redraw(force=True)  # the status line shows the term
        elif event.input.id == "filter":
            self._main("#request-list", RequestList).focus()

    def _focus_list(self) -> None:
        active = self._main("#tabs", TabbedContent).active
        target = {
            "requests": "#request-list",
            "issues": "#issues-table",
            "commands": "#commands-table",
            "metrics": "#metrics-scroll",
            "files": "#files-table",
            "endpoints": "#endpoints-table",
            "tests": "#tests-table",
        }.get(active)
        if target:  # at once, so that a focus asked for after this one wins
            widget = self._main(target, Widget)
            widget.screen.set_focus(widget)

    # -- actions -----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p): every view and toggle, beside Textual's own."""
        yield from super().get_system_commands(screen)
        for index, name in enumerate(TABS, 1):
            yield SystemCommand(
                f"Show {name.title()}",
                f"the {name} view (key {index})",
                partial(self.action_tab, name),
            )
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, partial(self.run_action, action))

    def action_leave_input(self) -> None:
        """Escape in the search or filter input: back to the list (the search closes)."""
        search = self._main("#search", Input)
        if search.display:
            search.display = False
        self._focus_list()

    def action_open_in_editor(self) -> None:
        """``e``: the file and line of what the focused widget shows, in the user's editor."""
        open_in_editor(self)

    def action_help(self) -> None:
        """``?``: every key of the screen in front, from its bindings and its widgets'."""
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = (
            f"the {self._main('#tabs', TabbedContent).active} view"
            if screen is self.screen_stack[0]
            else type(screen).__name__.removesuffix("Screen").lower() + " screen"
        )
        self.push_screen(HelpScreen(screen_keys(screen), title))

    def action_tab(self, name: str) -> None:
        self._main("#tabs", TabbedContent).active = name
        self._focus_list()

    def action_search(self) -> None:
        search = self._main("#search", Input)
        search.display = True
        search.value = self.search_term
        # Focus now, not after the queue: keys typed right after "/" belong to the input.
        search.screen.set_focus(search)

    def action_filter(self) -> None:
        self.action_tab("requests")
        filter_input = self._main("#filter", Input)
        filter_input.screen.set_focus(filter_input)

    def action_toggle_word(self, word: str) -> None:
        """Add ``word`` (``errors``, ``inflight``) to the request filter, or take it out."""
        self.action_tab("requests")
        filter_input = self._main("#filter", Input)
        words = filter_input.value.split()
        filter_input.value = " ".join(
            [w for w in words if w != word] if word in words else [*words, word]
        )

    def action_clear_filter(self) -> None:
        self._main("#filter", Input).value = ""

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow:
            self._main("#request-list", RequestList).cursor = 0
        self.notify(
            "following: the newest request stays in view"
            if self.follow
            else "paused: the cursor stays on its request"
        )
        self.redraw(force=True)

    def action_toggle_order(self) -> None:
        self.order = "slowest" if self.order == "newest" else "newest"
        self._requery()

    def action_toggle_per(self) -> None:
        self.per = "minute" if self.per == "second" else "second"
        self.redraw(force=True)

    def action_next_match(self, step: int, from_current: bool = False) -> None:
        term = trace_id_of(self.search_term).lower()  # a pasted traceresponse: its trace
        if not term:
            return
        active = self._main("#tabs", TabbedContent).active
        if active == "requests":  # searched a slice at a time: a million rows never block
            self._main("#request-list", RequestList).search(term, step, from_current)
            return
        table = self._main(f"#{active}-table", DataTable) if active != "metrics" else None
        if table is None or not table.row_count:
            return
        start = table.cursor_row if from_current else table.cursor_row + step
        for offset in range(table.row_count):
            index = (start + offset * step) % table.row_count
            if term in " ".join(str(c) for c in table.get_row_at(index)).lower():
                table.move_cursor(row=index)
                return
        self._no_match(self.search_term)

    def on_request_list_no_match(self, message: RequestList.NoMatch) -> None:
        self._no_match(message.term)

    def _no_match(self, term: str) -> None:
        self.notify(f"no match for {term[:40]!r}", severity="warning", markup=False)


def run(folder: Path, *, poll: bool = False) -> int:
    """Open the explorer on ``folder`` until the user quits."""
    app = ExplorerApp(folder, poll=poll)
    app.run()
    return app.return_code or 0
