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


def _task_start(model: Model, e: ev.TaskStart, ts: float, raw: bytes, span: Any) -> None:
    span.target = e.task
    model.span_started(span, "task", ts, raw, e.parent)


def _task_end(model: Model, e: ev.TaskEnd, ts: float, raw: bytes, span: Any) -> None:
    span.result = e.state
    if span.target is None:
        span.target = _text(e.task)
    model.span_ended(span, "task", ts, raw, e.ms, e.outcome)


def _command_start(model: Model, e: ev.CommandStart, ts: float, raw: bytes, span: Any) -> None:
    span.target = e.command
    span.interval = e.interval
    model.span_started(span, "command", ts, raw, e.parent)


def _command_end(model: Model, e: ev.CommandEnd, ts: float, raw: bytes, span: Any) -> None:
    span.result = e.status
    if span.target is None:
        span.target = _text(e.command)
    model.span_ended(span, "command", ts, raw, e.ms, e.outcome)


def _test_start(model: Model, e: ev.TestStart, ts: float, raw: bytes, span: Any) -> None:
    span.target = e.nodeid
    model.span_started(span, "test", ts, raw, e.parent)


def _test_end(model: Model, e: ev.TestEnd, ts: float, raw: bytes, span: Any) -> None:
    span.result = e.result
    if span.target is None:
        span.target = _text(e.nodeid)
    model.span_ended(span, "test", ts, raw, e.ms, e.outcome)


def _span_start(model: Model, e: ev.SpanStart, ts: float, raw: bytes, span: Any) -> None:
    span.target = e.name
    model.span_started(span, "span", ts, raw, e.parent)


def _span_end(model: Model, e: ev.SpanEnd, ts: float, raw: bytes, span: Any) -> None:
    if span.target is None:
        span.target = e.name
    model.span_ended(span, "span", ts, raw, e.ms, e.outcome)


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
    ev.TaskStart: _task_start,
    ev.TaskEnd: _task_end,
    ev.CommandStart: _command_start,
    ev.CommandEnd: _command_end,
    ev.CommandHeartbeat: points.heartbeat,
    ev.TestStart: _test_start,
    ev.TestEnd: _test_end,
    ev.SpanStart: _span_start,
    ev.SpanEnd: _span_end,
    ev.Sql: points.sql,
    ev.Log: points.log,
    ev.Metric: points.metric,
    ev.Progress: points.progress,
    ev.Other: _other,
    **{kind: _rare for kind in ev.EVENT_TYPES if issubclass(kind, ev._Rare)},
}
