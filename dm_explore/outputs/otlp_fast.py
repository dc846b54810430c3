"""OTLP protobuf bytes written straight from a span's parts, without the OTLP/JSON objects.

:mod:`dm_explore.outputs.otlp_stream` maps each span once into plain values and
``(key, value)`` pairs; :func:`span_bytes` writes the ``Span`` message from them and
:func:`trace_request` frames spans into an ``ExportTraceServiceRequest``. Attribute
keys are encoded once (a few dozen names in all), the frequent value types inline.
The bytes are those :func:`dm_explore.outputs.otlp_proto.encode_trace_request`
writes for the same span (the tests decode both with the official classes).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model import ProcessKey
from .otlp_events import _value, sql_operation
from .otlp_proto import _SMALL, _VARINTS, _any_value, _attributes, _scope, _tag, _varint

__all__ = [
    "attrs_bytes",
    "event_bytes",
    "resource_bytes",
    "span_bytes",
    "sql_span_bytes",
    "trace_request",
]

_pack_fixed64 = struct.Struct("<Q").pack
_pack_double = struct.Struct("<d").pack
_LEN, _VARINT, _FIXED64 = 2, 0, 1

_SPAN_ATTR = _tag(9, _LEN)[0]
_EVENT_ATTR = _tag(3, _LEN)[0]
_KV_VALUE = b"\x12"
_STRING, _BOOL, _INT, _DOUBLE = b"\x0a", b"\x10", b"\x18", b"\x21"

_KEYS: dict[str, bytes] = {}


def _key(name: str) -> bytes:
    found = _KEYS.get(name)
    if found is None:
        raw = name.encode("utf-8", "surrogatepass")
        found = b"\x0a" + _varint(len(raw)) + raw
        if len(_KEYS) < 10_000:
            _KEYS[name] = found
    return found


def _len(n: int) -> bytes:
    return _VARINTS[n] if n < _SMALL else _varint(n)


_PAIRS: dict[tuple[str, Any], bytes] = {}  # (key, str or int value) -> its KeyValue, length first
MAX_PAIRS = 16_384  # encoded pairs remembered: methods, statements, paths, sites repeat


def _pair(key: str, value: Any) -> bytes:
    """One ``KeyValue`` message, its length first (the field's tag left to the caller)."""
    kind = type(value)
    if kind is str:
        raw = value.encode("utf-8", "surrogatepass")
        any_value = _STRING + _len(len(raw)) + raw
    elif kind is int and -(2**63) <= value < 2**63:
        any_value = _INT + _varint(value)
    elif kind is float:
        any_value = _DOUBLE + _pack_double(value)
    elif kind is bool:
        any_value = _BOOL + (b"\x01" if value else b"\x00")
    else:
        any_value = _any_value(_value(value))
    pair = _key(key) + _KV_VALUE + _len(len(any_value)) + any_value
    return _len(len(pair)) + pair


def attrs_bytes(tag: int, pairs: Iterable[tuple[str, Any]]) -> bytes:
    """Repeated ``KeyValue`` fields with the one-byte ``tag``; a None value leaves its key out.

    A string or integer value met before with the same key is not encoded again.
    """
    out = bytearray()
    known, cached = _PAIRS.get, _PAIRS
    for item in pairs:
        value = item[1]
        if value is None:
            continue
        kind = type(value)
        if kind is str or kind is int:
            encoded = known(item)
            if encoded is None:
                encoded = _pair(*item)
                if len(cached) >= MAX_PAIRS:
                    cached.clear()
                cached[item] = encoded
        else:
            encoded = _pair(*item)
        out.append(tag)
        out += encoded
    return bytes(out)


_EV_TIME, _EV_NAME = _tag(1, _FIXED64), _tag(2, _LEN)
_NAMES: dict[str, bytes] = {}


def event_bytes(time_ns: int, name: str, pairs: Iterable[tuple[str, Any]]) -> bytes:
    """One ``Span.Event`` message (its body, without its own tag)."""
    encoded = _NAMES.get(name)
    if encoded is None:
        raw = name.encode("utf-8", "surrogatepass")
        encoded = _NAMES[name] = _EV_NAME + _varint(len(raw)) + raw
    return _EV_TIME + _pack_fixed64(time_ns) + encoded + attrs_bytes(_EVENT_ATTR, pairs)


_SP_TRACE, _SP_ID, _SP_PARENT, _SP_NAME = b"\x0a\x10", b"\x12\x08", b"\x22\x08", _tag(5, _LEN)
_SP_KIND, _SP_START, _SP_END = _tag(6, _VARINT), _tag(7, _FIXED64), _tag(8, _FIXED64)
_SP_EVENT, _SP_DROPPED, _SP_STATUS = _tag(11, _LEN), _tag(12, _VARINT), _tag(15, _LEN)
_ST_MESSAGE, _ST_CODE = _tag(2, _LEN), _tag(3, _VARINT)


def span_bytes(
    trace: bytes,
    span: bytes,
    parent: bytes | None,
    name: str,
    kind: int,
    start_ns: int,
    end_ns: int,
    pairs: Iterable[tuple[str, Any]],
    events: Sequence[bytes],
    dropped: int,
    status: int,
    message: str | None,
) -> bytes:
    """One ``Span`` message (its body): ``trace``, ``span`` and ``parent`` as raw id bytes."""
    raw_name = name.encode("utf-8", "surrogatepass")
    parts = [_SP_TRACE + trace + _SP_ID + span]
    if parent is not None:
        parts.append(_SP_PARENT + parent)
    parts.append(_SP_NAME + _len(len(raw_name)) + raw_name)
    if kind:
        parts.append(_SP_KIND + _VARINTS[kind])
    parts.append(_SP_START + _pack_fixed64(start_ns) + _SP_END + _pack_fixed64(end_ns))
    parts.append(attrs_bytes(_SPAN_ATTR, pairs))
    for event in events:
        parts.append(_SP_EVENT + _len(len(event)) + event)
    if dropped:
        parts.append(_SP_DROPPED + _varint(dropped))
    parts.append(_status(status, message))
    return b"".join(parts)


_RESOURCES: dict[ProcessKey, bytes] = {}
_RS_RESOURCE, _RS_SCOPE_SPANS, _REQ_RESOURCE_SPANS = b"\x0a", b"\x12", b"\x0a"
_SS_SCOPE, _SS_SPAN = b"\x0a", b"\x12"


def resource_bytes(process: ProcessKey) -> bytes:
    """The ``resource`` field of a process's ``ResourceSpans`` (tag included), cached."""
    found = _RESOURCES.get(process)
    if found is None:
        from .otlp import resource

        body = _attributes(b"\x0a", resource(process)["attributes"])
        found = _RS_RESOURCE + _len(len(body)) + body
        if len(_RESOURCES) < 10_000:
            _RESOURCES[process] = found
    return found


def trace_request(by_process: Mapping[ProcessKey, list[bytes]], scope: Mapping[str, Any]) -> bytes:
    """An ``ExportTraceServiceRequest`` of encoded spans, grouped by process."""
    scope_body = _scope(scope)
    scope_field = _SS_SCOPE + _len(len(scope_body)) + scope_body
    out = []
    for process, spans in by_process.items():
        inner = bytearray(scope_field)
        for span in spans:
            inner += _SS_SPAN
            inner += _len(len(span))
            inner += span
        body = resource_bytes(process) + _RS_SCOPE_SPANS + _len(len(inner)) + inner
        out.append(_REQ_RESOURCE_SPANS + _len(len(body)) + body)
    return b"".join(out)


# (statement, vendor, alias) -> name and kind, first attributes
_SQL_HEADS: dict[Any, tuple[bytes, bytes]] = {}
_SQL_TAILS: dict[Any, bytes] = {}  # (error, file, line, func, template) -> the rest, status
MAX_SQL = 4096
_CLIENT = _SP_KIND + _VARINTS[3]  # SpanKind CLIENT
_STATUS_OK, _STATUS_ERROR = 1, 2  # StatusCode
_STATUS_OK_FIELD = _SP_STATUS + b"\x02" + _ST_CODE + _VARINTS[_STATUS_OK]


def sql_span_bytes(
    trace: bytes, parent: bytes, span: bytes, end_ns: int, data: Mapping[str, Any]
) -> bytes:
    """The CLIENT span of a ``sql`` line, as :func:`~dm_explore.outputs.otlp_events.sql_span`
    maps it: ``trace``, ``parent`` (the span that ran it) and ``span`` its raw ids.

    Statements, aliases and call sites repeat: their fields are encoded once.
    Raises TypeError for a field of a type no writer gives (the caller maps it slowly).
    """
    text, vendor, alias = data.get("sql"), data.get("vendor"), data.get("alias")
    head_key = (text, vendor, alias)
    head = _SQL_HEADS.get(head_key)
    if head is None:
        operation = sql_operation(text)
        raw_name = (operation or "sql").encode()
        pairs = (("db.system", vendor), ("db.query.text", text),
                 ("db.operation.name", operation), ("dm.db.alias", alias))  # fmt: skip
        head = _SP_NAME + _len(len(raw_name)) + raw_name + _CLIENT, attrs_bytes(_SPAN_ATTR, pairs)
        if len(_SQL_HEADS) >= MAX_SQL:
            _SQL_HEADS.clear()
        _SQL_HEADS[head_key] = head
    site, error = data.get("site"), data.get("error")
    if error is not None and type(error) is not str:
        raise TypeError("error")
    if isinstance(site, dict):
        node = site.get("template")
        tail_key: tuple[Any, ...] = (
            error, site.get("file", ""), site.get("line", 0), site.get("func", ""),
            (node.get("name"), node.get("line")) if isinstance(node, dict) else None,
        )  # fmt: skip
    else:
        tail_key = (error, None, None, None, None)
    tail = _SQL_TAILS.get(tail_key)
    if tail is None:
        error, file, line, func, template = tail_key
        node_name, node_line = template or (None, None)
        site_pairs = (("dm.sql.error", error), ("code.file.path", file),
                      ("code.line.number", line), ("code.function.name", func),
                      ("dm.template.name", node_name), ("dm.template.line", node_line),
                      ("dm.kind", "sql"))  # fmt: skip
        status = _status(_STATUS_ERROR, error) if error else _STATUS_OK_FIELD
        tail = attrs_bytes(_SPAN_ATTR, site_pairs) + status
        if len(_SQL_TAILS) >= MAX_SQL:
            _SQL_TAILS.clear()
        _SQL_TAILS[tail_key] = tail
    ms = data.get("ms")
    took = max(round(ms * 1_000_000), 0) if isinstance(ms, int | float) and ms is not True else 0
    name_kind, attrs = head
    return b"".join((
        _SP_TRACE, trace, _SP_ID, span, _SP_PARENT, parent, name_kind,
        _SP_START, _pack_fixed64(max(end_ns - took, 0)), _SP_END, _pack_fixed64(end_ns),
        attrs, tail,
    ))  # fmt: skip


def _status(code: int, message: str | None) -> bytes:
    body = b""
    if message:
        raw = message.encode("utf-8", "surrogatepass")
        body = _ST_MESSAGE + _len(len(raw)) + raw
    if code:
        body += _ST_CODE + _VARINTS[code]
    return _SP_STATUS + _len(len(body)) + body if body else b""
