"""The trace view: one request chain as a tree across services, with a waterfall."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree
from textual.widgets.tree import TreeNode

from ...model import Model, Span, trace_rows
from ..messages import ModelLock, OpenSpan
from ..text import cell, duration, service_colour, status_text

__all__ = ["TraceScreen"]

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
    """The spans of a trace; Enter opens a span's detail."""

    CSS_PATH = "trace.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(
        self, model: Model, model_lock: ModelLock, trace_id: str, focus_span: str | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.model_lock = model_lock
        self.trace_id = trace_id
        self.focus_span = focus_span
        self._version = -1
        self._shown: tuple[int, int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="trace-title")
        tree = Tree[str](Text("trace"), id="trace-tree")
        tree.show_root = False
        yield tree
        yield Static(id="trace-span")
        yield Footer()

    def on_mount(self) -> None:
        self.rebuild()
        self.set_interval(0.5, self.rebuild)

    def on_resize(self) -> None:
        """The waterfall follows the width: draw again, the cursor on the same span."""
        cursor = self.query_one("#trace-tree", Tree).cursor_node
        if self._shown is not None and cursor is not None and cursor.data:
            self.focus_span = cursor.data
        self._version, self._shown = -1, None
        self.rebuild()

    def rebuild(self) -> None:
        """Draw the tree, again whenever spans of the trace arrived or ended.

        The cursor stays on its span across redraws.
        """
        if self.model.version == self._version:
            return
        with self.model_lock():
            self._version = self.model.version
            trace = self.model.trace(self.trace_id)
            tree = self.query_one("#trace-tree", Tree)
            shown = (
                (
                    len(trace.spans),
                    sum(1 for s in trace.spans if s.end_ts is not None),
                    sum(len(s.exceptions) + len(s.sql) for s in trace.spans),
                )
                if trace is not None
                else (0, 0, 0)
            )
            if shown == self._shown:
                return
            if self._shown is not None and tree.cursor_node is not None:
                self.focus_span = tree.cursor_node.data
            self._shown = shown
            tree.clear()
            if trace is None:
                self.query_one("#trace-title", Static).update(
                    cell(f"trace {self.trace_id} is not loaded")
                )
                return
            rows = trace_rows(trace)
            starts = [r.span.start_ts for r in rows if r.span.start_ts is not None]
            ends = [t for r in rows if (t := r.span.end_ts or r.span.start_ts) is not None]
            first = min(starts, default=0.0)
            total_ms = max((max(ends, default=first) - first) * 1000, 1.0)
            title = Text(f"trace {trace.trace_id}  ", end="")
            title.append_text(cell(", ".join(sorted(trace.services))))
            title.append(f"  {len(trace.spans)} spans, {duration(total_ms)}")
            self.query_one("#trace-title", Static).update(title)
            nodes: dict[str, TreeNode[str]] = {}
            tree.root.expand()
            for row in rows:
                parent_node = tree.root
                if row.depth and row.span.parent in nodes:
                    parent_node = nodes[row.span.parent]
                label = self._label(row.span, row.offset_ms, total_ms, row.depth, row.waiting)
                node = parent_node.add(label, data=row.span.span_id, expand=True)
                nodes[row.span.span_id] = node
                if row.span.span_id == self.focus_span:
                    self.call_after_refresh(tree.move_cursor, node)

    def _label(
        self, span: Span, offset_ms: float, total_ms: float, depth: int, waiting: bool
    ) -> Text:
        colour = service_colour(span.svc)
        before, bar = layout(self.size.width)
        target = max(before - depth * 4, 24)  # the waterfall's column, whatever the depth
        label = Text(end="", no_wrap=True)
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
        start = min(int(offset_ms / total_ms * bar), bar - 1)
        width = max(1, int((span.ms or 0.0) / total_ms * bar)) if span.ms is not None else 1
        label.append("·" * start, style="dim")
        label.append("█" * min(width, bar - start) if span.ms is not None else "▸", style=colour)
        if span.sql:
            label.append(f" sql {len(span.sql)}", style="dim")
        if span.exceptions:
            label.append(f" ✖ {len(span.exceptions)}", style="bold red")
        elif (span.status or 0) >= 500 or span.outcome in ("error", "killed"):
            label.append(" ✖", style="bold red")  # failed here, without an exception event
        if waiting:
            label.append(" (parent not seen yet)", style="italic dim")
        return label

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        """Under the tree: what the highlighted span did and what went wrong in it."""
        with self.model_lock():
            span = self.model.span(event.node.data) if event.node.data else None
            self.query_one("#trace-span", Static).update(
                span_summary(span) if span is not None else Text("")
            )

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data:
            self.post_message(OpenSpan(event.node.data))


def span_summary(span: Span) -> Text:
    """A few lines about ``span``: name, outcome, SQL, the first exception, the worst log."""
    out = Text(end="", no_wrap=True, overflow="ellipsis")
    out.append_text(cell(span.svc, 30, f"bold {service_colour(span.svc)}"))
    out.append(f" {span.kind} ")
    out.append_text(cell(span.name, 200))
    out.append("  ")
    out.append_text(status_text(span))
    out.append(f"  {duration(span.ms)}  {span.outcome}")
    out.append(f"\nsql {len(span.sql)} own, {span.queries} with child spans", style="dim")
    out.append(f" ({span.queries_ms:.1f} ms)   logs {len(span.logs)}", style="dim")
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
