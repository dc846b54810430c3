"""The files view: each file and its process, alive or gone, and what was wrong in it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual.message import Message

from ...model import Model, Problem
from ..text import cell
from .keyed import KeyedTable

__all__ = ["FilesTable"]


class FilesTable(KeyedTable):
    """One row per file; Enter lists its problems; ``e`` opens the file at its first problem."""

    class Chosen(Message):
        def __init__(self, file_id: int) -> None:
            super().__init__()
            self.file_id = file_id

    _shown: tuple[int, ...] | None = None  # what the drawn rows were computed from

    def on_mount(self) -> None:
        self.add_columns(
            "file", "service", "host", "pid", "process", "events", "invalid", "capped", "dropped"
        )

    def refresh_from(self, model: Model, root: Path, problems: Sequence[Problem] = ()) -> None:
        """One row per file of ``model``, then one per path the reader skipped (``problems``).

        Redrawn only when a count, a process's state or the list of problems changed.
        """
        files = model.files.values()
        signature = (
            len(model.files),
            sum(info.events + info.invalid + (info.dropped or 0) for info in files),
            sum(1 for info in files if info.gone or info.capped),
            sum(1 for proc in model.processes.values() if proc.alive),
            sum(1 for proc in model.processes.values() if proc.alive is False),
            len(problems),
        )
        if signature == self._shown:
            return
        self._shown = signature
        keep = self.cursor_row
        self.clear()
        self._locations = {}
        for info in model.files.values():
            proc = model.processes.get(info.process) if info.process else None
            if info.gone:
                state = Text("file gone", style="yellow")
            elif proc is None or proc.alive is None:
                state = Text("?", style="dim")
            else:
                state = Text("alive", style="green") if proc.alive else Text("exited", style="dim")
            name = _relative(info.path, root)
            svc, host, pid = info.process if info.process else ("?", "?", "?")
            self.add_row(
                cell(name, 60),
                cell(svc, 20),
                cell(host, 20),
                cell(pid, 12),
                state,
                str(info.events),
                Text(str(info.invalid), style="bold red" if info.invalid else ""),
                cell(info.capped or ""),
                Text(str(info.dropped or ""), style="bold yellow"),
                key=str(info.id),
            )
            first_bad = next((p.line for p in info.problems if p.line), 1)
            self._locations[str(info.id)] = (info.path, first_bad)
        for problem in problems:
            self.add_row(
                cell(_relative(problem.path, root), 60),
                "",
                "",
                "",
                cell(f"skipped: {problem.reason}", 60, "bold red"),
                *[""] * 4,
            )
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def open_key(self, key: str) -> None:
        """The file's problems."""
        self.post_message(self.Chosen(int(key)))


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
