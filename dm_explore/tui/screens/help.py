"""The key reference, on ``?``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen"]

KEYS = (
    ("1 … 6", "Requests, Issues, Commands, Metrics, Files, Endpoints"),
    ("v", "in Issues: errors, findings (grouped performance problems) or both"),
    ("s r", "in Endpoints: sort by the next column, reverse (or click a header)"),
    ("/", "search the current list; n / N next and previous match"),
    ("ctrl+f", "filter requests: text, svc:NAME, status:5xx|404, slow:MS, errors, inflight"),
    ("E i x", "requests with errors only, in flight only (again: off); clear the filter"),
    ("e", "open the file and line of the row in front in $VISUAL / $EDITOR / DM_EDITOR"),
    ("o", "order requests newest first / slowest first"),
    ("f", "follow on / off: on the first row, the newest request stays in view"),
    ("j k g G", "down, up, first, last (arrows, Page Up/Down, Home/End too)"),
    ("Enter", "detail of the request, issue, command run or file"),
    ("t", "the trace of the request, span or issue's request (a tree with a waterfall)"),
    ("s", "in a detail: order SQL by time, duration or call site"),
    ("m", "metrics per second / per minute"),
    ("Escape", "back (from a view, the search or the filter)"),
    ("ctrl+p", "command palette"),
    ("q", "quit"),
)
FINDINGS = (
    "Findings, as dm-explore report and summary count them (their options there):\n"
    "  N+1 queries      one statement shape from one call site >= 5 times in a request,\n"
    "                   differing parameters (--n-plus-one)\n"
    "  duplicate query  the same statement and parameters >= 2 times (--duplicates)\n"
    "  N+1 API calls    one outgoing method and URL pattern >= 5 times in a trace\n"
    "                   (--n-plus-one-api)\n"
    "  consecutive HTTP >= 3 outgoing calls one after the other from one span\n"
    "                   (--consecutive-http)\n"
    "  slow query       a statement over 100 ms (--slow-query-ms)\n"
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; height: auto; max-height: 80%;
        border: round $accent; padding: 1 2; background: $surface;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        text = Text("dm-explore keys\n\n", style="bold", end="")
        for key, what in KEYS:
            text.append(f"{key:>10}  ", style="bold cyan")
            text.append(f"{what}\n")
        text.append("\n" + FINDINGS, style="dim")
        yield VerticalScroll(Static(text))
