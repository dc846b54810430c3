"""The model: every file's events merged into traces, requests, tests, issues, commands, metrics.

Pure state and the operations that keep it consistent: it imports nothing of
the reader, the command line or the UI. :mod:`dm_explore.ingest` applies decoded
events through the methods below, in any order across files; views read the
indexes and :attr:`Model.version` tells them when to redraw.
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict, deque
from typing import Any

from dm_log.contract import HEX_DIGITS

from .command_runs import STATUSES, command_status
from .issues import Issue, is_control_flow
from .metrics import Series
from .problems import InvalidEvent, Problem, check_ids
from .records import MAX_DEPTH, ProcessKey, Span, SpanKey
from .sources import MAX_PROBLEMS, FileInfo, ProcessInfo
from .traces import Trace

__all__ = ["FileInfo", "Model", "ProcessInfo", "Trace"]

MAX_REFUSED_KINDS = 50


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
        self.spans: dict[SpanKey, Span] = {}  # by (trace id, span id)
        self.requests: dict[SpanKey, Span] = {}  # request spans in arrival order
        self.tests: dict[SpanKey, Span] = {}  # test spans in arrival order
        self.tests_version = 0  # moves when a test starts, ends, is killed or evicted
        self._by_span_id: dict[str, Span] = {}  # the latest span of each bare span id
        self.issues: dict[str, Issue] = {}
        self.command_runs: dict[tuple[str, str], deque[Span]] = {}  # (host, command) -> runs
        self.metrics: dict[str, Series] = {}
        self.span_durations: dict[str, Series] = {}  # custom span name -> ms
        self.request_latency: dict[str, Series] = {}  # service -> request ms
        self.totals: dict[str, int] = defaultdict(int)  # survive eviction
        self.refused: dict[str, int] = {}  # refused events (dm.invalid) by kind, see count_refused
        self.last_ts = 0.0  # the newest event's time
        self._arrivals = 0  # spans created so far: their seq

    # -- input ------------------------------------------------------------------

    def add_file(self, path: str) -> int:
        """Register a file and return the id its events are applied with."""
        file_id = len(self.files) + 1
        self.files[file_id] = FileInfo(file_id, path)
        self.version += 1
        return file_id

    def add_problem(self, file_id: int, problem: Problem) -> None:
        """Count a line (or, with line 0, the file) of file ``file_id`` that could not be used."""
        info = self.files[file_id]
        info.invalid += 1 if problem.line else 0
        if len(info.problems) < MAX_PROBLEMS:
            info.problems.append(problem)
        self.totals["invalid_lines"] += 1 if problem.line else 0
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
                    if span.kind == "test":
                        self.tests_version += 1
        self.version += 1

    def process(self, key: ProcessKey) -> ProcessInfo:
        """The process ``key`` names, made known to the model if it was not."""
        found = self.processes.get(key)
        if found is None:
            found = self.processes[key] = ProcessInfo(key)
        return found

    def count_applied(
        self, info: FileInfo, applied: int, *, sql: int, logs: int, requests: int, newest: float
    ) -> None:
        """Count ``applied`` events of one file's batch; ``newest``: the latest of their times."""
        self.version += applied
        totals = self.totals
        totals["events"] += applied
        totals["sql"] += sql
        totals["logs"] += logs
        totals["requests"] += requests
        info.events += applied
        if newest > self.last_ts:
            self.last_ts = newest

    def count(self, total: str, n: int = 1) -> None:
        """Add ``n`` to one of :attr:`totals`."""
        self.totals[total] += n

    def count_refused(self, kind: str) -> None:
        """Count one event the writer refused (``dm.invalid``) of ``kind`` (``panel``...).

        ``totals["refused"]`` counts them all, :attr:`refused` by kind (the first
        :data:`MAX_REFUSED_KINDS` kinds; later ones under ``"other"``).
        """
        self.totals["refused"] += 1
        refused = self.refused
        if kind not in refused and len(refused) >= MAX_REFUSED_KINDS:
            kind = "other"
        refused[kind] = refused.get(kind, 0) + 1
        self.version += 1

    # -- spans ------------------------------------------------------------------

    def new_span(
        self,
        span_id: str,
        trace_id: str | None,
        parent_id: str | None,
        key: ProcessKey,
        file_id: int,
    ) -> Span:
        """The span ``span_id``, met for the first time, linked into its trace.

        Raises :class:`InvalidEvent` if an id is not lowercase hex (their lengths
        are the decoder's to check). Each id is checked once: a known trace or
        parent span was checked when it was first met.
        """
        spans = self.spans
        trace = self.traces.get(trace_id) if trace_id is not None else None
        parent = (
            spans.get((trace_id, parent_id))
            if parent_id is not None and trace_id is not None
            else None
        )
        if (
            span_id.rstrip(HEX_DIGITS)
            or trace_id is None
            or (trace is None and trace_id.rstrip(HEX_DIGITS))
            or (parent is None and parent_id is not None and parent_id.rstrip(HEX_DIGITS))
        ):
            check_ids(span_id, trace_id, parent_id)  # raises, saying which
        if trace is None:
            assert trace_id is not None  # (checked above)
            trace = self.traces[trace_id] = Trace(trace_id)
            self.totals["traces"] += 1
            if len(self.traces) > self.max_traces:
                self._evict_oldest()
        self._arrivals += 1
        # The trace's and the parent's own id strings, not the line's copies: one of each.
        span = Span(
            span_id,
            trace.trace_id,
            parent_id if parent is None else parent.span_id,
            key,
            file_id,
            self._arrivals,
        )
        spans[trace.trace_id, span_id] = span
        self._by_span_id[span_id] = span
        trace.spans.append(span)
        if parent is not None:
            if parent.children:  # Span.add_child, inline: once per span met
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

    def add_request(self, span: Span) -> None:
        """``span`` is a request: listed in :attr:`requests` (counted per batch)."""
        self.requests[span.trace, span.span_id] = span

    def add_test(self, span: Span) -> None:
        """``span`` is a test that started or ended: listed in :attr:`tests` (kept in
        arrival order), and :attr:`tests_version` moves."""
        self.tests[span.trace, span.span_id] = span
        self.tests_version += 1

    def set_parent(self, span: Span, parent_id: str) -> None:
        """A span first met without its parent learns it: it leaves the trace's roots."""
        if parent_id.rstrip(HEX_DIGITS):
            raise InvalidEvent("envelope: parent must be 16 lowercase hex")
        self.traces[span.trace].roots.remove(span)
        self.link(span, parent_id)

    def add_exception(self, event: dict[str, Any], ts: float, span: Span | None, svc: str) -> None:
        """An ``exception`` event: grouped into its issue; it marks its span and every caller."""
        if is_control_flow(event):  # a task asking for another attempt: not an issue
            self.totals["control_flow"] += 1
            return
        fp = str(event.get("fingerprint"))
        issue = self.issues.get(fp)
        if issue is None:
            message = str(event.get("message", ""))
            issue = self.issues[fp] = Issue(fp, str(event.get("type")), message)
        issue.add(event, ts, svc, span.ref if span is not None else None)
        self.totals["exceptions"] += 1
        if span is not None:
            span.add_exception(event)
            for current in self.ancestry(span):
                current.errors += 1

    def link(self, span: Span, parent_id: str) -> None:
        """Attach ``span`` under its parent, or keep it waiting for the parent to arrive."""
        trace = self.traces[span.trace]
        span.parent = parent_id
        parent = self.spans.get((span.trace, parent_id))
        if parent is not None:
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
        by_span_id = self._by_span_id
        for span in trace.spans:
            key = (trace.trace_id, span.span_id)
            if self.spans.get(key) is span:
                del self.spans[key]
                self.requests.pop(key, None)
                if self.tests.pop(key, None) is not None:
                    self.tests_version += 1
            if by_span_id.get(span.span_id) is span:
                del by_span_id[span.span_id]
        self.totals["evicted_traces"] += 1

    def metric_series(self, name: str, unit: str | None) -> Series:
        """The series of metric ``name``, made if new."""
        return _series(self.metrics, name, unit)

    def latency_series(self, svc: str) -> Series:
        """The request latencies (ms) of service ``svc``, made if new."""
        return _series(self.request_latency, svc, "ms")

    def duration_series(self, name: str) -> Series:
        """The durations (ms) of custom spans named ``name``, made if new."""
        return _series(self.span_durations, name, "ms")

    def ancestry(self, span: Span) -> list[Span]:
        """The span and its ancestors, nearest first; a cycle of parent links stops it."""
        chain = [span]
        seen = {span.span_id}
        parent, trace = span.parent, span.trace
        while parent is not None and parent not in seen and len(chain) < MAX_DEPTH:
            found = self.spans.get((trace, parent))
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

    def span(self, ref: str | SpanKey, trace_id: str | None = None) -> Span | None:
        """A span by ``(trace id, span id)``, by :attr:`Span.ref` (``trace-span``), or by
        span id and ``trace_id``.

        A bare span id without ``trace_id`` finds the latest span met with that id:
        enough when ids are unique, ambiguous when two traces' spans share one, so
        views pass a span's :attr:`~Span.ref` or its trace.
        """
        if isinstance(ref, tuple):
            return self.spans.get(ref)
        if trace_id is not None:
            return self.spans.get((trace_id, ref))
        if len(ref) == 49 and ref[32] == "-":
            return self.spans.get((ref[:32], ref[33:]))
        return self._by_span_id.get(ref)

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
        counts = dict.fromkeys(STATUSES, 0)
        for runs in self.command_runs.values():
            for run in runs:
                counts[self.command_status(run, now)] += 1
        return counts


def _series(table: dict[str, Series], name: str, unit: str | None) -> Series:
    series = table.get(name)
    if series is None:
        series = table[name] = Series(name, unit)
    return series
