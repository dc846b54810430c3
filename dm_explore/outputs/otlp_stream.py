"""A folder streamed to OTLP requests: each span encoded when its end is read, nothing else kept.

``export otlp DIR --endpoint URL`` reads the folder file by file, in bounded
batches (:func:`~dm_explore.ingest.raw_lines.folder_batches`), parses each line
once and keeps only the spans that are open: their start, end and the SQL, log,
exception, cache and profile lines that name them. When a span's end is read it
is mapped as :func:`dm_explore.outputs.otlp.otlp_spans` maps a model's span, its
SQL statements as spans of their own (:mod:`.otlp_stream_spans`), and written at
once as protobuf (:mod:`.otlp_fast`) or as OTLP/JSON objects; requests leave
when :data:`~dm_explore.outputs.otlp.MAX_ITEMS` spans and events wait. ``log``
and ``exception`` lines become log records, ``metric`` and ``runtime`` lines
metric points (:mod:`.otlp_signals`), sent in requests of at most as many.
Memory holds the open spans and one request per signal, whatever the folder's size.

What the model knows and a stream does not: a span still open when the folder
ends is sent as unfinished (status ERROR, ``dm.unfinished``) with "no end: still
running or killed"; a parent link that closes a cycle is cut when the cycle runs
through the last :data:`MAX_LINKS` spans sent (the file export, which holds whole
traces, finds every cycle); a span named by events but never started or ended is
not sent.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

import orjson

from ..model import ProcessKey
from ..model.issues import is_control_flow
from . import otlp
from .otlp_fast import trace_request
from .otlp_signals import (
    exception_record,
    log_record,
    logs_request,
    metric_points,
    metrics_request,
    process_of,
)
from .otlp_stream_spans import OpenSpan, map_span

__all__ = ["Stream"]

_START, _END, _SQL, _ATTACHED, _METRIC, _TICK, _OTHER = range(7)  # what a line is to the stream
_ROLES: dict[str, int] = {
    "sql": _SQL,
    **dict.fromkeys(("log", "exception", "cache", "profile"), _ATTACHED),
    **dict.fromkeys(("metric", "runtime"), _METRIC),
    **dict.fromkeys(("command.heartbeat", "progress"), _TICK),
}
MAX_ROLES = 10_000  # kinds remembered: a hostile folder may hold a million
SIGNALS = ("traces", "logs", "metrics")
MAX_LINKS = 20_000  # parent links of the latest spans sent, kept to find cycles
MAX_LINKS_WALKED = 256
MAX_TRACE_IDS = 200_000  # traces counted one by one; past it, "at least" that many


def _role(kind: Any) -> int:
    """What a line of this kind is to the stream: a span's start or end (``<kind>.start``,
    ``<kind>.end``, not ``process.*``), or nothing it reads."""
    if type(kind) is not str:
        return _OTHER
    head, _, phase = kind.rpartition(".")
    role = _OTHER
    if head and head != "process" and phase in ("start", "end"):
        role = _START if phase == "start" else _END
    if len(_ROLES) < MAX_ROLES:
        _ROLES[kind] = role
    return role


class Stream:
    """The requests of a folder's lines, as ``(signal, body, items)``: protobuf or OTLP/JSON.

    ``batches``: the lines, each file's in order
    (:func:`~dm_explore.ingest.raw_lines.folder_batches`). ``signals``: which of
    ``traces``, ``logs``, ``metrics`` to give; ``json``: those of them given as
    OTLP/JSON, the others as protobuf.
    """

    def __init__(
        self, batches: Iterable[list[bytes]], signals: Collection[str], *,
        json: Collection[str] = (),
        max_items: int = otlp.MAX_ITEMS,
    ) -> None:  # fmt: skip
        self.batches, self.max_items = batches, max_items
        self.json = "traces" in json
        self.json_signals = frozenset(json)
        self.traces, self.logs, self.metrics = (s in signals for s in SIGNALS)
        self.open: dict[tuple[str, str], OpenSpan] = {}
        self.spans: dict[ProcessKey, list[Any]] = {}
        self.weight = 0
        self.log_items: list[tuple[ProcessKey, dict[str, Any]]] = []
        self.metric_items: list[tuple[ProcessKey, dict[str, Any]]] = []
        self.bad_lines = 0
        self.trace_ids: set[int] = set()
        # (trace, span) -> parent of the spans sent last: where a cycle is looked for
        self.links: dict[tuple[str, str], str] = {}

    def __iter__(self) -> Iterator[tuple[str, bytes, int]]:
        for raws in self.batches:
            yield from self._lines(raws)
        if self.traces:
            for (trace, span_id), entry in list(self.open.items()):
                if entry.start is not None:
                    yield from self._span(trace, span_id, entry)
        self.open.clear()
        yield from self._flush(force=True)

    def _lines(self, raws: list[bytes]) -> Iterator[tuple[str, bytes, int]]:
        loads, open_spans, traces, roles = orjson.loads, self.open, self.traces, _ROLES
        for raw in raws:
            try:
                data = loads(raw)
                kind = data["event"]
                role = roles.get(kind)
            except (orjson.JSONDecodeError, TypeError, KeyError):
                if raw.strip():
                    self.bad_lines += 1
                continue
            if role is None:
                role = _role(kind)
            if role <= _ATTACHED:  # a span's start, end, or a line that belongs to it
                trace, span_id = data.get("trace"), data.get("span")
                if traces and type(trace) is str and type(span_id) is str:
                    key = (trace, span_id)
                    entry = open_spans.get(key)
                    if entry is None:
                        entry = open_spans[key] = OpenSpan(data.get("parent"), process_of(data))
                    if role == _START:
                        entry.start = data
                        if entry.parent is None:
                            entry.parent = data.get("parent")
                    elif role == _END:
                        entry.end = data
                        del open_spans[key]
                        yield from self._span(trace, span_id, entry)
                    elif role == _SQL:
                        entry.sql.append(data)
                    elif kind != "exception" or not is_control_flow(data):
                        entry.points.append(data)
                if role == _ATTACHED and (kind == "log" or kind == "exception") and self.logs:
                    record = log_record(data) if kind == "log" else exception_record(data)
                    self.log_items.append((process_of(data), record))
                    if len(self.log_items) >= self.max_items:
                        yield from self._flush()
            elif role == _METRIC:
                if self.metrics:
                    process = process_of(data)
                    self.metric_items += [(process, m) for m in metric_points(data)]
                    if len(self.metric_items) >= self.max_items:
                        yield from self._flush()
            elif role == _TICK and traces:
                entry = open_spans.get((data.get("trace"), data.get("span")))
                if entry is not None:
                    entry.tick = data.get("ts")

    def _span(self, trace: str, span_id: str, entry: OpenSpan) -> Iterator[tuple[str, bytes, int]]:
        try:
            mapped = map_span(
                trace, span_id, entry, self.json, self._closes_cycle(trace, span_id, entry)
            )
        except (ValueError, TypeError, AttributeError):
            self.bad_lines += 1
            return
        if mapped is None:
            return
        items, weight = mapped
        if len(self.trace_ids) < MAX_TRACE_IDS:
            self.trace_ids.add(hash(trace))
        if len(items) > 1 and self.weight + weight > self.max_items:
            yield from self._spread(entry.process, items, weight)
            return
        self.spans.setdefault(entry.process, []).extend(items)
        self.weight += weight
        if self.weight >= self.max_items:
            yield from self._flush()

    def _spread(
        self, process: ProcessKey, items: list[Any], weight: int
    ) -> Iterator[tuple[str, bytes, int]]:
        """A span whose statements do not fit in the request: the span (with its events),
        then its statements, a statement weighing 1, in as many requests as they fill."""
        self.spans.setdefault(process, []).append(items[0])
        self.weight += weight - (len(items) - 1)
        at = 1
        while at < len(items):
            if self.weight >= self.max_items:
                yield from self._flush()
            part = items[at : at + self.max_items - self.weight]
            self.spans.setdefault(process, []).extend(part)
            self.weight += len(part)
            at += len(part)
        if self.weight >= self.max_items:
            yield from self._flush()

    def _closes_cycle(self, trace: str, span_id: str, entry: OpenSpan) -> bool:
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
