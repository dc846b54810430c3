"""``e`` in the explorer: ask the focused widget where it points, and run the editor there.

The command is :func:`dm_explore.tui.editor.editor_command`'s; the app is
suspended while the editor runs, so a terminal editor has the terminal, and it
resumes when the editor exits.
"""

from __future__ import annotations

import subprocess
from typing import Any

from textual.app import App, SuspendNotSupported
from textual.widget import Widget

from ..outputs.textsafe import safe_line
from .editor import HasLocation, Location, editor_command

__all__ = ["focused_location", "open_in_editor", "run_editor"]


def focused_location(app: App[Any]) -> Location | None:
    """The location of the focused widget, or of the nearest parent that has one (the screen)."""
    node: Widget | None = app.focused
    while node is not None:
        if isinstance(node, HasLocation):
            return node.location()
        node = node.parent if isinstance(node.parent, Widget) else None
    return None


def open_in_editor(app: App[Any]) -> None:
    """Open the focused widget's file and line in the user's editor, or say why not."""
    where = focused_location(app)
    if where is None:
        app.notify("nothing here has a file and line to open", severity="warning")
        return
    argv = editor_command(*where)
    if argv is None:
        app.notify(
            "no editor: set $VISUAL or $EDITOR, or DM_EDITOR='cmd {file}:{line}'",
            severity="warning",
            markup=False,
        )
        return
    run_editor(app, argv, f"{where[0]}:{where[1]}")


def run_editor(app: App[Any], argv: list[str], where: str) -> None:
    """Run ``argv`` with the terminal handed over (the app suspended), then say how it went."""
    try:
        try:
            with app.suspend():
                returncode = subprocess.run(argv, check=False).returncode
        except SuspendNotSupported:  # no terminal to hand over (headless, web): run it as is
            returncode = subprocess.run(
                argv, check=False, stdin=subprocess.DEVNULL, capture_output=True
            ).returncode
    except OSError as exc:
        app.notify(
            f"could not run the editor {safe_line(argv[0], 60)}: {exc.strerror or exc}",
            severity="error",
            markup=False,
        )
        return
    if returncode:
        app.notify(f"the editor exited with status {returncode}", severity="warning", markup=False)
    else:
        app.notify(f"opened {safe_line(where, 120)}", markup=False)
