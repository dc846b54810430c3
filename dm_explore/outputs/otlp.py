"""OTLP/JSON export: the model's spans as ``ExportTraceServiceRequest`` lines for the Collector.

``dm-explore export otlp DIR -o FILE`` reads the folder into a
:class:`~dm_explore.model.Model` and writes one request per trace, one per
line, as the Collector's ``otlpjsonfile`` receiver reads them. Within a line,
spans are grouped by the process that wrote them (one resource per ``svc``,
``host``, ``pid``). Ids stay lowercase hex, as the OTLP/JSON encoding requires
(protobuf's generic JSON mapping would read them as base64). 64-bit integers
(times, ``intValue``) are strings, enums are numbers.

Span kinds: ``request`` is SERVER, ``http`` CLIENT, ``task`` CONSUMER, anything
else INTERNAL. ``sql``, ``log`` and ``exception`` events become span events;
attributes use OpenTelemetry semantic-convention names where one exists
(``http.request.method``, ``url.path``, ``http.response.status_code``,
``db.statement``, ``exception.type``...) and ``dm.*`` otherwise. A span with no
end (the process was killed, or still runs) ends at the newest time the model
holds for it (its last sql, log, exception or heartbeat), with status ERROR and
``dm.unfinished`` true. A span whose end has no ``outcome`` is OK, as in the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import orjson

from dm_log.contract import epoch_seconds

from ..model import LogRec, Model, ProcessKey, Span, SqlRec

__all__ = ["export_requests", "span_to_otlp", "write_otlp"]

SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_CONSUMER = 1, 2, 3, 5
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
_KINDS = {"request": SPAN_KIND_SERVER, "http": SPAN_KIND_CLIENT, "task": SPAN_KIND_CONSUMER}
_SCOPE = {"name": "debug-monitor", "version": "0.1.0"}

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
        "view": "code.function",
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
}


def _exception_ts(event: Mapping[str, Any]) -> float:
    """When an exception event happened, in epoch seconds (its ``ts``, any offset)."""
    return epoch_seconds(event.get("ts")) or 0.0


def _nanos(epoch: float) -> int:
    """The model's epoch seconds as unix nanoseconds, rounded to the microsecond.

    Event times are microseconds (docs/format.md); a float of epoch seconds holds
    them to within a quarter of a microsecond, so the rounding gives them back exactly.
    """
    return round(epoch * 1_000_000) * 1000


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    return {"stringValue": orjson.dumps(value).decode()}


def _attributes(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in pairs if v is not None]


def _name(span: Span, fields: Mapping[str, Any]) -> str:
    if span.kind == "request":
        return f"{fields.get('method', 'GET')} {fields.get('route') or fields.get('path', '')}"
    if span.kind == "http":
        return str(fields.get("method") or "HTTP")
    return span.name if span.kind in ("task", "command", "test", "span") else span.kind


def _stacktrace(event: Mapping[str, Any]) -> str:
    """The frames as Python prints a traceback, outermost call first."""
    lines = ["Traceback (most recent call last):"]
    for frame in event.get("frames") or ():
        if not isinstance(frame, Mapping):
            continue
        lines.append(
            f'  File "{frame.get("file")}", line {frame.get("line")}, in {frame.get("func")}'
        )
        if frame.get("src"):
            lines.append(f"    {frame['src']}")
    lines.append(f"{event.get('type')}: {event.get('message', '')}")
    return "\n".join(lines)


def _event(ts: float, name: str, pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {"timeUnixNano": str(_nanos(ts)), "name": name, "attributes": _attributes(pairs)}


def _sql_event(rec: SqlRec) -> dict[str, Any]:
    file, line, func = rec.site or (None, None, None)
    pairs = [
        ("db.statement", rec.sql),
        ("db.system", rec.vendor),
        ("db.namespace", rec.alias),
        ("dm.ms", rec.ms),
        ("dm.sql.error", rec.error),
        ("code.filepath", file),
        ("code.lineno", line),
        ("code.function", func),
    ]
    return _event(rec.ts, "db.query", pairs)


def _log_event(rec: LogRec) -> dict[str, Any]:
    file, _, line = rec.site.rpartition(":")  # LogRec keeps the site as "file:line"
    pairs = [
        ("log.severity", rec.level),
        ("log.message", rec.msg),
        ("log.logger", rec.logger or None),
        ("code.filepath", file or None),
        ("code.lineno", int(line) if line.isdigit() else None),
    ]
    return _event(rec.ts, "log", pairs)


def _exception_event(event: Mapping[str, Any]) -> dict[str, Any]:
    pairs = [
        ("exception.type", event.get("type")),
        ("exception.message", event.get("message")),
        ("exception.stacktrace", _stacktrace(event)),
        ("exception.escaped", event.get("handled") is False),
        ("dm.fingerprint", event.get("fingerprint")),
        ("dm.mechanism", event.get("mechanism")),
    ]
    return _event(_exception_ts(event), "exception", pairs)


def _span_events(span: Span) -> list[dict[str, Any]]:
    """sql, log and exception of the span, in time order."""
    timed: list[tuple[float, dict[str, Any]]] = [(r.ts, _sql_event(r)) for r in span.sql]
    timed += [(r.ts, _log_event(r)) for r in span.logs]
    timed += [(_exception_ts(e), _exception_event(e)) for e in span.exceptions]
    timed.sort(key=lambda pair: pair[0])
    return [event for _, event in timed]


def _last_seen(span: Span) -> float | None:
    """The newest time the model holds for a span: where an unfinished span is cut."""
    times = [r.ts for r in span.sql] + [r.ts for r in span.logs]
    times += [_exception_ts(e) for e in span.exceptions]
    times += [t for t in (span.start_ts, span.end_ts, span.heartbeat_ts) if t is not None]
    return max(times, default=None)


def span_to_otlp(span: Span) -> dict[str, Any]:
    """One OTLP/JSON ``Span`` object for one model span."""
    start, end = span.start, span.end or {}
    fields = {**start, **end}
    last = _last_seen(span)
    first = span.start_ts if span.start_ts is not None else last
    start_ns = _nanos(first) if first is not None else 0
    if span.end_ts is not None and span.ms is not None:
        end_ns = start_ns + round(span.ms * 1_000_000)
    else:
        end_ns = _nanos(last) if last is not None else start_ns
    mapping = _ATTRIBUTES.get(span.kind, {})
    pairs: list[tuple[str, Any]] = [(name, fields.get(key)) for key, name in mapping.items()]
    if span.kind == "span" and isinstance(start.get("fields"), Mapping):
        pairs += [(f"dm.field.{k}", v) for k, v in start["fields"].items()]
    pairs.append(("dm.kind", span.kind))
    outcome = end.get("outcome")
    if span.end_ts is None:
        pairs.append(("dm.unfinished", True))
        reason = "killed" if span.killed else "no end: still running or killed"
        status: dict[str, Any] = {"code": STATUS_ERROR, "message": reason}
    elif span.outcome == "ok":
        status = {"code": STATUS_OK}
    else:
        status = {"code": STATUS_ERROR, "message": str(end.get("error") or outcome)}
    otlp: dict[str, Any] = {
        "traceId": span.trace,
        "spanId": span.span_id,
        "name": _name(span, fields),
        "kind": _KINDS.get(span.kind, SPAN_KIND_INTERNAL),
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(max(end_ns, start_ns)),
        "attributes": _attributes(pairs),
        "events": _span_events(span),
        "status": status,
    }
    if span.parent:
        otlp["parentSpanId"] = span.parent
    return otlp


def export_requests(model: Model) -> Iterator[dict[str, Any]]:
    """One ``ExportTraceServiceRequest`` per trace of ``model``, in the order traces arrived.

    Within a request, one resource per process (``svc``, ``host``, ``pid``), spans in
    the order they arrived.
    """
    for trace in model.traces.values():
        by_process: dict[ProcessKey, list[dict[str, Any]]] = {}
        for span in trace.spans:
            by_process.setdefault(span.process, []).append(span_to_otlp(span))
        yield {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": _attributes(
                            [("service.name", svc), ("host.name", host), ("process.pid", pid)]
                        )
                    },
                    "scopeSpans": [{"scope": _SCOPE, "spans": otlp_spans}],
                }
                for (svc, host, pid), otlp_spans in by_process.items()
            ]
        }


def write_otlp(model: Model, out: IO[bytes]) -> int:
    """Write the requests as JSON lines; returns how many lines (traces) were written."""
    count = 0
    for request in export_requests(model):
        out.write(orjson.dumps(request) + b"\n")
        count += 1
    return count
