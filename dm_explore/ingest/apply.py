"""Decoded events applied to a model: the reader's last step.

:class:`Applier` applies a file's events in file order. It owns what the model
needs no memory of: the file being applied and the process that wrote the line
before (a line of no span belongs to its process). ``.start`` and ``.end`` lines
are applied here; point events (sql, log, exception, panel, ...) by
:mod:`dm_explore.ingest.point_events`. Everything it changes in the model it
changes through the model's methods, or in the records (spans, processes,
files) those methods gave it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from msgspec import UNSET

from ..model import FileInfo, Model, ProcessInfo, Span
from ..model.problems import InvalidEvent, Problem, check_ids
from ..model.records import number
from . import events as ev
from . import point_events
from .point_events import shared

__all__ = ["Applier"]

Handler = Callable[["Applier", Any, bytes, "Span | None"], None]

_NO_PROCESS = ProcessInfo(("", "", 0))  # before the first event: matches none


class Applier:
    """Applies decoded events to ``model``, one file's batch at a time."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.file = FileInfo(0, "")  # the file of the batch being applied
        self.process = _NO_PROCESS  # the process that wrote the line before

    def apply_batch(
        self, file_id: int, events: list[ev.Event | None], raws: list[bytes], first: int = 0
    ) -> list[Problem]:
        """Apply decoded events of one file, in file order; skip the ``None`` ones.

        ``raws[i]`` is the line of ``events[i]`` (line ``first + i + 1`` of the
        file), kept for the spans' :attr:`~Span.start` and :attr:`~Span.end`.
        Returns a :class:`Problem` for each event the model refused; nothing of
        a refused event is applied or counted.
        """
        model = self.model
        info = self.file = model.files[file_id]
        spans, dispatch, process_of = model.spans, DISPATCH, self.process_of
        if info.process is None:  # the file's writer: the process of its first line
            head = next((e for e in events if e is not None), None)
            if head is not None:
                info.process = process_of(head).key
        failed: list[tuple[int, str]] = []
        unset, last_id, last_trace, last_span = UNSET, None, None, None
        pid = self.process.key[2]
        for ev_, raw in zip(events, raws, strict=True):
            if ev_ is None:
                continue
            try:
                if ev_.pid != pid:  # another writer in the file (merged files): known too
                    pid = process_of(ev_).key[2]
                span_id, trace_id = ev_.span, ev_.trace
                # A span is named by its trace and its id: another writer may reuse the id.
                if span_id == last_id and trace_id == last_trace:  # as the line before
                    span = last_span
                elif span_id is unset:
                    span = None
                else:
                    span = spans.get((trace_id, span_id))  # type: ignore[arg-type]
                    if span is None:
                        key = process_of(ev_).key
                        span = model.new_span(span_id, trace_id, ev_.parent, key, file_id)
                    last_id, last_trace, last_span = span_id, trace_id, span
                # Which process wrote the line matters to a line of no span: the
                # process keeps it. A span's lines go to the span, made by its process.
                if span is None:
                    process_of(ev_)
                elif ev_.parent != span.parent:
                    # not the parent its span was made with: is it a valid id?
                    check_ids(span.span_id, trace_id, ev_.parent)
                dispatch[type(ev_)](self, ev_, raw, span)
            except InvalidEvent as exc:
                failed.append((_index(events, ev_), str(exc)))
            except Exception as exc:  # a shape the decoder let through: never fatal
                reason = f"could not be applied: {type(exc).__name__}"
                failed.append((_index(events, ev_), reason))
        if failed:  # not applied after all
            events = events.copy()
            for i, _reason in failed:
                events[i] = None
        applied = len(events) - events.count(None)
        if applied:
            if applied == len(events):
                newest = max([e.ts for e in events])  # type: ignore[union-attr]
            else:
                newest = max([e.ts for e in events if e is not None])
            types = list(map(type, events))
            model.count_applied(
                info,
                applied,
                sql=types.count(ev.Sql),
                logs=types.count(ev.Log),
                requests=types.count(ev.RequestStart),
                newest=newest.timestamp(),
            )
        return [Problem(info.path, first + i + 1, "event", reason) for i, reason in failed]

    def process_of(self, event: ev.Event) -> ProcessInfo:
        """The process that wrote ``event``, made known to the model; it becomes
        :attr:`process`."""
        proc = self.process
        key = proc.key
        if (
            event.pid != key[2]
            or event.svc != key[0]
            or event.host != key[1]
            or proc is _NO_PROCESS
        ):
            proc = self.process = self.model.process((event.svc, event.host, event.pid))
        return proc


def _index(events: list[ev.Event | None], event: ev.Event) -> int:
    """Where ``event`` (the object itself) is in ``events``."""
    return next(i for i, other in enumerate(events) if other is event)


# Methods and outcomes almost every span has: one copy each, not one per span.
_WORDS = {w: w for w in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ok", "error")}


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _started(applier: Applier, e: Any, raw: bytes, span: Any) -> None:
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
        applier.model.set_parent(span, parent)
    span.kind = e.KIND
    span.start_raw = raw
    span.start_ts = e.ts.timestamp()
    if span.kind == "request":
        applier.model.add_request(span)
    elif span.kind == "command":
        applier.model.command_started(span)
    elif span.kind == "test":
        applier.model.add_test(span)


def _ended(applier: Applier, e: Any, raw: bytes, span: Any) -> None:
    """An ``.end``: duration (``ms``, else from the start), outcome, status or result."""
    kind = type(e)
    outcome = _WORDS.get(e.outcome, e.outcome)
    if kind is ev.RequestEnd:
        span.status = e.status
        if e.route is not None:
            span.route = e.route
        if e.view is not None:
            span.view = shared(e.view)
        if e.client_error is not None:  # a 4xx the framework answered: what happened, not an error
            span.client_error = e.client_error
            if outcome == "error" and (e.status or 0) < 500:
                outcome = "ok"
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
    span.end_outcome = outcome
    model = applier.model
    if outcome == "error":
        model.count("errors")
    if span.kind == "test":  # its result is in: the test list changed
        model.add_test(span)
    if ms is None:
        return
    if span.kind == "request":
        model.latency_series(span.process[0]).add(ts, ms)
        if span.start_raw is None:  # the end arrived without its start
            model.add_request(span)
    elif span.kind == "span":
        model.duration_series(span.name).add(ts, ms)


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


def _apply_as_dict(applier: Applier, e: ev.TypedEvent, raw: bytes, span: Span | None) -> None:
    """A kind whose handler reads the whole line: it takes the line parsed into a dict."""
    handler = point_events.DICT_HANDLERS[e.KIND]
    data, ts = orjson.loads(raw), e.ts.timestamp()
    handler(applier.model, data, ts, span, applier.process_of(e), applier.file)


def _apply_unknown_kind(applier: Applier, e: ev.Other, raw: bytes, span: Span | None) -> None:
    """An unknown kind: a custom span kind's start or end, or nothing the model reads."""
    head, _, phase = e.KIND.rpartition(".")
    if span is None or not head or head == "process" or phase not in ("start", "end"):
        return  # x.* and other kinds the model does not read: counted, kept in the file
    custom = _Custom(head, e)
    if phase == "start":
        _started(applier, custom, raw, span)
        return
    if custom.status is not None:
        span.status = custom.status
    _ended(applier, custom, raw, span)


DISPATCH: dict[type, Handler] = {
    **{kind: _ended if issubclass(kind, ev.End) else _started for kind in ev.SPAN_EVENT_TYPES},
    ev.CommandHeartbeat: point_events.heartbeat,
    ev.Sql: point_events.sql,
    ev.Cache: point_events.cache,
    ev.Log: point_events.log,
    ev.Metric: point_events.metric,
    ev.Progress: point_events.progress,
    ev.Other: _apply_unknown_kind,
    **{kind: _apply_as_dict for kind in ev.EVENT_TYPES if issubclass(kind, ev.DictEvent)},
}
