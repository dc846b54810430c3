"""OTLP/JSON requests encoded as OTLP protobuf, without the protobuf library.

:func:`encode_trace_request` turns one ``ExportTraceServiceRequest`` in the
OTLP/JSON shape that :mod:`dm_explore.outputs.otlp` builds (hex ids, 64-bit
integers as strings, enums as numbers) into the bytes of the same message in
protobuf's wire format, as ``opentelemetry-proto`` defines it
(``opentelemetry/proto/collector/trace/v1/trace_service.proto``);
:func:`encode_logs_request` and :func:`encode_metrics_request` do the same for
the ``ExportLogsServiceRequest`` and ``ExportMetricsServiceRequest`` that
:mod:`dm_explore.outputs.otlp_signals` builds. Only the
fields the exporter writes are encoded; the tests decode the result with the
official protobuf classes and compare it with the JSON.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["encode_logs_request", "encode_metrics_request", "encode_trace_request"]

_LEN, _VARINT, _FIXED64, _I64 = 2, 0, 1, 1
_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack
_pack_sfixed64 = struct.Struct("<q").pack


def _varint(n: int) -> bytes:
    if n < 0:
        n &= 0xFFFFFFFFFFFFFFFF  # int64: two's complement, ten bytes
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = 1 << 14
_VARINTS = [_varint(n) for n in range(_SMALL)]  # the lengths of nearly every field


def _tag(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: a message, a string or bytes."""
    n = len(payload)
    return tag + (_VARINTS[n] if n < _SMALL else _varint(n)) + payload


# Field tags, by message (numbers from the .proto files).
_REQ_RESOURCE_SPANS = _tag(1, _LEN)
_RS_RESOURCE, _RS_SCOPE_SPANS = _tag(1, _LEN), _tag(2, _LEN)
_RESOURCE_ATTRS = _tag(1, _LEN)
_SS_SCOPE, _SS_SPANS = _tag(1, _LEN), _tag(2, _LEN)
_SCOPE_NAME, _SCOPE_VERSION = _tag(1, _LEN), _tag(2, _LEN)
_SPAN_TRACE, _SPAN_ID, _SPAN_PARENT, _SPAN_NAME = (_tag(n, _LEN) for n in (1, 2, 4, 5))
_SPAN_KIND = _tag(6, _VARINT)
_SPAN_START, _SPAN_END = _tag(7, _FIXED64), _tag(8, _FIXED64)
_SPAN_ATTRS, _SPAN_EVENTS, _SPAN_STATUS = _tag(9, _LEN), _tag(11, _LEN), _tag(15, _LEN)
_SPAN_DROPPED_EVENTS = _tag(12, _VARINT)
_EVENT_TIME, _EVENT_NAME, _EVENT_ATTRS = _tag(1, _FIXED64), _tag(2, _LEN), _tag(3, _LEN)
_STATUS_MESSAGE, _STATUS_CODE = _tag(2, _LEN), _tag(3, _VARINT)
_KV_KEY, _KV_VALUE = _tag(1, _LEN), _tag(2, _LEN)
_ANY_STRING, _ANY_BOOL, _ANY_INT = _tag(1, _LEN), _tag(2, _VARINT), _tag(3, _VARINT)
_ANY_DOUBLE, _ANY_ARRAY = _tag(4, _I64), _tag(5, _LEN)
_ARRAY_VALUES = _tag(1, _LEN)


def _any_value(value: Mapping[str, Any]) -> bytes:
    if "stringValue" in value:
        return _field(_ANY_STRING, str(value["stringValue"]).encode("utf-8", "surrogatepass"))
    if "intValue" in value:
        return _ANY_INT + _varint(int(value["intValue"]))
    if "boolValue" in value:
        return _ANY_BOOL + (b"\x01" if value["boolValue"] else b"\x00")
    if "doubleValue" in value:
        return _ANY_DOUBLE + _pack_double(float(value["doubleValue"]))
    if "arrayValue" in value:
        items = value["arrayValue"].get("values") or ()
        return _field(_ANY_ARRAY, b"".join(_field(_ARRAY_VALUES, _any_value(v)) for v in items))
    return b""  # an empty AnyValue


_KEYS: dict[str, bytes] = {}  # attribute names, encoded once: a few dozen in all


def _key(name: str) -> bytes:
    encoded = _KEYS.get(name)
    if encoded is None:
        encoded = _field(_KV_KEY, name.encode("utf-8", "surrogatepass"))
        if len(_KEYS) < 10_000:
            _KEYS[name] = encoded
    return encoded


def _attributes(tag: bytes, attributes: Sequence[Mapping[str, Any]]) -> bytes:
    """Repeated ``KeyValue`` fields; the usual string value is encoded inline."""
    out = []
    varints, small = _VARINTS, _SMALL
    for attribute in attributes:
        value = attribute["value"]
        text = value.get("stringValue")
        if text is not None:
            raw = text.encode("utf-8", "surrogatepass")
            n = len(raw)
            any_value = _ANY_STRING + (varints[n] if n < small else _varint(n)) + raw
        else:
            any_value = _any_value(value)
        n = len(any_value)
        pair = _key(attribute["key"]) + _KV_VALUE + (varints[n] if n < small else _varint(n))
        n = len(pair) + len(any_value)
        out.append(tag + (varints[n] if n < small else _varint(n)) + pair + any_value)
    return b"".join(out)


def _event(event: Mapping[str, Any]) -> bytes:
    return (
        _EVENT_TIME
        + _pack_fixed64(int(event["timeUnixNano"]))
        + _field(_EVENT_NAME, event["name"].encode("utf-8", "surrogatepass"))
        + _attributes(_EVENT_ATTRS, event.get("attributes") or ())
    )


def _span(span: Mapping[str, Any]) -> bytes:
    parts = [
        _field(_SPAN_TRACE, bytes.fromhex(span["traceId"])),
        _field(_SPAN_ID, bytes.fromhex(span["spanId"])),
    ]
    if span.get("parentSpanId"):
        parts.append(_field(_SPAN_PARENT, bytes.fromhex(span["parentSpanId"])))
    parts.append(_field(_SPAN_NAME, span["name"].encode("utf-8", "surrogatepass")))
    if span.get("kind"):
        parts.append(_SPAN_KIND + _varint(span["kind"]))
    parts.append(_SPAN_START + _pack_fixed64(int(span["startTimeUnixNano"])))
    parts.append(_SPAN_END + _pack_fixed64(int(span["endTimeUnixNano"])))
    parts.append(_attributes(_SPAN_ATTRS, span.get("attributes") or ()))
    parts.extend(_field(_SPAN_EVENTS, _event(e)) for e in span.get("events") or ())
    if span.get("droppedEventsCount"):
        parts.append(_SPAN_DROPPED_EVENTS + _varint(span["droppedEventsCount"]))
    status = span.get("status") or {}
    body = b""
    if status.get("message"):
        body += _field(_STATUS_MESSAGE, str(status["message"]).encode("utf-8", "surrogatepass"))
    if status.get("code"):
        body += _STATUS_CODE + _varint(status["code"])
    if body:
        parts.append(_field(_SPAN_STATUS, body))
    return b"".join(parts)


def _scope(scope: Mapping[str, Any]) -> bytes:
    body = _field(_SCOPE_NAME, scope.get("name", "").encode())
    if scope.get("version"):
        body += _field(_SCOPE_VERSION, scope["version"].encode())
    return body


def encode_trace_request(request: Mapping[str, Any]) -> bytes:
    """One ``ExportTraceServiceRequest`` (OTLP/JSON shape) as protobuf bytes."""
    out = []
    for rs in request.get("resourceSpans") or ():
        body = _field(_RS_RESOURCE, _attributes(_RESOURCE_ATTRS, rs["resource"]["attributes"]))
        for ss in rs.get("scopeSpans") or ():
            scope_body = _field(_SS_SCOPE, _scope(ss.get("scope") or {}))
            scope_body += b"".join(_field(_SS_SPANS, _span(s)) for s in ss.get("spans") or ())
            body += _field(_RS_SCOPE_SPANS, scope_body)
        out.append(_field(_REQ_RESOURCE_SPANS, body))
    return b"".join(out)


# Logs (opentelemetry/proto/logs/v1/logs.proto).
_REQ_RESOURCE_LOGS = _tag(1, _LEN)
_RL_RESOURCE, _RL_SCOPE_LOGS = _tag(1, _LEN), _tag(2, _LEN)
_SL_SCOPE, _SL_RECORDS = _tag(1, _LEN), _tag(2, _LEN)
_LOG_TIME, _LOG_SEVERITY, _LOG_SEVERITY_TEXT = _tag(1, _FIXED64), _tag(2, _VARINT), _tag(3, _LEN)
_LOG_BODY, _LOG_ATTRS, _LOG_TRACE, _LOG_SPAN = (_tag(n, _LEN) for n in (5, 6, 9, 10))
_LOG_EVENT_NAME = _tag(12, _LEN)


def _text(tag: bytes, value: str) -> bytes:
    return _field(tag, value.encode("utf-8", "surrogatepass"))


def _log_record(record: Mapping[str, Any]) -> bytes:
    parts = [_LOG_TIME + _pack_fixed64(int(record["timeUnixNano"]))]
    if record.get("severityNumber"):
        parts.append(_LOG_SEVERITY + _varint(record["severityNumber"]))
    if record.get("severityText"):
        parts.append(_text(_LOG_SEVERITY_TEXT, record["severityText"]))
    if "body" in record:
        parts.append(_field(_LOG_BODY, _any_value(record["body"])))
    parts.append(_attributes(_LOG_ATTRS, record.get("attributes") or ()))
    if record.get("traceId"):
        parts.append(_field(_LOG_TRACE, bytes.fromhex(record["traceId"])))
    if record.get("spanId"):
        parts.append(_field(_LOG_SPAN, bytes.fromhex(record["spanId"])))
    if record.get("eventName"):
        parts.append(_text(_LOG_EVENT_NAME, record["eventName"]))
    return b"".join(parts)


def encode_logs_request(request: Mapping[str, Any]) -> bytes:
    """One ``ExportLogsServiceRequest`` (OTLP/JSON shape) as protobuf bytes."""
    out = []
    for rl in request.get("resourceLogs") or ():
        body = _field(_RL_RESOURCE, _attributes(_RESOURCE_ATTRS, rl["resource"]["attributes"]))
        for sl in rl.get("scopeLogs") or ():
            scope_body = _field(_SL_SCOPE, _scope(sl.get("scope") or {}))
            scope_body += b"".join(
                _field(_SL_RECORDS, _log_record(r)) for r in sl.get("logRecords") or ()
            )
            body += _field(_RL_SCOPE_LOGS, scope_body)
        out.append(_field(_REQ_RESOURCE_LOGS, body))
    return b"".join(out)


# Metrics (opentelemetry/proto/metrics/v1/metrics.proto).
_REQ_RESOURCE_METRICS = _tag(1, _LEN)
_RM_RESOURCE, _RM_SCOPE_METRICS = _tag(1, _LEN), _tag(2, _LEN)
_SM_SCOPE, _SM_METRICS = _tag(1, _LEN), _tag(2, _LEN)
_METRIC_NAME, _METRIC_UNIT = _tag(1, _LEN), _tag(3, _LEN)
_METRIC_GAUGE, _METRIC_SUM = _tag(5, _LEN), _tag(7, _LEN)
_DATA_POINTS, _SUM_TEMPORALITY, _SUM_MONOTONIC = _tag(1, _LEN), _tag(2, _VARINT), _tag(3, _VARINT)
_POINT_START, _POINT_TIME = _tag(2, _FIXED64), _tag(3, _FIXED64)
_POINT_DOUBLE, _POINT_INT, _POINT_ATTRS = _tag(4, _I64), _tag(6, _I64), _tag(7, _LEN)


def _number_point(point: Mapping[str, Any]) -> bytes:
    body = _attributes(_POINT_ATTRS, point.get("attributes") or ())
    if point.get("startTimeUnixNano"):
        body += _POINT_START + _pack_fixed64(int(point["startTimeUnixNano"]))
    body += _POINT_TIME + _pack_fixed64(int(point["timeUnixNano"]))
    if "asInt" in point:
        return body + _POINT_INT + _pack_sfixed64(int(point["asInt"]))
    return body + _POINT_DOUBLE + _pack_double(float(point.get("asDouble", 0.0)))


def _metric(metric: Mapping[str, Any]) -> bytes:
    body = _text(_METRIC_NAME, metric["name"])
    if metric.get("unit"):
        body += _text(_METRIC_UNIT, metric["unit"])
    if "sum" in metric:
        data = metric["sum"]
        inner = b"".join(_field(_DATA_POINTS, _number_point(p)) for p in data["dataPoints"])
        if data.get("aggregationTemporality"):
            inner += _SUM_TEMPORALITY + _varint(data["aggregationTemporality"])
        if data.get("isMonotonic"):
            inner += _SUM_MONOTONIC + b"\x01"
        return body + _field(_METRIC_SUM, inner)
    points = metric["gauge"]["dataPoints"]
    inner = b"".join(_field(_DATA_POINTS, _number_point(p)) for p in points)
    return body + _field(_METRIC_GAUGE, inner)


def encode_metrics_request(request: Mapping[str, Any]) -> bytes:
    """One ``ExportMetricsServiceRequest`` (OTLP/JSON shape) as protobuf bytes."""
    out = []
    for rm in request.get("resourceMetrics") or ():
        body = _field(_RM_RESOURCE, _attributes(_RESOURCE_ATTRS, rm["resource"]["attributes"]))
        for sm in rm.get("scopeMetrics") or ():
            scope_body = _field(_SM_SCOPE, _scope(sm.get("scope") or {}))
            scope_body += b"".join(_field(_SM_METRICS, _metric(m)) for m in sm.get("metrics") or ())
            body += _field(_RM_SCOPE_METRICS, scope_body)
        out.append(_field(_REQ_RESOURCE_METRICS, body))
    return b"".join(out)
