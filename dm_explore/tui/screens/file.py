"""One file: its problems line by line, and the events its writer refused."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ...model import Model
from ..editor import Location
from ..messages import ModelLock
from ..text import cell
from ..widgets.nav import NavScroll

__all__ = ["FileScreen"]


class FileScreen(Screen[None]):
    CSS_PATH = "file.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, model: Model, model_lock: ModelLock, file_id: int) -> None:
        super().__init__()
        self.model = model
        self.model_lock = model_lock
        self.file_id = file_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield NavScroll(Static(id="file-body"), id="file-scroll")
        yield Footer()

    def location(self) -> Location | None:
        """For ``e``: the caller of the first event the writer refused, else the first bad line."""
        with self.model_lock():
            info = self.model.files.get(self.file_id)
            if info is None:
                return None
            proc = self.model.processes.get(info.process) if info.process else None
            for event in proc.invalid_events if proc is not None else ():
                call = event.get("call")
                if isinstance(call, dict):
                    file, line = call.get("file"), call.get("line")
                    if isinstance(file, str) and file and type(line) is int:
                        return file, line
            return info.path, next((p.line for p in info.problems if p.line), 1)

    def on_mount(self) -> None:
        with self.model_lock():
            info = self.model.files.get(self.file_id)
            if info is None:
                return
            out = Text(end="")
            out.append_text(cell(info.path, 300, "bold"))
            out.append(f"\n{info.events} events, {info.invalid} invalid lines")
            if info.partial:
                out.append(", an unfinished last line", style="yellow")
            if info.capped:
                out.append(", writer reached its cap (", style="yellow")
                out.append_text(cell(info.capped, 40, "yellow"))  # the action, from the file
                out.append(")", style="yellow")
            if info.dropped:
                out.append(f", writer dropped {info.dropped} events", style="bold yellow")
            out.append("\n\nProblems\n", style="bold underline")
            for problem in info.problems:
                out.append(f"line {problem.line}: " if problem.line else "file: ", style="bold")
                out.append_text(cell(problem.reason, 300))
                out.append("\n")
            if not info.problems:
                out.append("(none)\n", style="dim")
            proc = self.model.processes.get(info.process) if info.process else None
            if proc is not None and proc.invalid_events:
                out.append(
                    "\nEvents the writer refused (dm.invalid), for their authors\n",
                    style="bold underline",
                )
                for event in proc.invalid_events:
                    out.append_text(cell(event.get("kind"), 40, "bold"))
                    out.append(" from ")
                    found = event.get("call")
                    call: dict[str, object] = found if isinstance(found, dict) else {}
                    out.append_text(
                        cell(f"{call.get('file')}:{call.get('line')} in {call.get('func')}", 200)
                    )
                    out.append("\n   ")
                    out.append_text(
                        cell("; ".join(map(str, event.get("errors") or [])), 300, "red")
                    )
                    out.append("\n   ")
                    out.append_text(cell(event.get("data", ""), 300, "dim"))
                    out.append("\n")
            self.query_one("#file-body", Static).update(out)
