"""Events the writer refused (``dm.invalid``), as the explorer shows them to their author.

A refused panel is kept where the panel would have been: an entry of its span's
(or, outside any span, its process's) panels, under the title it was given (or
:data:`UNTITLED`), in arrival order with the panel's other entries. The entry's
``type`` is :data:`REFUSED`, which no valid panel has; it holds ``kind``, ``errors``
(strings), ``call`` (``{file, line, func}`` of the line that called dm_log, or None)
and ``data`` (a truncated repr of what was refused, or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REFUSED", "UNTITLED", "is_refused", "refused_entry", "refused_panels", "site_text"]

REFUSED = "refused"
UNTITLED = "(refused panel)"


def refused_entry(event: Mapping[str, Any]) -> dict[str, Any]:
    """The panel entry standing for the refused event ``event`` (a ``dm.invalid`` line)."""
    errors = event.get("errors")
    call = event.get("call")
    data = event.get("data")
    return {
        "type": REFUSED,
        "kind": str(event.get("kind")),
        "errors": [str(e) for e in errors] if isinstance(errors, list) else [],
        "call": call if isinstance(call, dict) else None,
        "data": data if isinstance(data, str) else None,
    }


def panel_title(event: Mapping[str, Any]) -> str:
    """The title the refused panel was given, or :data:`UNTITLED`."""
    title = event.get("panel")
    return title if isinstance(title, str) and title else UNTITLED


def is_refused(entry: Mapping[str, Any]) -> bool:
    """True for the entry of a refused panel (see :func:`refused_entry`)."""
    return entry.get("type") == REFUSED


def refused_panels(panels: Mapping[str, list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """``(title, entry)`` of every refused entry in ``panels``, in order."""
    return [(title, e) for title, entries in panels.items() for e in entries if is_refused(e)]


def site_text(call: Any) -> str:
    """``file:line in func`` of a call site, or ``""`` when there is none."""
    if not isinstance(call, dict) or not call.get("file"):
        return ""
    where = f"{call.get('file')}:{call.get('line', '?')}"
    return f"{where} in {call['func']}" if call.get("func") else where
