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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model

__all__ = [
    "REFUSED",
    "UNTITLED",
    "is_refused",
    "refused_entry",
    "refused_panels",
    "refused_rows",
    "refused_words",
    "site_text",
]

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


def refused_rows(model: Model, most: int) -> list[dict[str, Any]]:
    """The first ``most`` refused events (``dm.invalid``) still kept, oldest process first."""
    rows: list[dict[str, Any]] = []
    for proc in model.processes.values():
        for event in proc.invalid_events:
            if len(rows) >= most:
                return rows
            entry = refused_entry(event)
            rows.append(
                {
                    "kind": entry["kind"],
                    "panel": event.get("panel") if entry["kind"] == "panel" else None,
                    "errors": entry["errors"],
                    "call": entry["call"],
                    "svc": proc.key[0],
                    "trace": event.get("trace"),
                    "span": event.get("span"),
                }
            )
    return rows


def refused_words(total: int, by_kind: dict[str, int]) -> str:
    """``refused events 2 (panel 2)``: the writer's refusals, by kind."""
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items(), key=lambda p: -p[1]))
    return f"refused events {total}" + (f" ({kinds})" if kinds else "")
