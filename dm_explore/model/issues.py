"""Exceptions grouped into issues by fingerprint, across processes and hosts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONTROL_FLOW_TYPES", "Issue", "is_control_flow"]

MAX_SPANS_PER_ISSUE = 1000
# Exceptions a task raises to ask for another attempt, or to stop without failing:
# control flow, not bugs. The task's spans show the attempts (``retries``, ``state``).
CONTROL_FLOW_TYPES = frozenset(
    {"celery.exceptions.Retry", "celery.exceptions.Ignore", "celery.exceptions.Reject"}
)


def is_control_flow(event: dict[str, Any]) -> bool:
    """True for an ``exception`` event that is flow control (Celery's Retry, Ignore, Reject)."""
    return event.get("type") in CONTROL_FLOW_TYPES


@dataclass(slots=True)
class Issue:
    """One bug: every exception with the same fingerprint."""

    fingerprint: str
    type: str
    message: str
    count: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    services: set[str] = field(default_factory=set)
    example: dict[str, Any] = field(default_factory=dict)  # one exception event, frames included
    spans: list[str] = field(default_factory=list)  # refs (trace-span) of its spans, newest last
    handled: int = 0

    def add(self, event: dict[str, Any], ts: float, svc: str, span: str | None) -> None:
        if self.count == 0 or ts < self.first_seen:
            self.first_seen = ts
        if ts >= self.last_seen:
            self.last_seen = ts
            self.example = event
            self.message = str(event.get("message", ""))
        self.count += 1
        if event.get("handled"):
            self.handled += 1
        self.services.add(svc)
        if span is not None:
            self.spans.append(span)
            if len(self.spans) > MAX_SPANS_PER_ISSUE:
                del self.spans[: len(self.spans) - MAX_SPANS_PER_ISSUE]
