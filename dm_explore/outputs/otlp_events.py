"""Span events and attribute values in the OTLP/JSON shape: SQL, logs, exceptions, cache, profile.

:mod:`dm_explore.outputs.otlp` builds spans from these. Names follow the current
OpenTelemetry semantic conventions where one exists (``db.query.text``,
``db.system``, ``code.file.path``, ``code.line.number``, ``code.function.name``,
``exception.type``, ``exception.message``, ``exception.stacktrace``) and ``dm.*``
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    "nanos",
    "profile_event",
    "sql_event",
]

MAX_PROFILE_STACKS = 50  # the heaviest folded stacks kept from one profile event


def event_ts(event: Mapping[str, Any]) -> float:
    """When an event read whole happened, in epoch seconds (its ``ts``, any offset)."""
    return epoch_seconds(event.get("ts")) or 0.0


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


def sql_event(rec: SqlRec, ts: float) -> dict[str, Any]:
    file, line, func = rec.site or (None, None, None)
    pairs = [
        ("db.query.text", rec.sql),
        ("db.system", rec.vendor),
        ("dm.db.alias", rec.alias),
        ("dm.ms", rec.ms),
        ("dm.sql.error", rec.error),
        ("code.file.path", file),
        ("code.line.number", line),
        ("code.function.name", func),
    ]
    return _event(ts, "db.query", pairs)


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
