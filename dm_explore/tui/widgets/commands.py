"""The commands view: management command runs with status, progress and history."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message

from dm_log.contract import format_time

from ...model import Model
from ..editor import frame_location
from ..text import cell, duration
from .keyed import KeyedTable

__all__ = ["CommandsTable", "progress_bar"]

STATUS_STYLE = {
    "STARTED": "cyan",
    "RUNNING": "bold cyan",
    "FINISHED": "green",
    "FAILED": "bold red",
    "SYSTEM_KILL": "bold white on red",
}


def progress_bar(done: float, total: float | None, width: int = 20) -> Text:
    """``█████░░░░ 40%`` for a known total, ``400 done`` otherwise."""
    if not total:
        return Text(f"{done:g} done", end="")
    fraction = max(0.0, min(done / total, 1.0))
    filled = int(fraction * width)
    bar = Text("█" * filled, style="green", end="")
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {fraction * 100:3.0f}%")
    return bar


class CommandsTable(KeyedTable):
    """Every retained run, newest first, whatever its command and host.

    ``e`` opens where a failed run raised (:meth:`location`).
    """

    class Chosen(Message):
        def __init__(self, span_id: str) -> None:
            super().__init__()
            self.span_id = span_id

    def on_mount(self) -> None:
        self.add_columns(
            "command", "host", "status", "progress", "duration", "started", "pid", "params"
        )

    def refresh_from(self, model: Model) -> None:
        keep = self.cursor_row
        self.clear()
        self._locations = {}
        now = model.now()
        runs = [run for runs in model.command_runs.values() for run in runs]
        runs.sort(key=lambda r: (r.start_ts or r.end_ts or 0.0, r.seq), reverse=True)
        for run in runs:
            status = model.command_status(run, now)
            progress = run.progress or {}
            done = progress.get("done")
            bar = (
                progress_bar(
                    float(done),
                    progress.get("total")
                    if isinstance(progress.get("total"), int | float)
                    else None,
                )
                if isinstance(done, int | float)
                else Text("", end="")
            )
            ms = (
                run.ms
                if run.ms is not None
                else ((now - run.start_ts) * 1000 if run.start_ts else None)
            )
            self.add_row(
                cell(run.name, 40, "bold"),
                cell(run.process[1], 20),
                Text(status, style=STATUS_STYLE.get(status, "")),
                bar,
                duration(ms),
                format_time(run.start_ts, date=True) if run.start_ts else "?",
                cell(run.process[2], 12),
                cell(run.start.get("params", ""), 60),
                key=run.ref,
            )
            where = next(
                (
                    found
                    for event in reversed(run.exceptions)
                    if (found := frame_location(event.get("frames"))) is not None
                ),
                None,
            )
            if where is not None:
                self._locations[run.ref] = where
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def open_key(self, key: str) -> None:
        """The run's detail."""
        self.post_message(self.Chosen(key))
