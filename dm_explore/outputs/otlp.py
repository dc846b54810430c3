"""The model's spans as OTLP ``ExportTraceServiceRequest`` objects (the OTLP/JSON shape).

``dm-explore export otlp DIR -o FILE`` writes them as JSON lines, as the
Collector's ``otlpjsonfile`` receiver reads them; ``--endpoint`` and
``dm-explore ship`` send them (:mod:`.otlp_send`, protobuf by default,
:mod:`.otlp_proto`). A request holds at most :data:`MAX_ITEMS` spans and span
events, so a trace of a million spans becomes many bounded requests, never one.
Within a request, spans are grouped by the process that wrote them: one resource
per ``svc``, ``host``, ``pid`` with ``service.name``, ``host.name``,
``process.pid`` and ``service.instance.id``. Ids stay lowercase hex, as the
OTLP/JSON encoding requires; 64-bit integers are strings, enums numbers.

Span kinds: ``request`` is SERVER, ``http`` CLIENT, ``task`` CONSUMER, anything
else INTERNAL. Each ``sql`` statement is a CLIENT span of its own, child of the
span that ran it; ``log``, ``exception``, ``cache`` and ``profile`` events
become span events; attributes use current OpenTelemetry semantic-convention
names where one exists (``http.request.method``, ``url.path``, ``db.query.text``,
``code.file.path``, ``exception.type``...) and ``dm.*`` otherwise. A span with
no end ends at the newest time the model holds for it, with status ERROR and
``dm.unfinished`` true. A span is never exported as its own ancestor: where
parent links close a cycle, the link that closes it is left out and kept as
``dm.cyclic_parent``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import IO, Any

import orjson

from ..model import Model, ProcessKey, Span, SpanKey, Trace
from .otlp_events import (
    attributes,
    cache_event,
    event_ts,
    exception_event,
    log_event,
    model_sql_span,
    nanos,
    profile_event,
)

__all__ = [
    "MAX_EVENTS_PER_SPAN",
    "MAX_ITEMS",
    "batch_requests",
    "cyclic_links",
    "export_requests",
    "otlp_spans",
    "resource",
    "span_to_otlp",
    "write_otlp",
]

SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_CONSUMER = 1, 2, 3, 5
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
MAX_ITEMS = 4096  # spans plus span events in one request: about 1 to 4 MB of protobuf
MAX_EVENTS_PER_SPAN = 1000  # past this, a span's events are counted as dropped
_KINDS = {"request": SPAN_KIND_SERVER, "http": SPAN_KIND_CLIENT, "task": SPAN_KIND_CONSUMER}
_SCOPE = {"name": "debug-monitor", "version": "0.1.0"}
_INSTANCE_NS = uuid.UUID("6c1b5f52-3f0e-4a8c-9d35-2f4f7a0c9e11")

# Span fields (from the start or end event) -> attribute names; the rest of a span's
# fields are left out: headers and forms stay in the folder, not in a trace store.
_ATTRIBUTES: dict[str, dict[str, str]] = {
    "request": {
        "method": "http.request.method",
        "path": "url.path",
        "query": "url.query",
        "scheme": "url.scheme",
        "route": "http.route",
        "status": "http.response.status_code",
        "remote": "client.address",
        "user": "enduser.id",
        "view": "code.function.name",
        "bytes": "http.response.body.size",
        "queries": "dm.queries",
        "sql_ms": "dm.sql_ms",
    },
    "http": {
        "method": "http.request.method",
        "url": "url.full",
        "status": "http.response.status_code",
        "bytes": "http.response.body.size",
        "lib": "dm.lib",
    },
    "task": {
        "task": "dm.task",
        "task_id": "messaging.message.id",
        "queue": "messaging.destination.name",
        "state": "dm.task.state",
        "retries": "dm.task.retries",
    },
    "command": {"command": "dm.command", "status": "dm.command.status"},
    "test": {
        "nodeid": "test.case.name",
        "result": "test.case.result.status",
        "worker": "dm.worker",
    },
    "span": {"name": "dm.name"},
    "template": {
        "name": "dm.template.name",
        "origin": "code.file.path",
        "context_keys": "dm.template.context_keys",
    },
}


@functools.lru_cache(maxsize=4096)
def resource(process: ProcessKey) -> dict[str, Any]:
    """The OTLP resource of one process: its service, host, pid and a stable instance id.

    The same (cached) object for a process: read it, never change it.
    """
    svc, host, pid = process
    instance = uuid.uuid5(_INSTANCE_NS, f"{svc}\0{host}\0{pid}")
    pairs = [
        ("service.name", svc),
        ("host.name", host),
        ("process.pid", pid),
        ("service.instance.id", str(instance)),
    ]
    return {"attributes": attributes(pairs)}


def _name(span: Span, fields: Mapping[str, Any]) -> str:
    if span.kind == "request":
        return f"{fields.get('method', 'GET')} {fields.get('route') or fields.get('path', '')}"
    if span.kind == "http":
        return str(fields.get("method") or "HTTP")
    if span.kind == "template":
        return f"template {span.target or '?'}"
    return span.target or span.kind


def _span_events(span: Span) -> list[dict[str, Any]]:
    """log, exception, cache and profile events of the span, in time order."""
    timed = [(ts, log_event(r, ts)) for r in span.logs for ts in (r.ts,)]
    timed += [(event_ts(e), exception_event(e)) for e in span.exceptions]
    timed += [(r.ts, cache_event(r)) for r in span.cache]
    if span.profiles:  # written as the span ends
        at = span.end_ts or span.start_ts or 0.0
        timed += [(at, profile_event(p, at)) for p in span.profiles]
    timed.sort(key=itemgetter(0))
    return [event for _, event in timed]


def _last_seen(span: Span) -> float | None:
    """The newest time the model holds for a span: where an unfinished span is cut."""
    times = [r.ts for r in span.sql] + [r.ts for r in span.logs] + [r.ts for r in span.cache]
    times += [event_ts(e) for e in span.exceptions]
    times += [t for t in (span.start_ts, span.end_ts, span.heartbeat_ts) if t is not None]
    return max(times, default=None)


def span_to_otlp(span: Span, *, cut_parent: bool = False) -> dict[str, Any]:
    """One OTLP/JSON ``Span`` object for one model span.

    ``cut_parent``: the span's parent link closes a cycle, so it is left out (and kept as
    ``dm.cyclic_parent``).
    """
    start, end = span.start, span.end or {}
    fields = {**start, **end}
    ms = span.ms if span.end_ts is not None else None
    last = None if ms is not None and span.start_ts is not None else _last_seen(span)
    first = span.start_ts if span.start_ts is not None else last
    start_ns = nanos(first) if first is not None else 0
    if ms is not None and end.get("ms") is None and span.start_ts is not None:
        end_ns = nanos(span.end_ts or 0.0)  # no ms written: the end line's own time, exactly
    elif ms is not None:
        end_ns = start_ns + round(ms * 1_000_000)
    else:
        end_ns = nanos(last) if last is not None else start_ns
    mapping = _ATTRIBUTES.get(span.kind, {})
    pairs: list[tuple[str, Any]] = [(name, fields.get(key)) for key, name in mapping.items()]
    if span.kind == "span" and isinstance(start.get("fields"), Mapping):
        pairs += [(f"dm.field.{k}", v) for k, v in start["fields"].items()]
    pairs.append(("dm.kind", span.kind))
    parent = span.parent
    if parent is not None and (cut_parent or parent == span.span_id):
        pairs.append(("dm.cyclic_parent", parent))
        parent = None
    outcome = end.get("outcome")
    if span.end_ts is None:
        pairs.append(("dm.unfinished", True))
        reason = "killed" if span.killed else "no end: still running or killed"
        status: dict[str, Any] = {"code": STATUS_ERROR, "message": reason}
    elif span.outcome == "ok":
        status = {"code": STATUS_OK}
    else:
        status = {"code": STATUS_ERROR, "message": str(end.get("error") or outcome)}
    events = _span_events(span)
    otlp: dict[str, Any] = {
        "traceId": span.trace,
        "spanId": span.span_id,
        "name": _name(span, fields),
        "kind": _KINDS.get(span.kind, SPAN_KIND_INTERNAL),
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(max(end_ns, start_ns)),
        "attributes": attributes(pairs),
        "events": events[:MAX_EVENTS_PER_SPAN],
        "status": status,
    }
    if len(events) > MAX_EVENTS_PER_SPAN:
        otlp["droppedEventsCount"] = len(events) - MAX_EVENTS_PER_SPAN
    if parent:
        otlp["parentSpanId"] = parent
    return otlp


def otlp_spans(span: Span, *, cut_parent: bool = False) -> list[dict[str, Any]]:
    """The span (:func:`span_to_otlp`) and a CLIENT span for each of its SQL statements."""
    spans = [span_to_otlp(span, cut_parent=cut_parent)]
    spans += [model_sql_span(span.trace, span.span_id, i, r) for i, r in enumerate(span.sql)]
    return spans


def cyclic_links(spans: Iterable[Span], lookup: Mapping[SpanKey, Span]) -> set[str]:
    """Ids of the spans whose parent link closes a cycle (A's parent B, B's parent A).

    Parent links make a graph where each span has at most one way out, so each
    cycle is found once by walking up from the spans in order: the span where the
    walk first comes back to itself has its link cut. Linear, without recursion.
    """
    cut: set[str] = set()
    done: set[str] = set()
    for span in spans:
        path: dict[str, None] = {}
        node: Span | None = span
        while node is not None and node.span_id not in done:
            if node.span_id in path:  # back where this walk has been: a cycle
                cut.add(node.span_id)
                break
            path[node.span_id] = None
            node = lookup.get((node.trace, node.parent)) if node.parent is not None else None
        done.update(path)
    return cut


def batch_requests(
    items: Iterable[tuple[ProcessKey, dict[str, Any]]], max_items: int = MAX_ITEMS
) -> Iterator[dict[str, Any]]:
    """Group ``(process, OTLP span)`` pairs into requests of at most ``max_items`` each.

    An item is a span or one of its events; a span bigger than the budget goes alone.
    Spans keep their order within each process.
    """
    by_process: dict[ProcessKey, list[dict[str, Any]]] = {}
    size = 0
    for process, otlp_span in items:
        weight = 1 + len(otlp_span["events"])
        if size and size + weight > max_items:
            yield _request(by_process)
            by_process, size = {}, 0
        by_process.setdefault(process, []).append(otlp_span)
        size += weight
    if by_process:
        yield _request(by_process)


def _request(by_process: Mapping[ProcessKey, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {"resource": resource(process), "scopeSpans": [{"scope": _SCOPE, "spans": spans}]}
            for process, spans in by_process.items()
        ]
    }


def _trace_spans(model: Model, trace: Trace) -> Iterator[tuple[ProcessKey, dict[str, Any]]]:
    """``(process, OTLP span)`` for each span of one trace, cycles cut."""
    cut = cyclic_links(trace.spans, model.spans)
    for span in trace.spans:
        for otlp in otlp_spans(span, cut_parent=span.span_id in cut):
            yield span.process, otlp


def export_requests(
    model: Model,
    *,
    max_items: int = MAX_ITEMS,
    per_trace: bool = True,
) -> Iterator[dict[str, Any]]:
    """``ExportTraceServiceRequest`` objects for every trace of ``model``, in arrival order.

    ``per_trace`` (the file's way): one request per trace, or several of at most
    ``max_items`` spans and events for a big one. Otherwise (sending) small traces share
    a request, up to ``max_items``. Built as they are consumed: memory holds one request.
    """
    traces = model.traces.values()
    if per_trace:
        for trace in traces:
            yield from batch_requests(_trace_spans(model, trace), max_items)
    else:
        spans = (item for trace in traces for item in _trace_spans(model, trace))
        yield from batch_requests(spans, max_items)


def write_otlp(
    model: Model,
    out: IO[bytes],
) -> int:
    """Write the requests as JSON lines; returns how many lines were written."""
    count = 0
    for request in export_requests(model):
        out.write(orjson.dumps(request) + b"\n")
        count += 1
    return count
