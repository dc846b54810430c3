"""A folder streamed to OTLP requests: each span encoded when its end is read, nothing else kept.

``export otlp DIR --endpoint URL`` reads the folder file by file through
:class:`~dm_explore.ingest.tail.Tail` (bounded batches, compressed files
inflated as a stream), parses each line once and keeps only the spans that are
open: their start, end and the SQL, log, exception, cache and profile events that
name them. When a span's end is read it is mapped as :func:`dm_explore.outputs.otlp.span_to_otlp`
maps a model's span and written at once as protobuf (:mod:`.otlp_fast`) or as an
OTLP/JSON object; requests leave when :data:`~dm_explore.outputs.otlp.MAX_ITEMS`
spans and events wait. ``log`` and ``exception`` lines become log records,
``metric`` and ``runtime`` lines metric points (:mod:`.otlp_signals`), sent in
requests of at most as many. Memory holds the open spans and one request per
signal, whatever the folder's size.

What the model knows and a stream does not: a span still open when the folder
ends is sent as unfinished (status ERROR, ``dm.unfinished``) with "no end: still
running or killed"; a parent link that closes a cycle is cut when the cycle runs
through the last :data:`MAX_LINKS` spans sent (the file export, which holds whole
traces, finds every cycle); a span named by events but never started or ended is
not sent.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from dm_log.contract import epoch_seconds

from ..ingest.folder import PATTERNS
from ..ingest.tail import Tail
from ..model import ProcessKey
from ..model.issues import is_control_flow
from ..model.records import TASK_FLOW_STATES
from . import otlp
from .otlp_events import exception_event, profile_event
from .otlp_fast import event_bytes, span_bytes, trace_request
from .otlp_signals import (
    exception_record,
    log_record,
    logs_request,
    metric_points,
    metrics_request,
    process_of,
)

__all__ = ["Stream"]

_NAME_FIELD = {"request": "path", "http": "url", "task": "task", "command": "command",
               "test": "nodeid"}  # fmt: skip
_RESULT_FIELD = {"task": "state", "command": "status", "test": "result"}
_ATTACHED = frozenset(("sql", "log", "exception", "cache", "profile"))
_TICKS = frozenset(("command.heartbeat", "progress"))
_MINUTES: dict[str, int] = {}
SIGNALS = ("traces", "logs", "metrics")
MAX_LINKS = 100_000  # parent links of the latest spans sent, kept to find cycles
MAX_LINKS_WALKED = 256


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
            if len(_MINUTES) > 100_000:
                _MINUTES.clear()
            _MINUTES[text[:16]] = minute
        seconds, micros = text[17:19], text[20:26]
        if minute >= 0 and seconds.isdigit() and micros.isdigit():
            return minute + int(seconds) * 1_000_000_000 + int(micros) * 1000
    epoch = epoch_seconds(text)
    return None if epoch is None else otlp.nanos(epoch)


class _Open:
    """A span being read: its lines so far."""

    __slots__ = ("end", "last", "parent", "points", "process", "start")

    def __init__(self, parent: str | None, process: ProcessKey) -> None:
        self.parent = parent
        self.process = process
        self.start: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.points: list[tuple[int, int, dict[str, Any]]] = []  # (time, order, line)
        self.last = 0  # newest time seen (nanoseconds), for a span cut short


def _files(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(PATTERNS):
                yield Path(dirpath) / name


class Stream:
    """The requests of a folder, as ``(signal, body, items)``: protobuf or OTLP/JSON bytes.

    ``signals``: which of ``traces``, ``logs``, ``metrics`` to give; ``json``: those of
    them given as OTLP/JSON, the others as protobuf.
    """

    def __init__(
        self, folder: Path, signals: Collection[str], *, json: Collection[str] = (),
        max_items: int = otlp.MAX_ITEMS,
    ) -> None:  # fmt: skip
        self.folder, self.max_items = folder, max_items
        self.json = "traces" in json
        self.json_signals = frozenset(json)
        self.traces, self.logs, self.metrics = (s in signals for s in SIGNALS)
        self.open: dict[tuple[str, str], _Open] = {}
        self.spans: dict[ProcessKey, list[Any]] = {}
        self.weight = 0
        self.log_items: list[tuple[ProcessKey, dict[str, Any]]] = []
        self.metric_items: list[tuple[ProcessKey, dict[str, Any]]] = []
        self.bad_lines = 0
        self.trace_ids: set[int] = set()
        # (trace, span) -> parent of the spans sent last: where a cycle is looked for
        self.links: dict[tuple[str, str], str] = {}

    def __iter__(self) -> Iterator[tuple[str, bytes, int]]:
        for path in _files(self.folder):
            tail = Tail(path)
            more = True
            while more:
                batch = tail.read_batch()
                more = batch.more
                yield from self._lines(batch.raws)
        if self.traces:
            for (trace, span_id), entry in list(self.open.items()):
                if entry.start is not None:
                    yield from self._span(trace, span_id, entry)
        self.open.clear()
        yield from self._flush(force=True)

    def _lines(self, raws: list[bytes]) -> Iterator[tuple[str, bytes, int]]:
        loads, open_spans, traces = orjson.loads, self.open, self.traces
        for raw in raws:
            try:
                data = loads(raw)
                kind = data["event"]
            except (orjson.JSONDecodeError, TypeError, KeyError):
                if raw.strip():
                    self.bad_lines += 1
                continue
            if type(kind) is not str:
                continue
            head, _, phase = kind.rpartition(".")
            trace, span_id = data.get("trace"), data.get("span")
            if phase in ("start", "end") and head and head != "process":
                if not traces or type(trace) is not str or type(span_id) is not str:
                    continue
                key = (trace, span_id)
                entry = open_spans.get(key)
                if entry is None:
                    entry = open_spans[key] = _Open(data.get("parent"), process_of(data))
                if phase == "start":
                    entry.start = data
                    if entry.parent is None:
                        entry.parent = data.get("parent")
                    entry.last = max(entry.last, ts_nanos(data.get("ts")) or 0)
                else:
                    entry.end = data
                    del open_spans[key]
                    yield from self._span(trace, span_id, entry)
                continue
            if kind in _ATTACHED:
                if traces and type(trace) is str and type(span_id) is str:
                    key = (trace, span_id)
                    entry = open_spans.get(key)
                    if entry is None:
                        entry = open_spans[key] = _Open(data.get("parent"), process_of(data))
                    if kind != "exception" or not is_control_flow(data):
                        at = ts_nanos(data.get("ts")) or 0
                        entry.points.append((at, len(entry.points), data))
                        if kind != "profile":
                            entry.last = max(entry.last, at)
                if (kind == "log" or kind == "exception") and self.logs:
                    record = log_record(data) if kind == "log" else exception_record(data)
                    self.log_items.append((process_of(data), record))
                    if len(self.log_items) >= self.max_items:
                        yield from self._flush()
            elif kind == "metric" or kind == "runtime":
                if self.metrics:
                    process = process_of(data)
                    self.metric_items += [(process, m) for m in metric_points(data)]
                    if len(self.metric_items) >= self.max_items:
                        yield from self._flush()
            elif kind in _TICKS and traces and type(trace) is str and type(span_id) is str:
                entry = open_spans.get((trace, span_id))
                if entry is not None:
                    entry.last = max(entry.last, ts_nanos(data.get("ts")) or 0)

    def _span(self, trace: str, span_id: str, entry: _Open) -> Iterator[tuple[str, bytes, int]]:
        try:
            mapped = _map(
                trace, span_id, entry, self.json, self._closes_cycle(trace, span_id, entry)
            )
        except (ValueError, TypeError, AttributeError):
            self.bad_lines += 1
            return
        if mapped is None:
            return
        item, weight = mapped
        self.spans.setdefault(entry.process, []).append(item)
        self.weight += weight
        self.trace_ids.add(hash(trace))
        if self.weight >= self.max_items:
            yield from self._flush()

    def _closes_cycle(self, trace: str, span_id: str, entry: _Open) -> bool:
        """Whether the span's parent link leads back to it through spans sent before.

        Then the link is cut: the span that closes a cycle is the one sent last.
        """
        links, parent = self.links, entry.parent
        if type(parent) is not str:
            return False
        node: str | None = parent
        steps = 0
        while node is not None and steps < MAX_LINKS_WALKED:
            if node == span_id:
                return True
            node = links.get((trace, node))
            steps += 1
        if len(links) >= MAX_LINKS:
            del links[next(iter(links))]
        links[(trace, span_id)] = parent
        return False

    def _flush(self, force: bool = False) -> Iterator[tuple[str, bytes, int]]:
        if self.spans and (force or self.weight >= self.max_items):
            count = sum(map(len, self.spans.values()))
            if self.json:
                request = otlp._request(self.spans)
                yield "traces", orjson.dumps(request), count
            else:
                yield "traces", trace_request(self.spans, otlp._SCOPE), count
            self.spans, self.weight = {}, 0
        if self.log_items and (force or len(self.log_items) >= self.max_items):
            yield "logs", self._encode("logs", logs_request(self.log_items)), len(self.log_items)
            self.log_items = []
        if self.metric_items and (force or len(self.metric_items) >= self.max_items):
            request = metrics_request(self.metric_items)
            yield "metrics", self._encode("metrics", request), len(self.metric_items)
            self.metric_items = []

    def _encode(self, signal: str, request: dict[str, Any]) -> bytes:
        if signal in self.json_signals:
            return orjson.dumps(request)
        from .otlp_proto import encode_logs_request, encode_metrics_request

        encode = encode_logs_request if signal == "logs" else encode_metrics_request
        return encode(request)


def _map(
    trace: str, span_id: str, entry: _Open, json: bool, cut: bool = False
) -> tuple[Any, int] | None:
    """One span as protobuf bytes (or an OTLP/JSON object) and its weight in a request."""
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
    pairs: list[tuple[str, Any]] = [
        (attr, fields.get(key)) for key, attr in otlp._ATTRIBUTES.get(kind, {}).items()
    ]
    if kind == "span" and start is not None and isinstance(start.get("fields"), dict):
        pairs += [(f"dm.field.{k}", v) for k, v in start["fields"].items()]
    pairs.append(("dm.kind", kind))
    parent = entry.parent if type(entry.parent) is str and len(entry.parent) == 16 else None
    if parent is not None and (cut or parent == span_id):
        pairs.append(("dm.cyclic_parent", parent))
        parent = None
    message: str | None = None
    if end is None:
        pairs.append(("dm.unfinished", True))
        status, message = otlp.STATUS_ERROR, "no end: still running or killed"
        end_ns = entry.last
        start_ns = start_ns if start_ns is not None else end_ns
        end_ns = max(end_ns, start_ns)
        span_end = None
    else:
        span_end = ts_nanos(end.get("ts")) or 0
        last = max(entry.last, span_end)
        raw_ms = end.get("ms")
        ms = float(raw_ms) if isinstance(raw_ms, int | float) and raw_ms is not True else None
        if ms is None and start_ns is not None:
            ms = (span_end - start_ns) / 1_000_000
        if start_ns is None:
            start_ns = otlp.nanos(span_end / 1e9 - ms / 1000) if ms is not None else last
        end_ns = start_ns + round(ms * 1000000) if ms is not None else max(last, start_ns)
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
    events = _events(entry, span_end, start_ns)
    dropped = max(len(events) - otlp.MAX_EVENTS_PER_SPAN, 0)
    events = events[: otlp.MAX_EVENTS_PER_SPAN]
    span_kind = otlp._KINDS.get(kind, otlp.SPAN_KIND_INTERNAL)
    end_ns = max(end_ns, start_ns)
    if json:
        return _json_span(trace, span_id, parent, name, span_kind, start_ns, end_ns, pairs,
                          events, dropped, status, message), 1 + len(events)  # fmt: skip
    encoded = [event_bytes(t, n, p) for t, n, p in events]
    return span_bytes(
        bytes.fromhex(trace), bytes.fromhex(span_id),
        bytes.fromhex(parent) if parent else None, name, span_kind, start_ns, end_ns,
        pairs, encoded, dropped, status, message,
    ), 1 + len(events)  # fmt: skip


def _events(
    entry: _Open, end_ns: int | None, start_ns: int
) -> list[tuple[int, str, list[tuple[str, Any]]]]:
    """The span's events as ``(time, name, pairs)``, in the model's order: by time, SQL first."""
    order = {"sql": 0, "log": 1, "exception": 2, "cache": 3, "profile": 4}
    timed = []
    at_end = end_ns if end_ns is not None else start_ns
    for at, seq, data in entry.points:
        kind = data["event"]
        if kind == "profile":
            at = at_end
        timed.append((at, order[kind], seq, data))
    timed.sort(key=lambda item: (item[1], item[2]))  # by kind, then as read: the model's lists
    timed.sort(key=lambda item: item[0])  # stable: by time
    return [_event(at, data) for at, _, _, data in timed]


def _event(at: int, data: dict[str, Any]) -> tuple[int, str, list[tuple[str, Any]]]:
    kind = data["event"]
    if kind == "sql":
        site = data.get("site")
        file, line, func = (
            (site.get("file", ""), site.get("line", 0), site.get("func", ""))
            if isinstance(site, dict) else (None, None, None)
        )  # fmt: skip
        ms = data.get("ms")
        pairs = [
            ("db.query.text", data.get("sql")),
            ("db.system", data.get("vendor")),
            ("dm.db.alias", data.get("alias")),
            ("dm.ms", float(ms) if type(ms) in (int, float) and ms else 0.0),
            ("dm.sql.error", data.get("error")),
            ("code.file.path", file),
            ("code.line.number", line),
            ("code.function.name", func),
        ]
        return at, "db.query", pairs
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
    from .otlp_events import attributes

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
    from .otlp_events import attributes

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
