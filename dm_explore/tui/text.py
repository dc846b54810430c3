"""Building display text from untrusted values: literal, safe, styled by us only."""

from __future__ import annotations

import hashlib

from rich.text import Text

from ..model import Span
from ..outputs.textsafe import safe, safe_json, safe_line

__all__ = [
    "block",
    "cell",
    "duration",
    "frames_text",
    "service_colour",
    "status_text",
    "tail_cell",
]

_PALETTE = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "bright_blue",
    "bright_magenta",
    "bright_cyan",
    "orange1",
)


def _plain(value: object) -> object:
    """``value`` for display: None as nothing, a dict or list as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return safe_json(value)
    return value


def cell(value: object, limit: int | None = None, style: str = "") -> Text:
    """One line of literal text: markup is not parsed, control characters are shown escaped.

    A dict or list shows as compact JSON; past ``limit`` characters the end is cut.
    """
    return Text(safe_line(_plain(value), limit), style=style, no_wrap=True, end="")


def tail_cell(value: object, limit: int, style: str = "") -> Text:
    """Like :func:`cell`, but a long value keeps its end (``…/app/views.py:12 in f``)."""
    text = safe_line(_plain(value))
    if len(text) > limit:
        text = "…" + text[len(text) - limit + 1 :]
    return Text(text, style=style, no_wrap=True, end="")


def block(value: object, style: str = "") -> Text:
    """Several lines of literal text (newlines kept, every other control escaped)."""
    return Text(safe("" if value is None else value), style=style, end="")


def frames_text(frames: object, indent: str = "  ") -> Text:
    """A traceback, outermost call first: ``file:line in func`` and the source line under it.

    Frames of the application are bright, library frames dim.
    """
    out = Text(end="")
    for frame in frames if isinstance(frames, list) else []:
        if not isinstance(frame, dict):
            continue
        where = f"{frame.get('file')}:{frame.get('line')} in {frame.get('func')}"
        out.append(indent)
        out.append_text(cell(where, 200, "" if frame.get("in_app") else "dim"))
        out.append("\n")
        if frame.get("src"):
            out.append(indent + "    ")
            out.append_text(cell(frame.get("src"), 200, "italic"))
            out.append("\n")
    return out


def service_colour(name: str) -> str:
    """A stable colour per service name."""
    digest = hashlib.md5(name.encode("utf-8", "replace"), usedforsecurity=False).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def duration(ms: float | None) -> str:
    if ms is None:
        return "…"
    if ms >= 10_000:
        return f"{ms / 1000:.1f}s"
    return f"{ms:.1f}ms" if ms < 1000 else f"{ms / 1000:.2f}s"


def status_text(span: Span) -> Text:
    """The status column: HTTP status coloured by class, or the outcome of a span in flight."""
    status = span.status
    if status is None:
        outcome = span.outcome
        style = {"in flight": "italic yellow", "killed": "bold red"}.get(outcome, "dim")
        return Text("…" if outcome == "in flight" else outcome, style=style, end="")
    style = (
        "green"
        if status < 300
        else "cyan"
        if status < 400
        else "yellow"
        if status < 500
        else "bold red"
    )
    return Text(str(status), style=style, end="")
