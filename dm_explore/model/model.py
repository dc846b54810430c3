"""The model: every file's events merged into traces, requests, issues, commands and metrics.

Pure Python, no UI import. :meth:`Model.apply` takes one parsed event at a time,
in any order across files; views read the indexes below and :attr:`Model.version`
tells them when to redraw.
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from msgspec import UNSET

from .commands import command_status
from .dispatch import DISPATCH as _DISPATCH
from .events import (
    HEX_DIGITS,
    Event,
    InvalidEvent,
    Log,
    RequestStart,
    Sql,
    check_ids,
    event_from_dict,
)
from .issues import Issue
from .metrics import Series
from .records import MAX_DEPTH, LogRec, ProcessKey, Span, SqlRec

__all__ = ["FileInfo", "Model", "Trace"]

MAX_PROBLEMS = 1000
MAX_PROCESS_ITEMS = 2000


@dataclass(slots=True)
class FileInfo:
    """One file of the folder: who wrote it and what was wrong with it."""

    id: int
    path: str
    process: ProcessKey | None = None
    events: int = 0
    invalid: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), first 1000
    gone: bool = False
    partial: bool = False
    capped: str | None = None  # "stop" or "rotate" once dm.capped was seen
    dropped: int = 0  # events the writer reported it could not write


@dataclass(slots=True)
class ProcessInfo:
    """What a process reported outside any span."""

    key: ProcessKey
    alive: bool | None = None  # None: unknown (another host)
    argv: list[str] = field(default_factory=list)
    runtime: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_PROCESS_ITEMS))
    panels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    logs: deque[LogRec] = field(default_factory=lambda: deque(maxlen=MAX_PROCESS_ITEMS))
    sql: deque[SqlRec] = field(default_factory=lambda: deque(maxlen=MAX_PROCESS_ITEMS))
    invalid_events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))


_NO_PROCESS = ProcessInfo(("", "", 0))  # before the first event: matches none


def _index(events: list[Event | None], event: Event) -> int:
    """Where ``event`` (the object itself) is in ``events``."""
    return next(i for i, other in enumerate(events) if other is event)


class Trace:
    """The spans of one request chain, across services and hosts."""

    __slots__ = ("orphans", "roots", "spans", "trace_id")

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.spans: list[Span] = []  # in arrival order
        self.roots: list[Span] = []  # spans whose parent is absent (root or still waiting)
        self.orphans: dict[str, list[Span]] | None = None  # parent id -> waiting children

    @property
    def first_ts(self) -> float | None:
        """When the earliest span started."""
        return min((s.start_ts for s in self.spans if s.start_ts is not None), default=None)

    @property
    def last_ts(self) -> float | None:
        """When the last span ended (or started, if none ended after it)."""
        times = [t for s in self.spans for t in (s.start_ts, s.end_ts) if t is not None]
        return max(times, default=None)

    @property
    def services(self) -> set[str]:
        """The services the trace's spans ran in."""
        return {span.process[0] for span in self.spans}

    def root(self) -> Span | None:
        """The earliest span with no parent in the trace."""
        real = [s for s in self.roots if s.parent is None] or self.roots
        return min(real, key=lambda s: (s.start_ts or float("inf"), s.seq)) if real else None


class Model:
    """Everything known about a folder. Not thread-safe: apply from one thread at a time."""

    def __init__(
        self, *, max_traces: int = 50_000, n_plus_one: int = 5, history: int = 100
    ) -> None:
        self.max_traces = max_traces
        self.n_plus_one = n_plus_one
        self.history = history
        self.version = 0
        self.live = False  # following a live folder: "now" is the wall clock
        self.files: dict[int, FileInfo] = {}
        self.processes: dict[ProcessKey, ProcessInfo] = {}
        self.traces: OrderedDict[str, Trace] = OrderedDict()
        self.spans: dict[str, Span] = {}
        self.requests: dict[str, Span] = {}  # request spans in arrival order
        self.issues: dict[str, Issue] = {}
        self.command_runs: dict[tuple[str, str], deque[Span]] = {}  # (host, command) -> runs
        self.metrics: dict[str, Series] = {}
        self.span_durations: dict[str, Series] = {}  # custom span name -> ms
        self.request_latency: dict[str, Series] = {}  # service -> request ms
        self.totals: dict[str, int] = defaultdict(int)  # survive eviction
        self.last_ts = 0.0  # the newest event's time
        self._arrivals = 0  # spans created so far: their seq
        # The file of the batch being applied, and the process :meth:`process_of` found
        # last: for a line of no span, the one that wrote it (the sql and log handlers').
        self.current_file = FileInfo(0, "")
        self.current_process = _NO_PROCESS

    # -- input ------------------------------------------------------------------

    def add_file(self, path: str) -> int:
        """Register a file and return the id its events are applied with."""
        file_id = len(self.files) + 1
        self.files[file_id] = FileInfo(file_id, path)
        self.version += 1
        return file_id

    def file_problem(self, file_id: int, line: int, reason: str) -> None:
        """Count a line (or, with ``line`` 0, the file) that could not be used."""
        info = self.files[file_id]
        info.invalid += 1 if line else 0
        if len(info.problems) < MAX_PROBLEMS:
            info.problems.append((line, reason))
        self.totals["invalid_lines"] += 1 if line else 0
        self.version += 1

    def set_file_state(
        self, file_id: int, *, gone: bool | None = None, partial: bool | None = None
    ) -> None:
        info = self.files[file_id]
        if gone is not None:
            info.gone = gone
        if partial is not None:
            info.partial = partial
        self.version += 1

    def set_process_alive(self, key: ProcessKey, alive: bool) -> None:
        """Tell the model whether a process still runs; its open spans end as killed if not."""
        proc = self.processes.get(key)
        if proc is None or proc.alive == alive:
            return
        proc.alive = alive
        if not alive:
            for span in self.spans.values():
                if span.process == key and span.end_ts is None:
                    span.killed = True
        self.version += 1

    def apply(self, file_id: int, event: dict[str, Any]) -> None:
        """Merge one event already parsed into a dict (see :func:`dm_explore.reader.parse_line`).

        The reader uses :meth:`apply_batch`; this is for callers holding dicts.
        """
        raw = orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS)
        typed = event_from_dict(event)
        if typed is None:
            self.file_problem(file_id, 0, f"{event.get('event')}: fields of the wrong type")
            return
        self.apply_batch(file_id, [typed], [raw])

    def apply_batch(
        self, file_id: int, events: list[Event | None], raws: list[bytes]
    ) -> list[tuple[int, str]]:
        """Merge decoded events of one file, in file order; skip the ``None`` ones.

        ``raws[i]`` is the line of ``events[i]``, kept for the spans'
        :attr:`~Span.start` and :attr:`~Span.end`. Returns ``(index, reason)``
        for events whose shape the model could not use.
        """
        info = self.current_file = self.files[file_id]
        spans, dispatch, process_of = self.spans, _DISPATCH, self.process_of
        if info.process is None:  # the file's writer: the process of its first line
            first = next((e for e in events if e is not None), None)
            if first is not None:
                info.process = process_of(first).key
        failed: list[tuple[int, str]] = []
        unset, last_id, last_span = UNSET, None, None
        pid = self.current_process.key[2]
        for ev, raw in zip(events, raws, strict=True):
            if ev is None:
                continue
            try:
                if ev.pid != pid:  # another writer in the file (merged files): known too
                    pid = process_of(ev).key[2]
                span_id = ev.span
                if span_id == last_id:  # most lines name the span of the line before
                    span = last_span
                elif span_id is unset:
                    span = None
                else:
                    span = spans.get(span_id)
                    if span is None:  # (the only place traces are evicted: cache renewed)
                        span = self._new_span(ev, span_id, process_of(ev).key, file_id)
                    last_id, last_span = span_id, span
                # Which process wrote the line matters to a line of no span: the
                # process keeps it. A span's lines go to the span, made by its process.
                if span is None:
                    process_of(ev)
                elif ev.trace != span.trace or ev.parent != span.parent:
                    check_ids(ev)  # not the ids its span was made with: are these valid?
                dispatch[type(ev)](self, ev, raw, span)
            except InvalidEvent as exc:
                failed.append((_index(events, ev), str(exc)))
            except Exception as exc:  # a shape the decoder let through: never fatal
                failed.append((_index(events, ev), f"could not be applied: {type(exc).__name__}"))
        if failed:  # not applied after all
            events = events.copy()
            for i, _reason in failed:
                events[i] = None
        applied = len(events) - events.count(None)
        if applied:
            if applied == len(events):
                newest = max([e.ts for e in events])  # type: ignore[union-attr]
            else:
                newest = max([e.ts for e in events if e is not None])
            types = list(map(type, events))
            self.version += applied
            totals = self.totals
            totals["events"] += applied
            totals["sql"] += types.count(Sql)
            totals["logs"] += types.count(Log)
            totals["requests"] += types.count(RequestStart)
            info.events += applied
            self.last_ts = max(self.last_ts, newest.timestamp())
        return failed

    def process_of(self, event: Event) -> ProcessInfo:
        """The process that wrote ``event``, made known to the model; it becomes
        :attr:`current_process`."""
        proc = self.current_process
        key = proc.key
        if (
            event.pid != key[2]
            or event.svc != key[0]
            or event.host != key[1]
            or proc is _NO_PROCESS
        ):
            key = (event.svc, event.host, event.pid)
            found = self.processes.get(key)
            if found is None:
                found = self.processes[key] = ProcessInfo(key)
            proc = self.current_process = found
        return proc

    # -- spans ------------------------------------------------------------------

    def _new_span(self, event: Event, span_id: str, key: ProcessKey, file_id: int) -> Span:
        """The span an event names for the first time, linked into its trace."""
        spans = self.spans
        trace_id: str = event.trace  # type: ignore[assignment]
        trace = self.traces.get(trace_id)
        parent_id = event.parent
        parent = spans.get(parent_id) if parent_id is not None else None
        # Lowercase hex (lengths were checked at decode), each id once: a known trace or
        # parent span was checked when it was first met.
        if (
            span_id.rstrip(HEX_DIGITS)
            or trace_id is None
            or (trace is None and trace_id.rstrip(HEX_DIGITS))
            or (parent is None and parent_id is not None and parent_id.rstrip(HEX_DIGITS))
        ):
            check_ids(event)  # raises, saying which
        if trace is None:
            trace = self.traces[trace_id] = Trace(trace_id)
            self.totals["traces"] += 1
            if len(self.traces) > self.max_traces:
                self._evict_oldest()
        self._arrivals += 1
        if parent is not None and parent.trace != trace_id:
            parent = None  # a span of another trace: this one waits for its own
        # The trace's and the parent's own id strings, not the line's copies: one of each.
        span = Span(
            span_id,
            trace.trace_id,
            parent_id if parent is None else parent.span_id,
            key,
            file_id,
            self._arrivals,
        )
        spans[span_id] = span
        trace.spans.append(span)
        if parent is not None:
            if parent.children:  # Span.add_child, inline: the hot path
                parent.children.append(span)  # type: ignore[attr-defined]
            else:
                parent.children = [span]
        else:
            self._wait_for_parent(trace, span, parent_id)
        if trace.orphans:
            waiting = trace.orphans.pop(span_id, None)
            if waiting:
                for child in waiting:
                    trace.roots.remove(child)
                    self._adopt(span, child)
        return span

    def _adopt(self, parent: Span, child: Span) -> None:
        """``child`` under ``parent``; the errors counted in its subtree mark its new callers."""
        parent.add_child(child)
        if child.errors:
            for caller in self.ancestry(parent):
                caller.errors += child.errors

    def _wait_for_parent(self, trace: Trace, span: Span, parent_id: str | None) -> None:
        """A root of the trace for now; attached when its parent arrives, if it has one."""
        trace.roots.append(span)
        if parent_id:
            if trace.orphans is None:
                trace.orphans = {}
            waiting = trace.orphans.get(parent_id)
            if waiting is None:
                trace.orphans[parent_id] = [span]
            else:
                waiting.append(span)

    def link(self, span: Span, parent_id: str) -> None:
        """Attach ``span`` under its parent, or keep it waiting for the parent to arrive."""
        trace = self.traces[span.trace]
        span.parent = parent_id
        parent = self.spans.get(parent_id)
        if parent is not None and parent.trace == span.trace:
            self._adopt(parent, span)
        else:
            self._wait_for_parent(trace, span, parent_id)

    def command_started(self, run: Span) -> None:
        """A command run joins its command's history (the last ``history`` runs)."""
        where = (run.process[1], run.name)
        runs = self.command_runs.get(where)
        if runs is None:
            runs = self.command_runs[where] = deque(maxlen=self.history)
        runs.append(run)
        self.totals["commands"] += 1

    def _evict_oldest(self) -> None:
        _, trace = self.traces.popitem(last=False)
        for span in trace.spans:
            if self.spans.get(span.span_id) is span:
                del self.spans[span.span_id]
                self.requests.pop(span.span_id, None)
        self.totals["evicted_traces"] += 1

    @staticmethod
    def series(table: dict[str, Series], name: str, unit: str | None) -> Series:
        series = table.get(name)
        if series is None:
            series = table[name] = Series(name, unit)
        return series

    def ancestry(self, span: Span) -> list[Span]:
        """The span and its ancestors, nearest first; a cycle of parent links stops it."""
        chain = [span]
        seen = {span.span_id}
        parent = span.parent
        while parent is not None and parent not in seen and len(chain) < MAX_DEPTH:
            found = self.spans.get(parent)
            if found is None:
                break
            chain.append(found)
            seen.add(parent)
            parent = found.parent
        return chain

    # -- queries for views ----------------------------------------------------------

    def now(self) -> float:
        """The time against which liveness is judged: the clock when live, else the newest event."""
        return time.time() if self.live else self.last_ts

    def span(self, span_id: str) -> Span | None:
        return self.spans.get(span_id)

    def trace(self, trace_id: str) -> Trace | None:
        """A trace by id, or by a unique prefix of its id."""
        found = self.traces.get(trace_id)
        if found is not None or len(trace_id) >= 32:
            return found
        matches = [t for tid, t in self.traces.items() if tid.startswith(trace_id)]
        return matches[0] if len(matches) == 1 else None

    def services(self) -> list[str]:
        return sorted({key[0] for key in self.processes})

    def command_status(self, run: Span, now: float | None = None) -> str:
        """STARTED, RUNNING, FINISHED, FAILED or SYSTEM_KILL for one run."""
        now = self.now() if now is None else now
        runs = self.command_runs.get((run.process[1], run.name), ())
        superseded = run.end_ts is None and any(
            other is not run and (other.start_ts or 0) > (run.start_ts or 0) for other in runs
        )
        return command_status(run, now, superseded)

    def commands_by_status(self, now: float | None = None) -> dict[str, int]:
        counts = {s: 0 for s in ("STARTED", "RUNNING", "FINISHED", "FAILED", "SYSTEM_KILL")}
        for runs in self.command_runs.values():
            for run in runs:
                counts[self.command_status(run, now)] += 1
        return counts
