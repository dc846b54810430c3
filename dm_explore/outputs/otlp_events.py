"""Span events and attribute values in the OTLP/JSON shape: SQL, logs, exceptions, cache, profile.

:mod:`dm_explore.outputs.otlp` builds spans from these. Names follow the current
OpenTelemetry semantic conventions where one exists (``db.query.text``,
``db.system``, ``code.file.path``, ``code.line.number``, ``code.function.name``,
``exception.type``, ``exception.message``, ``exception.stacktrace``) and ``dm.*``
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from dm_log.contract import epoch_seconds

from ..model import LogRec, SqlRec

__all__ = [
    "EXTRA_EVENTS",
    "EXTRA_KINDS",
    "attributes",
    "event_ts",
    "exception_event",
    "log_event",
    "nanos",
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


def _site(site: Any) -> list[tuple[str, Any]]:
    """``code.*`` attributes of a ``site`` object (file, line, func) read from a line."""
    if not isinstance(site, Mapping):
        return []
    return [
        ("code.file.path", site.get("file")),
        ("code.line.number", site.get("line")),
        ("code.function.name", site.get("func")),
    ]


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


def _cache_event(event: Mapping[str, Any]) -> dict[str, Any]:
    keys = event.get("keys")
    pairs = [
        ("dm.cache.op", event.get("op")),
        ("dm.cache.key", event.get("key")),
        ("dm.cache.keys", [str(k) for k in keys] if isinstance(keys, list) else None),
        ("dm.cache.hit", event.get("hit")),
        ("dm.cache.hits", event.get("hits")),
        ("dm.cache.backend", event.get("backend")),
        ("dm.ms", event.get("ms")),
        *_site(event.get("site")),
    ]
    return _event(event_ts(event), "cache", pairs)


def _profile_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A profile's folded stacks, heaviest first, as ``stack count`` lines (flamegraph input)."""
    stacks = event.get("stacks")
    folded = None
    if isinstance(stacks, Mapping):
        counted = [(k, v) for k, v in stacks.items() if isinstance(v, int)]
        counted.sort(key=lambda kv: -kv[1])
        folded = "\n".join(f"{k} {v}" for k, v in counted[:MAX_PROFILE_STACKS])
    pairs = [
        ("dm.profile.samples", event.get("samples")),
        ("dm.profile.interval", event.get("interval")),
        ("dm.ms", event.get("ms")),
        ("dm.profile.stacks", folded),
    ]
    return _event(event_ts(event), "profile", pairs)


EXTRA_EVENTS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "cache": _cache_event,
    "profile": _profile_event,
}
EXTRA_KINDS = frozenset(EXTRA_EVENTS)  # point events the model does not keep: read beside it
