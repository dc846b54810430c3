"""What each kind of event does to the model: one handler per event class.

Every handler takes the model, the event (its ``ts`` a datetime), its line and
the span it names (or None); the file is the model's ``current_file``, the
writing process ``model.process_of(event)`` (for a line of no span, already the
model's ``current_process``).
Span ``.start``/``.end`` handlers copy the few fields lists and filters need
onto the span and leave the rest in the line; point events are applied by
:mod:`dm_explore.model.points`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from . import events as ev
from . import points
from .records import Span, number

if TYPE_CHECKING:
    from .model import Model

__all__ = ["DISPATCH"]

Handler = Callable[["Model", Any, bytes, "Span | None"], None]


# Methods and outcomes almost every span has: one copy each, not one per span.
_WORDS = {w: w for w in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ok", "error")}


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _started(model: Model, e: Any, raw: bytes, span: Any) -> None:
    """A ``.start``: the compact fields of its kind, its line, and the model's indexes."""
    kind = type(e)
    if kind is ev.RequestStart:
        span.method, span.target = _WORDS.get(e.method, e.method), e.path
        if span.route is None:
            span.route, span.view = e.route, e.view
    elif kind is ev.HttpStart:
        span.method, span.target = _WORDS.get(e.method, e.method), e.url
    else:  # a task, command, test or custom span: one field names it
        span.target = getattr(e, e.NAME_FIELD)
        if kind is ev.CommandStart:
            span.interval = e.interval
    parent = e.parent
    if parent and span.parent is None:  # named first by a line without its parent
        if parent.rstrip(ev.HEX_DIGITS):
            raise ev.InvalidEvent("envelope: parent must be 16 lowercase hex")
        model.traces[span.trace].roots.remove(span)
        model.link(span, parent)
    span.kind = e.KIND
    span.start_raw = raw
    span.start_ts = e.ts.timestamp()
    if span.kind == "request":
        model.requests[span.span_id] = span  # (counted in the totals per batch)
    elif span.kind == "command":
        model.command_started(span)


def _ended(model: Model, e: Any, raw: bytes, span: Any) -> None:
    """An ``.end``: duration (``ms``, else from the start), outcome, status or result."""
    kind = type(e)
    if kind is ev.RequestEnd:
        span.status = e.status
        if e.route is not None:
            span.route = e.route
        if e.view is not None:
            span.view = points.shared(e.view)
    elif kind is ev.HttpEnd:
        span.status = e.status
    else:  # a task, command, test or custom span, with its result if its kind has one
        if e.RESULT_FIELD:
            span.result = getattr(e, e.RESULT_FIELD)
        if span.target is None:
            span.target = _text(getattr(e, e.NAME_FIELD))
    if span.kind == "?":
        span.kind = e.KIND
    span.end_raw = raw
    span.end_ts = ts = e.ts.timestamp()
    ms = e.ms
    if ms is None and span.start_ts is not None:
        ms = (ts - span.start_ts) * 1000
    span.ms = ms
    if span.start_ts is None and ms is not None:
        span.start_ts = ts - ms / 1000
    outcome = span.end_outcome = _WORDS.get(e.outcome, e.outcome)
    if outcome == "error":
        model.totals["errors"] += 1
    if ms is None:
        return
    if span.kind == "request":
        latency = model.request_latency.get(span.process[0])
        if latency is None:
            latency = model.series(model.request_latency, span.process[0], "ms")
        latency.add(ts, ms)
        if span.start_raw is None:  # the end arrived without its start
            model.requests[span.span_id] = span
    elif span.kind == "span":
        model.series(model.span_durations, span.name, "ms").add(ts, ms)


class _Custom:
    """A custom span kind's start or end (``deploy.start``), as :func:`_started` and
    :func:`_ended` read the typed ones."""

    NAME_FIELD, RESULT_FIELD = "name", ""

    def __init__(self, kind: str, e: ev.Other) -> None:
        data = e.data
        self.KIND, self.parent, self.ts = kind, e.parent, e.ts
        self.name = _text(data.get("name"))
        ms, status = data.get("ms"), data.get("status")
        self.ms = number(ms)
        self.outcome = _text(data.get("outcome"))
        self.status = status if type(status) is int else None


def _rare(model: Model, e: ev.TypedEvent, raw: bytes, span: Span | None) -> None:
    """A kind the model keeps whole: its point handler takes the line as a dict."""
    handler = points.DICT_HANDLERS[e.KIND]
    data, ts = orjson.loads(raw), e.ts.timestamp()
    handler(model, data, ts, span, model.process_of(e), model.current_file)


def _other(model: Model, e: ev.Other, raw: bytes, span: Span | None) -> None:
    """An unknown kind: a custom span kind's start or end, or nothing the model reads."""
    head, _, phase = e.KIND.rpartition(".")
    if span is None or not head or head == "process" or phase not in ("start", "end"):
        return  # x.* and other kinds the model does not read: counted, kept in the file
    custom = _Custom(head, e)
    if phase == "start":
        _started(model, custom, raw, span)
        return
    if custom.status is not None:
        span.status = custom.status
    _ended(model, custom, raw, span)


DISPATCH: dict[type, Handler] = {
    **{kind: _ended if issubclass(kind, ev.End) else _started for kind in ev.SPAN_EVENT_TYPES},
    ev.CommandHeartbeat: points.heartbeat,
    ev.Sql: points.sql,
    ev.Log: points.log,
    ev.Metric: points.metric,
    ev.Progress: points.progress,
    ev.Other: _other,
    **{kind: _rare for kind in ev.EVENT_TYPES if issubclass(kind, ev.KeptWhole)},
}
