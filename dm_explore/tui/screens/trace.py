"""The trace view: one request chain as a tree across services, with a waterfall."""

from __future__ import annotations

import time
from dataclasses import replace
from operator import attrgetter

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ...model import Model, Span, Trace
from ...model.queries import Folds, TreeRow, subtree, time_span, trace_view
from ..editor import Location
from ..messages import ModelLock, OpenSpan
from ..text import cell, duration, service_colour, status_text
from ..widgets.located import span_location
from ..widgets.trace_lines import TraceLines

__all__ = ["FOLDS", "TraceScreen", "span_summary"]

FOLDS = Folds(children=200, depth=60, rows=5000)  # what the view draws at first
FOLD_STEP = 1000  # more children drawn each time a width fold row is chosen
_SUMMED = 10_000  # spans summed for the statements under the cursor
_MAX_INDENT = 30  # levels drawn as indentation; deeper rows say their depth
_AFTER_BAR = 16  # cells kept right of the waterfall: sql count, error mark, tree guides
_MIN_LABEL = 42  # cells before the waterfall on the narrowest screen


def layout(screen_width: int) -> tuple[int, int]:
    """``(label, bar)``: cells before the waterfall (at depth 0) and of the waterfall.

    The label gets up to 90 cells (a 60-cell name) and the waterfall the rest, up
    to 80; a narrow screen shares it, the waterfall keeping a third (12 cells at least).
    """
    room = max(screen_width - _AFTER_BAR, 40)
    bar = max(12, min(80, max(room - 90, room // 3)))
    return max(min(90, room - bar), _MIN_LABEL), bar


class TraceScreen(Screen[None]):
    """The spans of a trace; Enter opens a span's detail, or unfolds a fold row.

    Only what fits is built: at most :data:`FOLDS` children per span, levels and
    rows (:func:`~dm_explore.model.queries.trace_view`), drawn a screen line at a
    time. Past the depth, Enter on the fold row draws the tree from there
    (Backspace: from the top again); past the width or the rows, it shows more.
    """

    CSS_PATH = "trace.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "from_top", "Whole trace", show=False),
    ]

    def __init__(
        self, model: Model, model_lock: ModelLock, trace_id: str, focus_span: str | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.model_lock = model_lock
        self.trace_id = trace_id
        self.focus_span = focus_span
        self.folds = FOLDS
        self._version = -1
        self._due = 0.0  # no redraw before this time.monotonic()
        self._first = 0.0
        self._total_ms = 1.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="trace-title")
        yield TraceLines(self._label, id="trace-tree")
        yield Static(id="trace-span")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TraceLines).focus()
        self.rebuild()
        self.set_interval(0.5, self.rebuild)

    def on_resize(self) -> None:
        """The waterfall follows the width: draw the lines again."""
        self.query_one(TraceLines).forget_lines()

    def rebuild(self, force: bool = False) -> None:
        """Fold and draw the trace, again whenever the model changed.

        The cursor stays on its span across redraws.
        """
        if not force and (self.model.version == self._version or time.monotonic() < self._due):
            return
        began = time.monotonic()
        lines = self.query_one(TraceLines)
        current = lines.current
        if current is not None and not current.more:
            self.focus_span = current.span.span_id
        with self.model_lock():
            self._version = self.model.version
            trace = self.model.trace(self.trace_id)
            if trace is None:
                self.query_one("#trace-title", Static).update(
                    cell(f"trace {self.trace_id} is not loaded")
                )
                lines.set_rows([])
                return
            self._first, last = time_span(trace)
            rows = trace_view(trace, self.folds, self._first)
            self._total_ms = max((last - self._first) * 1000, 1.0)
            title = Text(f"trace {trace.trace_id}  ", end="")
            title.append_text(cell(", ".join(sorted(_services(trace)))))
            title.append(f"  {len(trace.spans)} spans, {duration(self._total_ms)}")
            if self.folds.base is not None:
                title.append("  from ", style="dim")
                title.append_text(cell(self.folds.base.name, 40))
                title.append(" (Backspace: whole trace)", style="dim")
            self.query_one("#trace-title", Static).update(title)
            lines.set_rows(rows, self.focus_span)
        # A huge trace takes a while to fold: redraw it at most a fifth of the time.
        self._due = began + 5 * (time.monotonic() - began)

    def _label(self, row: TreeRow) -> Text:
        """One line: indentation, service, kind, name, status, duration, then the waterfall."""
        before, bar = layout(self.size.width)
        indent = "  " * min(row.depth, _MAX_INDENT)
        if row.depth > _MAX_INDENT:
            indent += f"[{row.depth}] "
        if row.more:
            return _fold_label(row, indent)
        span = row.span
        colour = service_colour(span.svc)
        target = max(before, len(indent) + 24)  # the waterfall's column, whatever the depth
        label = Text(indent, end="", no_wrap=True)
        label.append_text(cell(span.svc, 12, f"bold {colour}"))
        label.append(f" {span.kind} ", style="dim")
        tail = Text(" ", end="")
        tail.append_text(status_text(span))
        tail.append(" ")
        tail.append(duration(span.ms), style="bold" if (span.ms or 0) > 200 else "")
        room = target - 1 - label.cell_len - tail.cell_len
        label.append_text(cell(span.name, max(room, 6)))
        label.append_text(tail)
        label.pad_right(max(target - label.cell_len, 1))
        total_ms = self._total_ms
        start = max(min(int(row.offset_ms / total_ms * bar), bar - 1), 0)
        width = max(1, int((span.ms or 0.0) / total_ms * bar)) if span.ms is not None else 1
        label.append("·" * start, style="dim")
        label.append("█" * min(width, bar - start) if span.ms is not None else "▸", style=colour)
        if span.sql:
            label.append(f" sql {len(span.sql)}", style="dim")
        if span.exceptions:
            label.append(f" ✖ {len(span.exceptions)}", style="bold red")
        elif (span.status or 0) >= 500 or span.outcome in ("error", "killed"):
            label.append(" ✖", style="bold red")  # failed here, without an exception event
        if row.waiting:
            label.append(" (parent not seen yet)", style="italic dim")
        if row.cyclic:
            label.append(" ↻ cyclic parent links", style="bold yellow")
        return label

    def on_trace_lines_highlighted(self, event: TraceLines.Highlighted) -> None:
        """Under the tree: what the highlighted span did and what went wrong in it."""
        row = event.row
        if row.more:
            self.query_one("#trace-span", Static).update(Text(_FOLD_HELP[row.fold], style="dim"))
            return
        with self.model_lock():
            self.query_one("#trace-span", Static).update(span_summary(row.span))

    def on_trace_lines_selected(self, event: TraceLines.Selected) -> None:
        row = event.row
        if not row.more:
            self.post_message(OpenSpan(row.span.ref))
            return
        folds = self.folds
        if row.fold == "depth":
            self.folds = replace(folds, base=row.span)
            self.focus_span = row.span.span_id
        elif row.fold == "width":
            opened = dict(folds.opened)
            opened[row.span.span_id] = opened.get(row.span.span_id, folds.children) + FOLD_STEP
            self.folds = replace(folds, opened=opened)
        else:
            self.folds = replace(folds, rows=folds.rows + FOLDS.rows)
        self.rebuild(force=True)

    def location(self) -> Location | None:
        """For ``e``: the span under the cursor's file and line (:func:`span_location`)."""
        row = self.query_one(TraceLines).current
        if row is None or row.more:
            return None
        with self.model_lock():
            return span_location(row.span)

    def action_from_top(self) -> None:
        """Back to the whole trace after drawing it from a folded span."""
        if self.folds.base is not None:
            self.focus_span = self.folds.base.span_id
            self.folds = replace(self.folds, base=None)
            self.rebuild(force=True)


def _fold_label(row: TreeRow, indent: str) -> Text:
    label = Text(indent, end="", no_wrap=True, style="italic")
    plural = "s" if row.more != 1 else ""
    if row.fold == "depth":
        label.append(f"▸ {row.more} child span{plural} deeper: Enter draws from ")
        label.append_text(cell(row.span.name, 40))
    elif row.fold == "width":
        label.append(f"… {row.more} more span{plural} under ")
        label.append_text(cell(row.span.name, 40))
        label.append(f" (Enter: {FOLD_STEP} more)")
    else:
        label.append(f"… {row.more} more span{plural} (Enter: more rows)")
    label.stylize("dim")
    return label


_FOLD_HELP = {
    "depth": "deeper levels folded: Enter draws the tree from this span, Backspace from the top",
    "width": "more children than drawn: Enter draws more of them",
    "rows": "more spans than drawn: Enter draws more rows",
}


def span_summary(span: Span) -> Text:
    """A few lines about ``span``: name, outcome, SQL, the first exception, the worst log."""
    out = Text(end="", no_wrap=True, overflow="ellipsis")
    out.append_text(cell(span.svc, 30, f"bold {service_colour(span.svc)}"))
    out.append(f" {span.kind} ")
    out.append_text(cell(span.name, 200))
    out.append("  ")
    out.append_text(status_text(span))
    out.append(f"  {duration(span.ms)}  {span.outcome}")
    count, ms, whole = _statements_below(span)
    more = "" if whole else f"+ (first {_SUMMED} spans)"
    out.append(f"\nsql {len(span.sql)} own, {count}{more} with child spans", style="dim")
    out.append(f" ({ms:.1f} ms)   logs {len(span.logs)}", style="dim")
    out.append(f"   children {len(span.children)}   Enter: detail", style="dim")
    for exc in span.exceptions[:1]:
        out.append("\n")
        out.append_text(cell(exc.get("type"), 80, "bold red"))
        out.append(": ")
        out.append_text(cell(exc.get("message"), 300))
    worst = max(
        (rec for rec in span.logs if rec.level in ("warning", "error", "critical")),
        key=lambda rec: ("warning", "error", "critical").index(rec.level),
        default=None,
    )
    if worst is not None:
        colour = "yellow" if worst.level == "warning" else "red"
        out.append(f"\n{worst.level.upper()} ", style=colour)
        out.append_text(cell(worst.msg.splitlines()[0] if worst.msg else "", 300))
    return out


def _statements_below(span: Span) -> tuple[int, float, bool]:
    """Statements of the span and its same-process descendants, and their time.

    At most :data:`_SUMMED` spans are counted, so the summary under the cursor stays
    instant on a span with a million descendants; the flag says whether all were.
    """
    count, ms = 0, 0.0
    for seen, below in enumerate(subtree(span)):
        if seen >= _SUMMED:
            return count, ms, False
        if below.sql:
            count += len(below.sql)
            ms += sum(r.ms for r in below.sql)
    return count, ms, True


def _services(trace: Trace) -> set[str]:
    """The services of the trace's spans: the distinct processes first, in C."""
    return {process[0] for process in set(map(_PROCESS, trace.spans))}


_PROCESS = attrgetter("process")
