"""Tables, lists and scrolled text that answer the same keys everywhere.

``j`` / ``k`` move down and up, ``g`` / Home go to the first row, ``G`` / End to
the last, Page Up / Page Down a page: in every table (:class:`NavTable`), every
list of located items (:class:`LocatedList`) and every scrolled text
(:class:`NavScroll`). Textual's own ``DataTable`` takes Home and End sideways
(to the first and last column); here they go to the first and last row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, OptionList, Tree
from textual.widgets.option_list import Option

from ..editor import Location

__all__ = ["LocatedItem", "LocatedList", "NavScroll", "NavTable", "NavTree"]

LocatedItem = tuple[Text, Location | None]
"""One entry of a :class:`LocatedList`: what it shows, and the file and line it is about."""


class NavTable(DataTable[object]):
    """A row-cursor table with ``j k g G`` and Home / End on rows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Cursor down", show=False),
        Binding("k", "cursor_up", "Cursor up", show=False),
        Binding("home,g", "scroll_top", "First row", show=False),
        Binding("end,G", "scroll_bottom", "Last row", show=False),
    ]

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = False) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)

    def current_key(self) -> str | None:
        """The key of the row under the cursor, or None (no rows, or a row without a key)."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key else None


class NavTree(Tree[object]):
    """A tree with ``j k g G`` beside the arrows, Page Up / Down and Home / End."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Cursor down", show=False),
        Binding("k", "cursor_up", "Cursor up", show=False),
        Binding("g", "scroll_home", "First line", show=False),
        Binding("G", "scroll_end", "Last line", show=False),
    ]


class NavScroll(VerticalScroll):
    """Scrolled text with ``j k g G`` beside the arrows, Page Up / Down and Home / End."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False),
        Binding("k", "scroll_up", "Scroll up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]


class LocatedList(OptionList):
    """Entries with a cursor, each maybe naming a file and line: ``e`` opens the current one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._locations: list[Location | None] = []
        self._shown: list[str] = []

    def set_items(self, items: Sequence[LocatedItem]) -> None:
        """Show ``items``; the cursor keeps its place when it can."""
        plain = [text.plain for text, _ in items]
        if plain == self._shown and [loc for _, loc in items] == self._locations:
            return
        keep = self.highlighted
        self._shown = plain
        self._locations = [loc for _, loc in items]
        self.clear_options()
        self.add_options([Option(text) for text, _ in items])
        if items:
            self.highlighted = min(keep or 0, len(items) - 1)

    def plain_text(self) -> str:
        """Every entry's text, one after another (newline-separated)."""
        return "\n".join(self._shown)

    def location(self) -> Location | None:
        """The file and line of the entry under the cursor, if it names one."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self._locations):
            return None
        return self._locations[index]
