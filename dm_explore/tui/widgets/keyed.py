"""Summary tables whose row keys say what a row opens and where it points.

:class:`KeyedTable` is what the Issues, Commands, Files and Endpoints views share:
Enter or a click on a row calls :meth:`KeyedTable.open_key` with the row's key,
``e`` asks :meth:`KeyedTable.location` (the file and line kept for that key), and
a view computed from the whole model (findings, endpoint figures) is recomputed
at most every :attr:`KeyedTable.EVERY` seconds and :attr:`KeyedTable.COST_FACTOR`
times what the last computation took, so the UI stays free on a large folder.
"""

from __future__ import annotations

import time

from textual.widgets import DataTable

from ..editor import Location
from .nav import NavTable

__all__ = ["KeyedTable"]


class KeyedTable(NavTable):
    """A table of keyed rows: Enter opens a row, ``e`` opens its file and line."""

    EVERY = 2.0  # seconds between two computations while the model changes (at least)
    COST_FACTOR = 5  # ... and at least this many times what the last one took

    _locations: dict[str, Location]  # row key -> the file and line it points at
    _version = -1  # the model version last computed from
    _at = 0.0
    _cost = 0.0
    _catch_up_pending = False

    def open_key(self, key: str) -> None:
        """Open what the row with ``key`` stands for (a subclass says what that is)."""

    def action_choose(self) -> None:
        key = self.current_key()
        if key:
            self.open_key(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.open_key(str(event.row_key.value))

    def location(self) -> Location | None:
        """The file and line of the row under the cursor, if its key has one."""
        key = self.current_key()
        return getattr(self, "_locations", {}).get(key) if key else None

    # -- recomputing from the model -------------------------------------------------------

    def compute_due(self, version: int, force: bool) -> bool:
        """Whether to recompute now for model ``version``.

        Not when nothing changed, nor before the wait is over (unless ``force``): then
        the app is asked to redraw once it is, so the last change is drawn even if
        none follows.
        """
        if version == self._version:
            return False
        wait = max(self.EVERY, self.COST_FACTOR * self._cost) - (time.monotonic() - self._at)
        if wait > 0 and not force and self._version >= 0:
            if not self._catch_up_pending:
                self._catch_up_pending = True
                self.set_timer(wait, self._catch_up)
            return False
        return True

    def computed(self, version: int, began: float) -> None:
        """A computation for ``version`` that began at ``began`` (``time.monotonic()``) is done."""
        self._version, self._at = version, began
        self._cost = time.monotonic() - began

    def _catch_up(self) -> None:
        self._catch_up_pending = False
        redraw = getattr(self.app, "redraw", None)  # the app redraws under the model lock
        if callable(redraw):
            redraw(force=True)
