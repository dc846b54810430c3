"""The request list: a line-API widget that draws only the rows on screen.

``DataTable`` needs seconds to take 100k rows; this widget keeps a list of span
references and renders each visible line on demand, so a million rows cost no
more to draw than forty.
"""

from __future__ import annotations

import time
from functools import partial

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dm_log.contract import format_time

from ...model import Model, RequestFilter, Span
from ..filters import request_matches
from ..rows import RequestRows
from ..text import cell, duration, service_colour, status_text

__all__ = ["RequestList"]

SEARCH_SLICE = 0.04  # seconds of searching per turn of the event loop
_SEARCH_CHECK = 256  # rows searched between two looks at the clock


class RequestList(ScrollView, can_focus=True):
    """Rows of request spans; Enter posts :class:`RequestList.Chosen`."""

    DEFAULT_CSS = """
    RequestList { height: 1fr; }
    RequestList > .request-list--cursor { background: $primary 45%; }
    RequestList > .request-list--header { text-style: bold; background: $panel; }
    """
    COMPONENT_CLASSES = {"request-list--cursor", "request-list--header"}
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "choose", "Detail"),
        Binding("t", "trace", "Trace"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Chosen(Message):
        """The user asked for a request's detail (or its trace)."""

        def __init__(self, span_id: str, trace: bool) -> None:
            super().__init__()
            self.span_id = span_id
            self.trace = trace

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: RequestRows = RequestRows()
        self._every: dict[str, RequestRows] = {"newest": self.rows}  # empty filter, by order
        self.now: float | None = None  # the model's clock at the last update: in-flight ages
        self._search_turn = 0  # the newest search; an older one still going stops

    class NoMatch(Message):
        """A search went round every row without a match."""

        def __init__(self, term: str) -> None:
            super().__init__()
            self.term = term

    # -- searching ---------------------------------------------------------------

    def search(self, term: str, step: int, from_current: bool = False) -> None:
        """Move the cursor to the next row (``step`` 1) or previous (-1) matching ``term``.

        A request matches when ``term`` is its status or is in its text (see
        :func:`~dm_explore.tui.filters.request_matches`). Rows are searched for
        :data:`SEARCH_SLICE` seconds at a time, the UI answering keys in between;
        a new search ends the one before. Posts :class:`NoMatch` when none matches.
        """
        self._search_turn += 1
        start = self.cursor if from_current else self.cursor + step
        self._search_on(self._search_turn, term, start, step, len(self.rows))

    def _search_on(self, turn: int, term: str, index: int, step: int, left: int) -> None:
        if turn != self._search_turn:
            return  # a newer search took over
        rows, deadline = self.rows, time.perf_counter() + SEARCH_SLICE
        left = min(left, len(rows))
        while left > 0:
            index %= len(rows)
            span = rows[index]
            if term == str(span.status) or request_matches(term, span):
                self.cursor = index
                return
            index += step
            left -= 1
            if not left % _SEARCH_CHECK and time.perf_counter() > deadline:
                self.set_timer(0.001, partial(self._search_on, turn, term, index, step, left))
                return
        self.post_message(self.NoMatch(term))

    # -- data ------------------------------------------------------------------

    def set_query(self, flt: RequestFilter, order: str) -> None:
        """Show the requests matching ``flt`` in ``order`` (filled by :meth:`update_from`)."""
        every = self._every.setdefault(order, RequestRows(None, order))
        self.rows = every if flt == every.flt else RequestRows(flt, order, every=every)
        self.cursor = 0
        self.scroll_to(y=0, animate=False)

    def update_from(self, model: Model, *, follow: bool, exact: bool = True) -> None:
        """Take in the model's new requests; the caller holds the model lock.

        Following with the cursor on the first row keeps the newest row in view;
        otherwise the cursor stays on its request and the rows on screen hold still.
        """
        current, top = self.current, self.scroll_offset.y
        old_index = self.cursor
        self.now = model.now()
        for every in self._every.values():
            if every is not self.rows:
                every.update(model, exact=exact)
        self.rows.update(model, exact=exact)
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        if follow and old_index == 0:
            self.cursor = 0
        elif current is not None:
            index = self.rows.index_of(current)
            if index is not None:
                self.scroll_to(y=max(top + index - old_index, 0), animate=False)
                self.cursor = index
        self.cursor = min(self.cursor, max(len(self.rows) - 1, 0))
        self.refresh()

    def tick(self, now: float) -> None:
        """The clock moved on with no new event: redraw the ages of requests in flight."""
        self.now = now
        self.refresh()

    @property
    def current(self) -> Span | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- drawing -----------------------------------------------------------------

    def _row_text(self, span: Span, width: int) -> Text:
        path_width = _path_width(width)
        line = Text(no_wrap=True, end="")
        when = span.start_ts if span.start_ts is not None else span.end_ts
        line.append(format_time(when) if when is not None else "?", style="dim")
        line.append(" ")
        line.append_text(_fit(cell(span.svc, 12, service_colour(span.svc)), 12))
        line.append(" ")
        line.append_text(_fit(cell(span.method or "", 7), 7))
        line.append(" ")
        line.append_text(_fit(cell(span.target or "", path_width), path_width))
        line.append(" ")
        line.append_text(_fit(status_text(span), 7))
        line.append(" ")
        if span.ms is None and span.start_ts is not None and self.now is not None:
            age = Text(f"…{duration(max(self.now - span.start_ts, 0.0) * 1000)}", end="")
            age.stylize("italic yellow")  # in flight for this long so far
            line.append_text(_fit(age, 9, right=True))
        else:
            line.append_text(_fit(Text(duration(span.ms), end=""), 9, right=True))
        line.append(" ")
        line.append_text(
            _fit(Text(str(span.queries) if span.queries else "", end=""), 5, right=True)
        )
        line.append(" ")
        if span.has_error:
            line.append(" ✖ ", style="bold red")
        return line

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            header_text = Text(no_wrap=True, end="")
            columns = [
                (label, _path_width(width) if size is None else size, right)
                for label, size, right in _COLUMNS
            ]
            for label, size, right in columns:
                header_text.append_text(_fit(Text(label, end=""), size, right=right))
                header_text.append(" ")
            return _strip(header_text, width, self.get_component_rich_style("request-list--header"))
        _, scroll_y = self.scroll_offset
        index = y - 1 + scroll_y
        if index >= len(self.rows):
            return Strip.blank(width)
        row = self._row_text(self.rows[index], width)
        cursor: Style | None = None
        if index == self.cursor:
            cursor = self.get_component_rich_style("request-list--cursor")
        return _strip(row, width, cursor)

    # -- actions -------------------------------------------------------------------

    def watch_cursor(self, cursor: int) -> None:
        _, top = self.scroll_offset
        visible = max(self.size.height - 1, 1)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False)
        elif cursor >= top + visible:
            self.scroll_to(y=cursor - visible + 1, animate=False)
        self.refresh()

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, pages: int) -> None:
        """A screen of rows down (1) or up (-1), less one row kept in view."""
        self.action_move(pages * max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(len(self.rows) - 1, 0)

    def action_choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current.ref, trace=False))

    def action_trace(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current.ref, trace=True))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0)
        _, top = self.scroll_offset
        index = y - 1 + top
        if 0 <= index < len(self.rows):
            self.cursor = index


# (header, cells or None for the path, which takes what the others leave; right-aligned)
_COLUMNS: tuple[tuple[str, int | None, bool], ...] = (
    ("time", 12, False),
    ("service", 12, False),
    ("method", 7, False),
    ("path", None, False),
    ("status", 7, False),
    ("duration", 9, True),
    ("sql", 5, True),
    ("err", 4, False),
)
# Every column but the path, and the one-cell gap after each column.
_FIXED = sum(size or 0 for _, size, _ in _COLUMNS) + len(_COLUMNS)


def _path_width(width: int) -> int:
    return max(width - _FIXED, 10)


def _fit(text: Text, width: int, *, right: bool = False) -> Text:
    text = text.copy()
    text.truncate(width, overflow="ellipsis")
    pad = width - text.cell_len
    if pad > 0:
        if right:
            text = Text(" " * pad, end="") + text
        else:
            text.append(" " * pad)
    return text


_CONSOLE = Console(width=10_000, color_system="truecolor", markup=False, emoji=False)


def _strip(text: Text, width: int, style: Style | None) -> Strip:
    """One screen line from ``text``, padded or cut to ``width``, on ``style``."""
    text.truncate(width, pad=True)
    segments = [s for s in text.render(_CONSOLE) if s.text != "\n"]
    if style is not None:
        segments = [Segment(s.text, style + s.style if s.style else style) for s in segments]
    return Strip(segments, width)
