"""Spans for the report and export tests, grouped from a folder's events.

Stand-in until the explorer's model (dm_explore/model) is available: the
commands themselves take their spans from the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import read_events


@dataclass
class Span:
    kind: str
    trace: str
    span: str
    parent: str | None
    svc: str
    host: str
    pid: int
    start: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def spans_of(folder: Path) -> list[Span]:
    spans: dict[str, Span] = {}
    for event in read_events(folder):
        if "span" not in event:
            continue
        kind, _, phase = event["event"].rpartition(".")
        span = spans.get(event["span"])
        if span is None:
            span = spans[event["span"]] = Span(
                kind if phase in ("start", "end") else "span", event["trace"], event["span"],
                event.get("parent"), event["svc"], event["host"], event["pid"],
            )  # fmt: skip
        if phase == "start" and kind:
            span.kind, span.start, span.parent = kind, event, event.get("parent")
        elif phase == "end" and kind:
            span.end = event
        else:
            span.events.append(event)
    return list(spans.values())
