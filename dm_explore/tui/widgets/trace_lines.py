"""The rows of a trace, drawn a screen line at a time: a trace of any size opens at once.

:class:`TraceLines` holds a list of :class:`~dm_explore.model.queries.TreeRow`
(already folded to a bounded number by
:func:`~dm_explore.model.queries.trace_view`) and renders only the lines on
screen, from a label function, through Textual's line API: no widget per span,
no recursion, whatever the trace's depth or width.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...model.queries import TreeRow

__all__ = ["TraceLines"]

_CURSOR = Style(reverse=True)


class TraceLines(ScrollView, can_focus=True):
    """One line per row, a cursor, and messages when it moves or a row is chosen."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open"),
    ]

    class Highlighted(Message):
        """The cursor is on another row."""

        def __init__(self, row: TreeRow) -> None:
            super().__init__()
            self.row = row

    class Selected(Message):
        """Enter on a row."""

        def __init__(self, row: TreeRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, label: Callable[[TreeRow], Text], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.rows: list[TreeRow] = []
        self.cursor = 0
        self._lines: dict[int, Strip] = {}  # drawn rows, by index, until the rows change

    # -- content ----------------------------------------------------------------------

    def set_rows(self, rows: list[TreeRow], cursor_on: object = None) -> None:
        """Show ``rows``; the cursor goes to the row of span ``cursor_on`` if there is one."""
        self.rows = rows
        self._lines.clear()
        index = next(
            (i for i, r in enumerate(rows) if not r.more and r.span.span_id == cursor_on), None
        )
        self.cursor = min(self.cursor if index is None else index, max(len(rows) - 1, 0))
        self.virtual_size = Size(1, len(rows))  # lines are fitted to the width: no sideways scroll
        self._show_cursor()
        self.refresh()
        if rows:
            self.post_message(self.Highlighted(rows[self.cursor]))

    def forget_lines(self) -> None:
        """Draw every row again (the width changed)."""
        self._lines.clear()
        self.refresh()

    @property
    def current(self) -> TreeRow | None:
        return self.rows[self.cursor] if self.rows else None

    # -- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        strip = self._lines.get(index)
        if strip is None:
            text = self.label(self.rows[index])
            segments = list(text.render(self.app.console, end=""))
            strip = self._lines[index] = Strip(Segment.simplify(segments))
        line = strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return line.apply_style(_CURSOR) if index == self.cursor and self.has_focus else line

    # -- moving -----------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        if index != self.cursor:
            self.cursor = index
            self.post_message(self.Highlighted(self.rows[index]))
        self._show_cursor()
        self.refresh()

    def _show_cursor(self) -> None:
        top, height = self.scroll_offset.y, max(self.scrollable_content_region.height, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_move(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, pages: int) -> None:
        self._move_to(self.cursor + pages * max(self.scrollable_content_region.height - 1, 1))

    def action_jump(self, where: int) -> None:
        self._move_to(where if where >= 0 else len(self.rows) - 1)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self.rows[self.cursor]))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
