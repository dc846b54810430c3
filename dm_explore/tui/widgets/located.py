"""What a span's logs, exceptions and templates show, entry by entry, each with its file and line.

Each function returns :data:`~dm_explore.tui.widgets.nav.LocatedItem` entries for a
:class:`~dm_explore.tui.widgets.nav.LocatedList`: ``e`` opens the entry under
the cursor. The location functions say where a statement, a span, an issue or a
finding points; None when the files do not say.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from dm_log.contract import format_time

from ...model import Span, SqlRec, subtree
from ...model.findings import Finding
from ...model.issues import Issue
from ..editor import Location, frame_location, site_location
from ..text import block, cell, frames_text
from .detail_tabs import MAX_ROWS, template_entry, template_rows, templates_text
from .nav import LocatedItem

__all__ = [
    "exception_items",
    "finding_location",
    "frame_items",
    "issue_location",
    "log_items",
    "record_site",
    "span_location",
    "sql_location",
    "template_items",
]

LEVEL_STYLES = {
    "debug": "dim",
    "info": "",
    "warning": "yellow",
    "error": "red",
    "critical": "bold red",
}


def record_site(value: Any) -> Location | None:
    """A ``(file, line, func)`` site as the model keeps it, as a location."""
    if isinstance(value, tuple) and len(value) >= 2:
        file, line = value[0], value[1]
        if isinstance(file, str) and file and type(line) is int:
            return file, line
    return None


def template_origins(span: Span) -> dict[str, str]:
    """Template name -> its file (``origin``), for the templates rendered under ``span``."""
    origins: dict[str, str] = {}
    for current, _depth in template_rows(span):
        origin = current.start.get("origin")
        if isinstance(origin, str) and origin and current.name not in origins:
            origins[current.name] = origin
    return origins


def sql_location(rec: SqlRec, origins: dict[str, str]) -> Location | None:
    """Where a statement came from: the template line rendering it (when its file is
    known), else its call site."""
    if rec.template is not None:
        name, line = rec.template
        origin = origins.get(name)
        if origin:
            return origin, line
    return record_site(rec.site)


def span_location(span: Span) -> Location | None:
    """Where a span points: a template's file, where its exception was raised, else the
    first site of its own statements, cache calls or log lines."""
    origin = span.start.get("origin") if span.kind == "template" else None
    if isinstance(origin, str) and origin:
        return origin, 1
    for exc in span.exceptions:
        where = frame_location(exc.get("frames"))
        if where is not None:
            return where
    for rec in span.sql:
        if rec.in_app is not False and (where := record_site(rec.site)) is not None:
            return where
    for call in span.cache:
        if (where := record_site(call.site)) is not None:
            return where
    for log in span.logs:
        if (where := site_location(log.site)) is not None:
            return where
    return next((w for rec in span.sql if (w := record_site(rec.site)) is not None), None)


def issue_location(issue: Issue) -> Location | None:
    """The innermost frame of the project's code in the issue's latest traceback."""
    return frame_location(issue.example.get("frames"))


def finding_location(finding: Finding) -> Location | None:
    """A finding's call site (``file:line in func``); None when it names a span instead."""
    return site_location(finding.site)


def log_items(span: Span) -> list[LocatedItem]:
    """One entry per log line of ``span`` and its same-process descendants, in time order."""
    records = sorted(((rec, s) for s in subtree(span) for rec in s.logs), key=lambda r: r[0].ts)
    items: list[LocatedItem] = []
    for rec, owner in records[:MAX_ROWS]:
        out = Text(f"{format_time(rec.ts)} ", style="dim", end="")
        level = cell(rec.level.upper(), 8, LEVEL_STYLES.get(rec.level, ""))
        level.pad_right(9 - level.cell_len)
        out.append_text(level)
        out.append_text(cell(rec.logger, 30, "dim"))
        if owner is not span:  # logged inside a child span of this process
            out.append_text(cell(f" [{owner.name}]", 40, "dim italic"))
        out.append(" ")
        out.append_text(block(rec.msg))
        items.append((out, site_location(rec.site)))
    if len(records) > MAX_ROWS:
        items.append((Text(f"… {len(records) - MAX_ROWS} more log lines", style="dim"), None))
    return items or [(Text("(no logs)", style="dim"), None)]


def frame_items(frames: Any, indent: str = "  ") -> list[LocatedItem]:
    """One entry per frame of a traceback (outermost first), each opening its own line."""
    items: list[LocatedItem] = []
    for frame in frames if isinstance(frames, list) else []:
        if isinstance(frame, dict):
            items.append((frames_text([frame], indent), frame_location([frame])))
    return items


def exception_items(span: Span) -> list[LocatedItem]:
    """Each exception under ``span``: a heading (opening where it was raised), then its frames."""
    items: list[LocatedItem] = []
    found = [(exc, s) for s in subtree(span) for exc in s.exceptions]
    for exc, owner in found[:MAX_ROWS]:
        out = Text(end="")
        if owner is not span:  # raised inside a child span of this process
            out.append_text(cell(f"in {owner.kind} {owner.name}", 120, "dim italic"))
            out.append("\n")
        out.append_text(cell(exc.get("type"), 120, "bold red"))
        out.append(": ")
        out.append_text(block(exc.get("message")))
        out.append(
            f"   [{exc.get('mechanism', '')}, fingerprint {exc.get('fingerprint')}]", style="dim"
        )
        items.append((out, frame_location(exc.get("frames"))))
        items.extend(frame_items(exc.get("frames")))
        if exc.get("cause"):
            cause = Text("  caused by ", style="dim", end="")
            cause.append_text(cell(exc.get("cause"), 200))
            items.append((cause, None))
    if len(found) > MAX_ROWS:
        items.append((Text(f"… {len(found) - MAX_ROWS} more exceptions", style="dim"), None))
    return items or [(Text("(no exceptions)", style="dim"), None)]


def template_items(span: Span) -> list[LocatedItem]:
    """One entry per template rendered under ``span`` (nested, with its context): its file."""
    rows = template_rows(span)
    if not rows:
        return [(templates_text(span), None)]
    items: list[LocatedItem] = [(Text(f"{len(rows)} templates rendered", style="bold"), None)]
    for current, depth in rows[:MAX_ROWS]:
        text = template_entry(current, depth)
        origin = current.start.get("origin")
        items.append((text, (origin, 1) if isinstance(origin, str) and origin else None))
    return items
