"""A span's detail: overview, headers, SQL, templates, cache, profile, logs, exceptions, panels."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    ContentSwitcher,
    DataTable,
    Footer,
    Header,
    Static,
    TabbedContent,
    TabPane,
    Tabs,
    Tree,
)

from dm_log.contract import format_time

from ...model import CacheRec, Model, Span, SqlRec, span_sql, subtree
from ..editor import Location
from ..messages import ModelLock, OpenTrace
from ..text import block, cell, duration, status_text, tail_cell
from ..widgets import detail_tabs as tabs
from ..widgets import located
from ..widgets.nav import LocatedList, NavScroll, NavTable, NavTree
from ..widgets.panels import panel_widget

__all__ = ["DetailScreen", "panel_widget"]

SQL_ORDERS = ("time", "duration", "site")


class DetailScreen(Screen[None]):
    """Everything recorded under one span. ``s`` changes the SQL order, ``p`` the profile's
    top-functions order (self or total samples), ``t`` opens the trace.

    ``[`` / ``]`` and Tab / Shift+Tab switch tabs wherever the focus is; ``e`` opens
    the file and line of the statement, log line, frame or template under the cursor.
    """

    CSS_PATH = "detail.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("t", "trace", "Trace"),
        Binding("s", "sort_sql", "Sort SQL"),
        Binding("p", "sort_profile", "Profile order"),
        Binding("right_square_bracket", "switch_tab(1)", "Next tab"),
        Binding("tab", "switch_tab(1)", "Next tab", show=False),
        Binding("left_square_bracket,shift+tab", "switch_tab(-1)", "Previous tab", show=False),
    ]

    def __init__(self, model: Model, model_lock: ModelLock, span_ref: str) -> None:
        """``span_ref``: the span's :attr:`~Span.ref` (``trace-span``), or a bare span id."""
        super().__init__()
        self.model = model
        self.model_lock = model_lock
        self.span_ref = span_ref
        self.span_id = span_ref.rpartition("-")[2]
        self.sql_order = "time"
        self.profile_order = "self"
        self._version = -1
        self._shown: tuple[object, ...] | None = None  # signature of what is drawn
        self._panels_shown: tuple[object, ...] | None = None
        self._sql_rows: list[tuple[SqlRec, str]] = []  # table rows: statement, its flags
        self._origins: dict[str, str] = {}  # template name -> its file, for the SQL rows
        self._cache_calls: list[CacheRec] = []  # the cache table's rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail-title")
        with TabbedContent(id="detail-tabs"):
            with TabPane("Overview", id="tab-overview"):
                yield NavScroll(Static(id="overview"))
            with TabPane("Headers", id="tab-headers"):
                yield NavScroll(Static(id="headers"))
            with TabPane("SQL", id="tab-sql"):
                yield Static(id="sql-summary")
                yield NavTable(id="sql-table", zebra_stripes=True)
                yield NavScroll(Static(id="sql-full"), id="sql-full-box")
            with TabPane("Templates", id="tab-templates"):
                yield LocatedList(id="templates")
            with TabPane("Cache", id="tab-cache"):
                yield Static(id="cache-summary")
                yield NavTable(id="cache-table", zebra_stripes=True)
            with TabPane("Profile", id="tab-profile"):
                yield Static(id="profile-summary")
                yield NavTable(id="profile-top", zebra_stripes=True)
                yield NavTree(Text("profile"), id="profile-tree")
            with TabPane("Logs", id="tab-logs"):
                yield LocatedList(id="logs")
            with TabPane("Exceptions", id="tab-exceptions"):
                yield LocatedList(id="exceptions")
            with TabPane("Panels", id="tab-panels"):
                yield NavScroll(id="panels")
        yield Footer()

    @property
    def span(self) -> Span | None:
        return self.model.span(self.span_ref)

    def on_mount(self) -> None:
        self.fill()
        self.set_interval(0.5, self.fill)

    @staticmethod
    def _signature(span: Span) -> tuple[object, ...]:
        """What a redraw depends on: it changes while the span or its same-process subtree grows."""
        family = list(subtree(span))
        return (
            span.end_ts is not None,
            span.killed,
            span.queries,
            len(family),
            sum(len(s.logs) for s in family),
            sum(len(s.exceptions) for s in family),
            sum(len(s.cache) for s in family),
            sum(s.end_ts is not None for s in family),
            len(span.profiles),
            len(span.children),
            repr(span.progress),
        )

    def fill(self) -> None:
        """Draw every section, again whenever the span has changed (it may be in flight)."""
        if self._shown is not None and self.model.version == self._version:
            return
        with self.model_lock():
            self._version = self.model.version
            span = self.span
            if span is None:
                self.query_one("#detail-title", Static).update(
                    cell(f"span {self.span_id} is not loaded")
                )
                return
            signature = self._signature(span)
            panels = tuple((t, len(e), id(e[-1]) if e else 0) for t, e in span.panels.items())
            if signature == self._shown and panels == self._panels_shown:
                return
            self._shown = signature
            title = Text(end="")
            title.append_text(cell(span.svc, 30, "bold"))
            title.append(f" {span.kind} ")
            title.append_text(cell(span.name, 120))
            title.append(" ")
            title.append_text(status_text(span))
            title.append(f" {duration(span.ms)}")
            self.query_one("#detail-title", Static).update(title)
            self.query_one("#overview", Static).update(self._overview(span))
            self.query_one("#headers", Static).update(self._headers(span))
            self._origins = located.template_origins(span)
            self._fill_sql(span)
            self.query_one("#templates", LocatedList).set_items(located.template_items(span))
            calls = self._cache_calls = tabs.span_cache(span)[: tabs.MAX_ROWS]
            self.query_one("#cache-summary", Static).update(tabs.cache_summary(calls))
            tabs.fill_cache_table(self.query_one("#cache-table", DataTable), calls)
            self._fill_profile(span)
            self.query_one("#logs", LocatedList).set_items(located.log_items(span))
            self.query_one("#exceptions", LocatedList).set_items(located.exception_items(span))
            if panels != self._panels_shown:
                self._panels_shown = panels
                self._fill_panels(span)

    # -- sections -------------------------------------------------------------------

    def _overview(self, span: Span) -> Text:
        out = Text(end="")

        def row(key: str, value: Any) -> None:
            out.append(f"{key:>14}  ", style="bold")
            out.append_text(cell(value, 300))
            out.append("\n")

        row("kind", span.kind)
        row("service", f"{span.process[0]} on {span.process[1]} pid {span.process[2]}")
        row("trace", span.trace)
        row("span", span.span_id)
        row("parent", span.parent or "-")
        row("started", format_time(span.start_ts, date=True) if span.start_ts else "?")
        row("duration", duration(span.ms))
        row("outcome", span.outcome)
        shown: tuple[str, ...] = ()
        if span.kind == "request":
            for key, value in tabs.request_overview(span):
                row(key, value)
            shown = tabs.REQUEST_FIELDS
        for key, value in {**span.start, **(span.end or {})}.items():
            if key in ("headers", "ms", "outcome") or key in shown:
                continue
            row(key, value)  # a dict or list shows as compact JSON
        row("sql", f"{span.queries} statements, {span.queries_ms:.1f} ms (with child spans)")
        if span.progress:
            p = span.progress
            row("progress", f"{p.get('done')} / {p.get('total')} {p.get('message') or ''}")
        if span.children:
            row("children", ", ".join(f"{c.kind} {c.name}" for c in span.children[:20]))
        return out

    def _headers(self, span: Span) -> Text:
        out = Text(end="")
        for title, headers in (
            ("Request", span.start.get("headers")),
            ("Response", (span.end or {}).get("headers")),
        ):
            out.append(f"{title} headers\n", style="bold underline")
            if isinstance(headers, dict) and headers:
                for key, value in headers.items():
                    out.append_text(cell(key, 60, "bold"))
                    out.append(": ")
                    out.append_text(cell(value, 400))
                    out.append("\n")
            else:
                out.append("(none)\n", style="dim")
            out.append("\n")
        return out

    def _fill_sql(self, span: Span) -> None:
        statements, report = span_sql(self.model, span)
        summary = Text(f"{report.count} statements, {report.total_ms:.1f} ms  ", end="")
        summary.append(f"duplicates {sum(g.count for g in report.duplicates)}  ", style="yellow")
        summary.append(f"similar {sum(g.count for g in report.similar)}  ", style="cyan")
        summary.append(
            f"N+1 suspects {len(report.n_plus_one)}", style="bold red" if report.n_plus_one else ""
        )
        summary.append(f"   order: {self.sql_order} (s)", style="dim")
        self.query_one("#sql-summary", Static).update(summary)
        if self.sql_order == "duration":
            statements = sorted(statements, key=lambda r: -r.ms)
        elif self.sql_order == "site":
            statements = sorted(statements, key=lambda r: (r.place_text(), r.ts))
        table = self.query_one("#sql-table", DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        table.add_columns("#", "ms", "flags", "sql", "params", "call site")
        self._sql_rows = []
        for index, rec in enumerate(statements, 1):
            flags = Text(end="")
            if id(rec) in report.n_plus_one_ids:
                flags.append("N+1 ", style="bold red")
            if id(rec) in report.duplicate_ids:
                flags.append("DUP ", style="yellow")
            elif id(rec) in report.similar_ids and id(rec) not in report.n_plus_one_ids:
                flags.append("SIM ", style="cyan")
            if rec.error:
                flags.append("ERR ", style="bold red")
            self._sql_rows.append((rec, flags.plain.strip()))
            table.add_row(
                str(index),
                f"{rec.ms:.2f}",
                flags,
                cell(rec.sql, 120),
                cell(rec.params, 40),
                tail_cell(rec.place_text(), 70),
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self._show_statement(table.cursor_row if table.row_count else -1)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "sql-table":
            self._show_statement(event.cursor_row)

    def _show_statement(self, row: int) -> None:
        """The whole statement under the SQL cursor: text, parameters, call site, error."""
        target = self.query_one("#sql-full", Static)
        if not 0 <= row < len(self._sql_rows):
            target.update(Text("(no statement)", style="dim"))
            return
        rec, flags = self._sql_rows[row]
        out = Text(end="")
        out.append(f"#{row + 1}  {rec.ms:.2f} ms  {flags}  ", style="bold")
        out.append_text(cell(" ".join(x for x in (rec.vendor, rec.alias) if x), 60, "dim"))
        if rec.many:
            out.append("  executemany", style="dim")
        out.append("\n")
        out.append_text(block(rec.sql))
        out.append("\nparams ", style="dim")
        out.append_text(cell(rec.params, 2000))
        out.append("\nat ", style="dim")
        out.append_text(cell(rec.site_text() or "?", 300))
        if rec.in_app is False:
            out.append("  (library: no frame of the project's own code)", style="dim")
        if rec.template is not None:
            out.append("\ntemplate ", style="dim")
            out.append_text(cell(rec.template_text(), 300))
        if rec.error:
            out.append("\nerror ", style="bold red")
            out.append_text(block(rec.error))
        if rec.plan:
            out.append("\nplan\n", style="dim")
            out.append_text(block(rec.plan))
        target.update(out)

    def _fill_panels(self, span: Span) -> None:
        container = self.query_one("#panels", VerticalScroll)
        container.remove_children()
        if not span.panels:
            container.mount(Static(Text("(no panels)", style="dim")))
            return
        for title, entries in span.panels.items():
            container.mount(Static(cell(title, 100, "bold underline"), classes="panel-title"))
            for entry in entries:
                container.mount(panel_widget(entry))

    def _fill_profile(self, span: Span) -> None:
        profiles, profile = tabs.latest_profile(span)
        summary = tabs.profile_summary(span, profiles, self.profile_order)
        self.query_one("#profile-summary", Static).update(summary)
        tabs.fill_top_table(self.query_one("#profile-top", DataTable), profile, self.profile_order)
        tabs.fill_call_tree(self.query_one("#profile-tree", Tree), profile)

    # -- keys ---------------------------------------------------------------------------

    def action_switch_tab(self, step: int) -> None:
        """The next (``step`` 1) or previous (-1) tab, its list or text focused."""
        tabbed = self.query_one("#detail-tabs", TabbedContent)
        panes = [pane.id for pane in tabbed.get_child_by_type(ContentSwitcher).children if pane.id]
        if not panes:
            return
        at = panes.index(tabbed.active) if tabbed.active in panes else 0
        tabbed.active = panes[(at + step) % len(panes)]
        pane = tabbed.get_pane(tabbed.active)
        # At once: focus left on a widget of the hidden tab would bring that tab back.
        target = next((w for w in pane.query(Widget) if w.can_focus and not w.disabled), None)
        self.set_focus(target if target is not None else tabbed.query_one(Tabs))

    def location(self) -> Location | None:
        """For ``e``: what the active tab has under its cursor (lists answer for themselves)."""
        active = self.query_one("#detail-tabs", TabbedContent).active
        if active == "tab-sql":
            row = self.query_one("#sql-table", DataTable).cursor_row
            if 0 <= row < len(self._sql_rows):
                return located.sql_location(self._sql_rows[row][0], self._origins)
            return None
        if active == "tab-cache":
            row = self.query_one("#cache-table", DataTable).cursor_row
            calls = self._cache_calls
            return located.record_site(calls[row].site) if 0 <= row < len(calls) else None
        lists = {
            "tab-templates": "#templates",
            "tab-logs": "#logs",
            "tab-exceptions": "#exceptions",
        }
        if active in lists:
            return self.query_one(lists[active], LocatedList).location()
        return None

    # -- actions ----------------------------------------------------------------------

    def action_trace(self) -> None:
        span = self.span
        if span is not None:
            self.post_message(OpenTrace(span.trace, span.span_id))

    def action_sort_profile(self) -> None:
        self.profile_order = "total" if self.profile_order == "self" else "self"
        with self.model_lock():
            span = self.span
            if span is not None:
                self._fill_profile(span)

    def action_sort_sql(self) -> None:
        self.sql_order = SQL_ORDERS[(SQL_ORDERS.index(self.sql_order) + 1) % len(SQL_ORDERS)]
        with self.model_lock():
            span = self.span
            if span is not None:
                self._fill_sql(span)
