"""OTLP/JSON requests encoded as OTLP protobuf, without the protobuf library.

:func:`encode_trace_request` turns one ``ExportTraceServiceRequest`` in the
OTLP/JSON shape that :mod:`dm_explore.outputs.otlp` builds (hex ids, 64-bit
integers as strings, enums as numbers) into the bytes of the same message in
protobuf's wire format, as ``opentelemetry-proto`` defines it
(``opentelemetry/proto/collector/trace/v1/trace_service.proto``). Only the
fields the exporter writes are encoded; the tests decode the result with the
official protobuf classes and compare it with the JSON.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["encode_trace_request"]

_LEN, _VARINT, _FIXED64, _I64 = 2, 0, 1, 1
_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack


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
