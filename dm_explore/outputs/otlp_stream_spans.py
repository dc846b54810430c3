"""One span read from a stream of lines, mapped as the model's export maps it.

:func:`map_span` turns a span's start and end lines and the lines that name it
(:class:`OpenSpan`) into protobuf bytes (:mod:`.otlp_fast`) or OTLP/JSON
objects, the span and a span for each of its SQL statements, with the names,
kinds, times, attributes, events and status that
:func:`dm_explore.outputs.otlp.otlp_spans` gives the same span read into the
model (the tests compare both).
"""

from __future__ import annotations

from typing import Any

from ..model import ProcessKey
from ..model.records import TASK_FLOW_STATES
from . import otlp, otlp_proto
from .otlp_events import (
    attributes,
    exception_event,
    profile_event,
    sql_pairs,
    sql_span,
    sql_span_id,
    ts_nanos,
)
from .otlp_fast import event_bytes, span_bytes, sql_span_bytes

__all__ = ["OpenSpan", "map_span"]

_NAME_FIELD = {"request": "path", "http": "url", "task": "task", "command": "command",
               "test": "nodeid"}  # fmt: skip
_RESULT_FIELD = {"task": "state", "command": "status", "test": "result"}
_MAPPINGS = {kind: tuple(mapping.items()) for kind, mapping in otlp._ATTRIBUTES.items()}
_ORDER = {"log": 1, "exception": 2, "cache": 3, "profile": 4}  # the model's lists
_PROFILE = _ORDER["profile"]


class OpenSpan:
    """A span being read: its lines so far."""

    __slots__ = ("end", "parent", "points", "process", "sql", "start", "tick")

    def __init__(self, parent: str | None, process: ProcessKey) -> None:
        self.parent = parent
        self.process = process
        self.start: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.points: list[dict[str, Any]] = []  # log, exception, cache, profile lines
        self.sql: list[dict[str, Any]] = []
        self.tick: Any = None  # ``ts`` of the last heartbeat or progress line


def map_span(
    trace: str, span_id: str, entry: OpenSpan, json: bool, cut: bool = False
) -> tuple[list[Any], int] | None:
    """The span and its statements' spans as protobuf bytes (or OTLP/JSON objects), and their
    weight in a request."""
    start, end = entry.start, entry.end
    if len(trace) != 32 or len(span_id) != 16:
        return None
    first = start if start is not None else end
    assert first is not None
    head = str(first["event"]).rpartition(".")[0]
    kind = head
    fields = {**(start or {}), **(end or {})}
    name_field = _NAME_FIELD.get(kind, "name")
    target = start.get(name_field) if start is not None else None
    if target is None and end is not None and kind not in ("request", "http"):
        target = end.get(name_field)
        target = target if target is None or type(target) is str else str(target)
    start_ns = ts_nanos(start.get("ts")) if start is not None else None
    mapping = _MAPPINGS.get(kind, ())
    pairs: list[tuple[str, Any]] = [(attr, fields.get(key)) for key, attr in mapping]
    if kind == "span" and start is not None and isinstance(start.get("fields"), dict):
        pairs += [(f"dm.field.{k}", v) for k, v in start["fields"].items()]
    pairs.append(("dm.kind", kind))
    parent = entry.parent if type(entry.parent) is str and len(entry.parent) == 16 else None
    if parent is not None and (cut or parent == span_id):
        pairs.append(("dm.cyclic_parent", parent))
        parent = None
    message: str | None = None
    timed = _timed(entry.points)
    statements = [(ts_nanos(data.get("ts")) or 0, data) for data in entry.sql]
    if end is None:
        pairs.append(("dm.unfinished", True))
        status, message = otlp.STATUS_ERROR, "no end: still running or killed"
        end_ns = _last(timed, entry.tick, start_ns, *(at for at, _ in statements))
        start_ns = start_ns if start_ns is not None else end_ns
        end_ns = max(end_ns, start_ns)
        span_end = None
    else:
        span_end = ts_nanos(end.get("ts")) or 0
        raw_ms = end.get("ms")
        ms = float(raw_ms) if isinstance(raw_ms, int | float) and raw_ms is not True else None
        if start_ns is None:
            last = _last(timed, entry.tick, span_end, *(at for at, _ in statements))
            start_ns = otlp.nanos(span_end / 1e9 - ms / 1000) if ms is not None else last
            end_ns = start_ns + round(ms * 1_000_000) if ms is not None else max(last, start_ns)
        elif ms is None:  # no ms written: the end line's own time
            end_ns = span_end
        else:
            end_ns = start_ns + round(ms * 1_000_000)
        outcome = end.get("outcome")
        effective = outcome if type(outcome) is str and outcome else "ok"
        if kind == "request" and end.get("client_error") is not None and effective == "error":
            status_code = end.get("status")
            if (status_code if type(status_code) is int else 0) < 500:
                effective = "ok"
        result = end.get(_RESULT_FIELD.get(kind, ""))
        if effective == "error" and kind == "task" and result in TASK_FLOW_STATES:
            effective = "retry"
        if effective == "ok":
            status = otlp.STATUS_OK
        else:
            status, message = otlp.STATUS_ERROR, str(end.get("error") or outcome)
    if kind == "request":
        name = f"{fields.get('method', 'GET')} {fields.get('route') or fields.get('path', '')}"
    elif kind == "http":
        name = str(fields.get("method") or "HTTP")
    elif kind == "template":
        name = f"template {target or '?'}"
    else:
        name = target or kind
    timed = _in_order(timed, span_end if span_end is not None else start_ns)
    dropped = max(len(timed) - otlp.MAX_EVENTS_PER_SPAN, 0)
    timed = timed[: otlp.MAX_EVENTS_PER_SPAN]
    span_kind = otlp._KINDS.get(kind, otlp.SPAN_KIND_INTERNAL)
    end_ns = max(end_ns, start_ns)
    if json:
        events = [_event(at, data) for at, _, _, data in timed]
        objects = [_json_span(trace, span_id, parent, name, span_kind, start_ns, end_ns, pairs,
                            events, dropped, status, message)]  # fmt: skip
        objects += [_statement(trace, span_id, i, at, q) for i, (at, q) in enumerate(statements)]
        return objects, 1 + len(events) + len(statements)
    encoded = [event_bytes(*_event(at, data)) for at, _, _, data in timed]
    trace_b, span_b = bytes.fromhex(trace), bytes.fromhex(span_id)
    spans = [span_bytes(
        trace_b, span_b, bytes.fromhex(parent) if parent else None, name, span_kind, start_ns,
        end_ns, pairs, encoded, dropped, status, message,
    )]  # fmt: skip
    for i, (at, data) in enumerate(statements):
        sql_id = sql_span_id(trace, span_id, i)
        try:
            spans.append(sql_span_bytes(trace_b, span_b, sql_id, at, data))
        except TypeError:  # a field no writer gives, unhashable: the general way
            spans.append(otlp_proto._span(_statement(trace, span_id, i, at, data)))
    return spans, 1 + len(encoded) + len(statements)


def _timed(points: list[dict[str, Any]]) -> list[tuple[int, int, int, dict[str, Any]]]:
    """``(time, kind's rank, arrival, line)`` of each line naming the span."""
    order = _ORDER
    return [
        (ts_nanos(data.get("ts")) or 0, order[data["event"]], seq, data)
        for seq, data in enumerate(points)
    ]


def _last(timed: list[Any], tick: Any, *times: int | None) -> int:
    """The newest time the span's lines, its last tick (a ``ts``) and ``times`` hold (a
    profile's does not count): where a span without an end is cut."""
    seen = [at for at, rank, _, _ in timed if rank != _PROFILE]
    seen += [t for t in times if t is not None]
    if tick is not None:
        seen.append(ts_nanos(tick) or 0)
    return max(seen, default=0)


def _in_order(timed: list[Any], at_end: int) -> list[Any]:
    """The span's lines in the model's order of its events: by time, then logs,
    exceptions, cache calls and profiles, each as read. A profile is at the span's end."""
    if any(rank == _PROFILE for _, rank, _, _ in timed):
        timed = [(at_end if r == _PROFILE else at, r, seq, d) for at, r, seq, d in timed]
    timed.sort(key=_sort_key)
    return timed


def _statement(trace: str, span_id: str, i: int, at: int, data: dict[str, Any]) -> dict[str, Any]:
    site, ms = data.get("site"), data.get("ms")
    where = node = None
    if isinstance(site, dict):
        where = (site.get("file", ""), site.get("line", 0), site.get("func", ""))
        template = site.get("template")
        node = (template.get("name"), template.get("line")) if isinstance(template, dict) else None
    error = data.get("error")
    pairs = sql_pairs(data.get("sql"), data.get("vendor"), data.get("alias"), error, where, node)
    took = float(ms) if isinstance(ms, int | float) and ms is not True else 0.0
    return sql_span(trace, span_id, i, at, took, pairs, error if type(error) is str else None)


def _sort_key(item: tuple[int, int, int, Any]) -> tuple[int, int, int]:
    return item[0], item[1], item[2]


def _event(at: int, data: dict[str, Any]) -> tuple[int, str, list[tuple[str, Any]]]:
    kind = data["event"]
    if kind == "log":
        site = data.get("site")
        text = f"{site.get('file', '')}:{site.get('line', '')}" if type(site) is dict else ""
        file, _, line = text.rpartition(":")
        pairs = [
            ("dm.log.level", data.get("level") or "info"),
            ("dm.log.message", data.get("msg")),
            ("dm.log.logger", data.get("logger") or None),
            ("code.file.path", file or None),
            ("code.line.number", int(line) if line.isdigit() else None),
        ]
        return at, "log", pairs
    if kind == "exception":
        event = exception_event(data)
    elif kind == "profile":
        event = profile_event(data, at / 1e9)
    else:
        event = _cache_event(at, data)
    return at, event["name"], [(a["key"], _plain(a["value"])) for a in event["attributes"]]


def _cache_event(at: int, data: dict[str, Any]) -> dict[str, Any]:
    site = data.get("site")
    file, line, func = (
        (site.get("file", ""), site.get("line", 0), site.get("func", ""))
        if isinstance(site, dict) else (None, None, None)
    )  # fmt: skip
    keys, ms = data.get("keys"), data.get("ms")
    pairs = [
        ("dm.cache.op", data.get("op")),
        ("dm.cache.key", data.get("key")),
        ("dm.cache.keys", [str(k) for k in keys] if isinstance(keys, list) else None),
        ("dm.cache.hit", data.get("hit")),
        ("dm.cache.hits", data.get("hits")),
        ("dm.cache.backend", data.get("backend")),
        ("dm.ms", float(ms) if type(ms) in (int, float) and ms else 0.0),
        ("code.file.path", file),
        ("code.line.number", line),
        ("code.function.name", func),
    ]
    return {"name": "cache", "attributes": attributes(pairs)}


def _plain(value: dict[str, Any]) -> Any:
    """An OTLP/JSON ``AnyValue`` back to the value it was made from."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [_plain(v) for v in value["arrayValue"].get("values") or ()]
    return None


def _json_span(
    trace: str, span_id: str, parent: str | None, name: str, kind: int, start_ns: int,
    end_ns: int, pairs: list[tuple[str, Any]], events: list[Any], dropped: int, status: int,
    message: str | None,
) -> dict[str, Any]:  # fmt: skip
    otlp_span: dict[str, Any] = {
        "traceId": trace,
        "spanId": span_id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        "attributes": attributes(pairs),
        "events": [
            {"timeUnixNano": str(t), "name": n, "attributes": attributes(p)} for t, n, p in events
        ],
        "status": {"code": status, **({"message": message} if message else {})},
    }
    if dropped:
        otlp_span["droppedEventsCount"] = dropped
    if parent:
        otlp_span["parentSpanId"] = parent
    return otlp_span
