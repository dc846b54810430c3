"""OTLP/JSON export: spans as ``ExportTraceServiceRequest`` lines for the OpenTelemetry Collector.

``dm-explore export otlp DIR -o FILE`` writes one request per trace, one per
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
end (the process was killed) ends at its last event, with status ERROR and
``dm.unfinished`` true.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any, Protocol

import orjson

__all__ = ["SpanLike", "export_requests", "span_to_otlp", "to_unix_nanos", "write_otlp"]

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
_SQL = {"sql": "db.statement", "vendor": "db.system", "alias": "db.namespace", "ms": "dm.ms"}


class SpanLike(Protocol):
    """What the exporter reads of a span: its identity and its events, as written."""

    kind: str
    trace: str
    span: str
    parent: str | None
    svc: str
    host: str
    pid: int
    start: Mapping[str, Any] | None
    end: Mapping[str, Any] | None
    events: Sequence[Mapping[str, Any]]


def to_unix_nanos(ts: str) -> int:
    """``2026-11-23T09:15:02.120381Z`` -> nanoseconds since the epoch (exact, no float)."""
    head, _, frac = ts.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9])


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


def _name(span: SpanLike, fields: Mapping[str, Any]) -> str:
    if span.kind == "request":
        return f"{fields.get('method', 'GET')} {fields.get('route') or fields.get('path', '')}"
    if span.kind == "http":
        return str(fields.get("method") or "HTTP")
    key = {"task": "task", "command": "command", "test": "nodeid", "span": "name"}.get(span.kind)
    return str(fields.get(key) or span.kind) if key else span.kind


def _stacktrace(event: Mapping[str, Any]) -> str:
    """The frames as Python prints a traceback, outermost call first."""
    lines = ["Traceback (most recent call last):"]
    for frame in event.get("frames") or ():
        lines.append(
            f'  File "{frame.get("file")}", line {frame.get("line")}, in {frame.get("func")}'
        )
        if frame.get("src"):
            lines.append(f"    {frame['src']}")
    lines.append(f"{event.get('type')}: {event.get('message', '')}")
    return "\n".join(lines)


def _event(event: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = event.get("event")
    site = event.get("site") or {}
    code = [
        ("code.filepath", site.get("file")),
        ("code.lineno", site.get("line")),
        ("code.function", site.get("func")),
    ]
    if kind == "sql":
        pairs = [(name, event.get(key)) for key, name in _SQL.items()] + code
        name = "db.query"
    elif kind == "log":
        pairs = [
            ("log.severity", event.get("level")),
            ("log.message", event.get("msg")),
            ("log.logger", event.get("logger")),
            *code,
        ]
        name = "log"
    elif kind == "exception":
        pairs = [
            ("exception.type", event.get("type")),
            ("exception.message", event.get("message")),
            ("exception.stacktrace", _stacktrace(event)),
            ("exception.escaped", event.get("handled") is False),
            ("dm.fingerprint", event.get("fingerprint")),
            ("dm.mechanism", event.get("mechanism")),
        ]
        name = "exception"
    else:
        return None
    return {
        "timeUnixNano": str(to_unix_nanos(str(event["ts"]))),
        "name": name,
        "attributes": _attributes(pairs),
    }


def span_to_otlp(span: SpanLike) -> dict[str, Any]:
    """One OTLP/JSON ``Span`` object."""
    start, end = span.start or {}, span.end or {}
    fields = {**start, **end}
    times = [to_unix_nanos(str(e["ts"])) for e in (start, end, *span.events) if e.get("ts")]
    start_ns = to_unix_nanos(str(start["ts"])) if start.get("ts") else min(times, default=0)
    if end and isinstance(end.get("ms"), int | float):
        end_ns = start_ns + round(end["ms"] * 1_000_000)
    else:
        end_ns = max([start_ns, *times])
    mapping = _ATTRIBUTES.get(span.kind, {})
    pairs: list[tuple[str, Any]] = [(name, fields.get(key)) for key, name in mapping.items()]
    if span.kind == "span" and isinstance(start.get("fields"), Mapping):
        pairs += [(f"dm.field.{k}", v) for k, v in start["fields"].items()]
    pairs.append(("dm.kind", span.kind))
    outcome = end.get("outcome")
    if not end:
        pairs.append(("dm.unfinished", True))
        status = {"code": STATUS_ERROR, "message": "no end: still running or killed"}
    elif outcome == "ok":
        status = {"code": STATUS_OK}
    else:
        status = {"code": STATUS_ERROR, "message": str(end.get("error") or outcome or "error")}
    otlp: dict[str, Any] = {
        "traceId": span.trace,
        "spanId": span.span,
        "name": _name(span, fields),
        "kind": _KINDS.get(span.kind, SPAN_KIND_INTERNAL),
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(max(end_ns, start_ns)),
        "attributes": _attributes(pairs),
        "events": [e for e in map(_event, span.events) if e is not None],
        "status": status,
    }
    if span.parent:
        otlp["parentSpanId"] = span.parent
    return otlp


def export_requests(spans: Iterable[SpanLike]) -> Iterator[dict[str, Any]]:
    """One ``ExportTraceServiceRequest`` per trace, resources per process, traces in order seen."""
    traces: dict[str, dict[tuple[str, str, int], list[dict[str, Any]]]] = {}
    for span in spans:
        by_process = traces.setdefault(span.trace, {})
        by_process.setdefault((span.svc, span.host, span.pid), []).append(span_to_otlp(span))
    for by_process in traces.values():
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


def write_otlp(spans: Iterable[SpanLike], out: IO[bytes]) -> int:
    """Write the requests as JSON lines; returns how many lines (traces) were written."""
    count = 0
    for request in export_requests(spans):
        out.write(orjson.dumps(request) + b"\n")
        count += 1
    return count
