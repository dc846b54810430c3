"""Statement spans, span events and attribute values in the OTLP/JSON shape.

:mod:`dm_explore.outputs.otlp` builds spans from these: each SQL statement is a
CLIENT span of its own, child of the span that ran it (:func:`sql_span`), as
OpenTelemetry's database instrumentations send them; logs, exceptions, cache
calls and profiles are span events. Names follow the current OpenTelemetry
semantic conventions where one exists (``db.system``, ``db.query.text``,
``db.operation.name``, ``code.file.path``, ``code.line.number``,
``code.function.name``, ``exception.type``, ``exception.message``,
``exception.stacktrace``) and ``dm.*`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from hashlib import blake2b
from typing import Any

import orjson

from dm_log.contract import epoch_seconds

from ..model import LogRec, SqlRec
from ..model.records import CacheRec

__all__ = [
    "attributes",
    "cache_event",
    "event_ts",
    "exception_event",
    "log_event",
    "model_sql_span",
    "nanos",
    "profile_event",
    "sql_operation",
    "sql_pairs",
    "sql_span",
    "sql_span_id",
    "ts_nanos",
]

_CLIENT, _OK, _ERROR = 3, 1, 2  # SpanKind CLIENT, StatusCode OK and ERROR
MAX_PROFILE_STACKS = 50  # the heaviest folded stacks kept from one profile event


def event_ts(event: Mapping[str, Any]) -> float:
    """When an event read whole happened, in epoch seconds (its ``ts``, any offset)."""
    return epoch_seconds(event.get("ts")) or 0.0


_MINUTES: dict[str, int] = {}


def ts_nanos(text: Any) -> int | None:
    """An event's ``ts`` as unix nanoseconds to the microsecond; None if it is not a time.

    ``2026-11-23T09:15:02.120381Z``, the form writers use, is read by hand (the
    minute looked up once); any other RFC 3339 form through :func:`epoch_seconds`.
    """
    if type(text) is str and len(text) == 27 and text[26] == "Z" and text[19] == ".":
        minute = _MINUTES.get(text[:16])
        if minute is None:
            try:
                moment = datetime.fromisoformat(text[:16] + ":00+00:00")
            except ValueError:
                minute = -1
            else:
                minute = int(moment.timestamp()) * 1_000_000_000
            if len(_MINUTES) > 10_000:
                _MINUTES.clear()
            _MINUTES[text[:16]] = minute
        digits = text[17:19] + text[20:26]  # seconds and microseconds
        if minute >= 0 and digits.isdecimal():
            return minute + int(digits) * 1000
    epoch = epoch_seconds(text)
    return None if epoch is None else nanos(epoch)


def nanos(epoch: float) -> int:
    """The model's epoch seconds as unix nanoseconds, rounded to the microsecond.

    Event times are microseconds (docs/format.md); a float of epoch seconds holds
    them to within a quarter of a microsecond, so the rounding gives them back exactly.
    """
    return round(epoch * 1_000_000) * 1000


def _value(value: Any) -> dict[str, Any]:
    kind = type(value)
    if kind is str:
        return {"stringValue": value}
    if kind is float:
        return {"doubleValue": value}
    if kind is bool:
        return {"boolValue": value}
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return {"intValue": str(value)}
    if isinstance(value, str):
        return {"stringValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": float(value)}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    return {"stringValue": orjson.dumps(value, default=str).decode()}


def attributes(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """OTLP/JSON ``KeyValue`` objects; a None value leaves its key out."""
    out: list[dict[str, Any]] = []
    append = out.append
    for key, value in pairs:
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            append({"key": key, "value": {"stringValue": value}})
        elif kind is float:
            append({"key": key, "value": {"doubleValue": value}})
        else:
            append({"key": key, "value": _value(value)})
    return out


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
    return {"timeUnixNano": str(nanos(ts)), "name": name, "attributes": attributes(pairs)}


def sql_span_id(trace: str, span_id: str, index: int) -> bytes:
    """The id of the ``index``-th statement (from 0, as read) of a span: 8 bytes derived
    from the trace, the span and the index, so every reader of a folder gives the same."""
    digest = blake2b(f"{trace}{span_id}{index}".encode(), digest_size=8).digest()
    return digest if any(digest) else b"\0\0\0\0\0\0\0\1"  # all zeros is no id in OTLP


# the first keyword, past blanks, parentheses and comments (/* ... */, -- to the line's end)
_OPERATION = re.compile(r"(?:[\s(]|/\*.*?\*/|--[^\n]*(?:\n|$))*([A-Za-z]+)", re.DOTALL)
_OPERATION_HEAD = 1000  # characters of a statement looked at for its keyword
_OPERATIONS: dict[str, str | None] = {}


def sql_operation(text: Any) -> str | None:
    """A statement's first keyword in capitals (``SELECT``, ``BEGIN``), ``db.operation.name``."""
    if type(text) is not str:
        return None
    found = _OPERATIONS.get(text, "")
    if found == "":
        match = _OPERATION.match(text, 0, _OPERATION_HEAD)
        found = match.group(1).upper() if match else None
        if len(_OPERATIONS) >= 4096:
            _OPERATIONS.clear()
        _OPERATIONS[text] = found
    return found


def sql_pairs(
    text: Any, vendor: Any, alias: Any, error: Any, site: tuple[Any, Any, Any] | None,
    template: tuple[Any, Any] | None,
) -> list[tuple[str, Any]]:  # fmt: skip
    """A statement span's attributes: ``site`` as ``(file, line, func)``, ``template`` as
    ``(name, line)`` of the template node that ran it."""
    file, line, func = site or (None, None, None)
    node, node_line = template or (None, None)
    return [
        ("db.system", vendor),
        ("db.query.text", text),
        ("db.operation.name", sql_operation(text)),
        ("dm.db.alias", alias),
        ("dm.sql.error", error),
        ("code.file.path", file),
        ("code.line.number", line),
        ("code.function.name", func),
        ("dm.template.name", node),
        ("dm.template.line", node_line),
        ("dm.kind", "sql"),
    ]


def sql_span(
    trace: str, parent: str, index: int, end_ns: int, ms: float, pairs: list[tuple[str, Any]],
    error: str | None,
) -> dict[str, Any]:  # fmt: skip
    """One statement as a CLIENT span, child of ``parent``: it ends at the line's time (the
    writer stamps a statement when it returns) and lasts its ``ms`` (no time when negative)."""
    operation = pairs[2][1]
    status: dict[str, Any] = {"code": _ERROR, "message": error} if error else {"code": _OK}
    return {
        "traceId": trace,
        "spanId": sql_span_id(trace, parent, index).hex(),
        "parentSpanId": parent,
        "name": operation or "sql",
        "kind": _CLIENT,
        "startTimeUnixNano": str(max(end_ns - max(round(ms * 1_000_000), 0), 0)),
        "endTimeUnixNano": str(end_ns),
        "attributes": attributes(pairs),
        "events": [],
        "status": status,
    }


def model_sql_span(trace: str, parent: str, index: int, rec: SqlRec) -> dict[str, Any]:
    """:func:`sql_span` of a statement read into the model."""
    pairs = sql_pairs(rec.sql, rec.vendor, rec.alias, rec.error, rec.site, rec.template)
    return sql_span(trace, parent, index, nanos(rec.ts), rec.ms, pairs, rec.error)


def log_event(rec: LogRec, ts: float) -> dict[str, Any]:
    file, _, line = rec.site.rpartition(":")  # LogRec keeps the site as "file:line"
    pairs = [
        ("dm.log.level", rec.level),
        ("dm.log.message", rec.msg),
        ("dm.log.logger", rec.logger or None),
        ("code.file.path", file or None),
        ("code.line.number", int(line) if line.isdigit() else None),
    ]
    return _event(ts, "log", pairs)


def exception_event(event: Mapping[str, Any]) -> dict[str, Any]:
    pairs = [
        ("exception.type", event.get("type")),
        ("exception.message", event.get("message")),
        ("exception.stacktrace", _stacktrace(event)),
        ("dm.exception.handled", event.get("handled")),
        ("dm.fingerprint", event.get("fingerprint")),
        ("dm.mechanism", event.get("mechanism")),
    ]
    return _event(event_ts(event), "exception", pairs)


def cache_event(rec: CacheRec) -> dict[str, Any]:
    file, line, func = rec.site or (None, None, None)
    pairs = [
        ("dm.cache.op", rec.op),
        ("dm.cache.key", rec.key),
        ("dm.cache.keys", [str(k) for k in rec.keys] if rec.keys is not None else None),
        ("dm.cache.hit", rec.hit),
        ("dm.cache.hits", rec.hits),
        ("dm.cache.backend", rec.backend),
        ("dm.ms", rec.ms),
        ("code.file.path", file),
        ("code.line.number", line),
        ("code.function.name", func),
    ]
    return _event(rec.ts, "cache", pairs)


def profile_event(profile: Mapping[str, Any], ts: float) -> dict[str, Any]:
    """A profile's folded stacks, heaviest first, as ``stack count`` lines (flamegraph input)."""
    stacks = profile.get("stacks")
    folded = None
    if isinstance(stacks, Mapping):
        counted = [(k, v) for k, v in stacks.items() if isinstance(v, int)]
        counted.sort(key=lambda kv: -kv[1])
        folded = "\n".join(f"{k} {v}" for k, v in counted[:MAX_PROFILE_STACKS])
    pairs = [
        ("dm.profile.samples", profile.get("samples")),
        ("dm.profile.interval", profile.get("interval")),
        ("dm.ms", profile.get("ms")),
        ("dm.profile.stacks", folded),
    ]
    return _event(ts, "profile", pairs)
