"""The key reference on ``?``: every key of the screen in front, read from its bindings.

:func:`screen_keys` reads the bindings Textual would act on (the focused widget,
its parents, the screen, the app), then those of every other widget on the
screen that can take the focus (a table in another tab, the tab bar), so the
reference says what each key does where, and cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from ..widgets.nav import NavScroll

__all__ = ["HelpScreen", "Section", "screen_keys"]

Section = tuple[str, list[tuple[str, str]]]  # (where, [(keys, what they do)])

NOTES = (
    "Filter (ctrl+f): svc:NAME  status:5xx|404  slow:MS  errors  inflight; other words match\n"
    "  the path, method, service, view, route, query string, headers or trace id.\n"
    "e opens the file and line of the row in front in DM_EDITOR ('cmd {file}:{line}'),\n"
    "  else $VISUAL, else $EDITOR; DM_PATH_MAP=/app=/home/me/src maps recorded paths.\n"
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


def _where(node: DOMNode) -> str:
    """How a section is headed: the app, the screen, or a widget by its id and kind."""
    name = type(node).__name__
    if isinstance(node, Screen):
        return f"this screen ({name})"
    if node is node.app:
        return "everywhere"
    return f"#{node.id} ({name})" if node.id else name


def _rows(app: Any, bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """One row per action: every key bound to it, and what it does."""
    keys: dict[str, tuple[list[str], str]] = {}  # action -> its keys, what it does
    for binding in bindings:
        if binding.system and not binding.description:
            continue
        what = binding.description or binding.action.replace("_", " ")
        shown = app.get_key_display(binding)
        found, _what = keys.setdefault(binding.action, ([], what))
        if shown not in found:
            found.append(shown)
    return [(" ".join(found), what) for found, what in keys.values()]


def screen_keys(screen: Screen[Any]) -> list[Section]:
    """Every key of ``screen``: what acts now (focused widget first), then the rest of it."""
    app = screen.app
    chain: dict[DOMNode, list[Binding]] = {}
    for active in screen.active_bindings.values():
        chain.setdefault(active.node, []).append(active.binding)
    sections: list[Section] = [
        (_where(node), rows) for node, bindings in chain.items() if (rows := _rows(app, bindings))
    ]
    others: dict[type[Widget], list[Widget]] = {}
    for widget in screen.query(Widget):
        if widget.can_focus and widget not in chain and not isinstance(widget, Input):
            others.setdefault(type(widget), []).append(widget)
    for kind, widgets in others.items():
        bindings = [b for found in widgets[0]._bindings.key_to_bindings.values() for b in found]
        rows = _rows(app, bindings)
        if rows:
            names = ", ".join(f"#{w.id}" for w in widgets if w.id)
            sections.append((f"in {names} ({kind.__name__})" if names else kind.__name__, rows))
    return sections


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from, then notes on filters and findings."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > NavScroll {
        width: 96; height: auto; max-height: 85%;
        border: round $accent; padding: 1 2; background: $surface;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, sections: list[Section], title: str = "") -> None:
        super().__init__()
        self.sections = sections
        self.title_text = title

    def compose(self) -> ComposeResult:
        text = Text(f"Keys: {self.title_text}\n" if self.title_text else "Keys\n", style="bold")
        for where, rows in self.sections:
            text.append(f"\n{where}\n", style="bold underline")
            for keys, what in rows:
                text.append(f"{keys:>16}  ", style="bold cyan")
                text.append(f"{what}\n")
        text.append("\n" + NOTES + "\n" + FINDINGS, style="dim")
        yield NavScroll(Static(text, id="help-text"))

    def on_mount(self) -> None:
        self.query_one(NavScroll).focus()
