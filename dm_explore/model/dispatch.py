"""What each kind of event does to the model: one handler per event class.

Every handler takes the model, the event, its time in epoch seconds, its line
and the span it names (or None); the writing process and the file are the
model's ``current_process`` and ``current_file``.
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

Handler = Callable[["Model", Any, float, bytes, "Span | None"], None]


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _request_start(model: Model, e: ev.RequestStart, ts: float, raw: bytes, span: Any) -> None:
    span.method, span.target = e.method, e.path
    if span.route is None:
        span.route, span.view = e.route, e.view
    model.span_started(span, "request", ts, raw, e.parent)


def _request_end(model: Model, e: ev.RequestEnd, ts: float, raw: bytes, span: Any) -> None:
    span.status = e.status
    if e.route is not None:
        span.route = e.route
    if e.view is not None:
        span.view = e.view
    model.span_ended(span, "request", ts, raw, e.ms, e.outcome)


def _http_start(model: Model, e: ev.HttpStart, ts: float, raw: bytes, span: Any) -> None:
    span.method, span.target = e.method, e.url
    model.span_started(span, "http", ts, raw, e.parent)


def _http_end(model: Model, e: ev.HttpEnd, ts: float, raw: bytes, span: Any) -> None:
    span.status = e.status
    model.span_ended(span, "http", ts, raw, e.ms, e.outcome)


def _named_start(model: Model, e: Any, ts: float, raw: bytes, span: Any) -> None:
    """A task, command, test or custom span starting: one field names it."""
    span.target = getattr(e, e.NAME_FIELD)
    if type(e) is ev.CommandStart:
        span.interval = e.interval
    model.span_started(span, e.KIND, ts, raw, e.parent)


def _named_end(model: Model, e: Any, ts: float, raw: bytes, span: Any) -> None:
    """A task, command, test or custom span ending, with its result if its kind has one."""
    if e.RESULT_FIELD:
        span.result = getattr(e, e.RESULT_FIELD)
    if span.target is None:
        span.target = _text(getattr(e, e.NAME_FIELD))
    model.span_ended(span, e.KIND, ts, raw, e.ms, e.outcome)


def _rare(
    model: Model,
    e: ev.TypedEvent,
    ts: float,
    raw: bytes,
    span: Span | None,
) -> None:
    """A kind the model keeps whole: its point handler takes the line as a dict."""
    handler = points.DICT_HANDLERS[e.KIND]
    handler(model, orjson.loads(raw), ts, span, model.current_process, model.current_file)


def _other(
    model: Model,
    e: ev.Other,
    ts: float,
    raw: bytes,
    span: Span | None,
) -> None:
    """An unknown kind: a custom span kind's start or end, or nothing the model reads."""
    kind, data = e.KIND, e.data
    head, _, phase = kind.rpartition(".")
    if span is None or not head or head == "process" or phase not in ("start", "end"):
        return  # x.* and other kinds the model does not read: counted, kept in the file
    if phase == "start":
        if span.target is None:
            span.target = _text(data.get("name"))
        model.span_started(span, head, ts, raw, e.parent)
        return
    status = data.get("status")
    if type(status) is int:
        span.status = status
    if span.target is None:
        span.target = _text(data.get("name"))
    model.span_ended(span, head, ts, raw, number(data.get("ms")), _text(data.get("outcome")))


DISPATCH: dict[type, Handler] = {
    ev.RequestStart: _request_start,
    ev.RequestEnd: _request_end,
    ev.HttpStart: _http_start,
    ev.HttpEnd: _http_end,
    ev.TaskStart: _named_start,
    ev.TaskEnd: _named_end,
    ev.CommandStart: _named_start,
    ev.CommandEnd: _named_end,
    ev.CommandHeartbeat: points.heartbeat,
    ev.TestStart: _named_start,
    ev.TestEnd: _named_end,
    ev.SpanStart: _named_start,
    ev.SpanEnd: _named_end,
    ev.Sql: points.sql,
    ev.Log: points.log,
    ev.Metric: points.metric,
    ev.Progress: points.progress,
    ev.Other: _other,
    **{kind: _rare for kind in ev.EVENT_TYPES if issubclass(kind, ev._Rare)},
}
