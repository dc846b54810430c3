"""Read-only questions views ask of the model: filtered request lists, trees, SQL per span."""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import attrgetter, is_not

from dm_log.contract import HEX_DIGITS

from .model import Model, Trace
from .records import Span, SqlRec, subtree
from .sqlstats import SqlReport, analyze_sql

__all__ = [
    "Folds",
    "RequestFilter",
    "TreeRow",
    "cycles",
    "filter_requests",
    "find_trace",
    "names_trace",
    "span_sql",
    "subtree",
    "time_span",
    "trace_id_of",
    "trace_rows",
    "trace_sql",
    "trace_view",
]


@dataclass(slots=True, frozen=True)
class RequestFilter:
    """What the Requests view shows. Empty fields match everything.

    ``text`` matches the path, the method, the service or the view (case-insensitive),
    or is the trace id (:func:`names_trace`; a ``traceresponse`` value is its trace id);
    ``status`` is a class such as ``"5xx"`` or an exact code such as ``"404"``;
    ``slow_ms`` keeps requests at least that slow.
    """

    text: str = ""
    service: str = ""
    status: str = ""
    slow_ms: float | None = None
    errors_only: bool = False
    in_flight_only: bool = False

    def __post_init__(self) -> None:
        # A trace id pasted as a header value (traceresponse, traceparent) is its trace id.
        object.__setattr__(self, "text", trace_id_of(self.text))

    def matches(self, span: Span) -> bool:
        if self.service and span.svc != self.service:
            return False
        if self.errors_only and not span.has_error:
            return False
        if self.in_flight_only and not span.in_flight:
            return False
        if self.slow_ms is not None and (span.ms or 0.0) < self.slow_ms:
            return False
        if self.status:
            code = span.status
            if code is None:
                return False
            wanted = self.status.lower()
            if wanted.endswith("xx"):
                if str(code)[:1] != wanted[:1]:
                    return False
            elif str(code) != wanted:
                return False
        if self.text:
            needle = self.text.lower()
            hay = f"{span.name} {span.svc} {span.view or ''} {span.route or ''}"
            if needle not in hay.lower() and not names_trace(needle, span):
                return False
        return True


_TRACE_HEADER = re.compile(
    r"\s*(?:(?:traceresponse|traceparent)\s*:\s*)?"
    r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}\s*$",
    re.IGNORECASE,
)


def trace_id_of(text: str) -> str:
    """The trace id in ``text`` when it is a W3C header value, else ``text`` stripped.

    ``00-<trace>-<span>-01`` (what a response's ``traceresponse`` header or a
    request's ``traceparent`` carries, with or without the header's name) gives
    ``<trace>`` in lowercase; anything else comes back as it was, less the
    surrounding blanks.
    """
    found = _TRACE_HEADER.match(text)
    return found.group(1).lower() if found else text.strip()


def names_trace(needle: str, span: Span) -> bool:
    """Whether ``needle`` (lowercase) is ``span``'s trace id or a prefix of it, at least
    eight hex digits long: short words such as ``add`` or ``cafe`` are not taken for ids."""
    return len(needle) >= 8 and span.trace.startswith(needle) and not needle.strip(HEX_DIGITS)


def find_trace(model: Model, text: str) -> Trace | None:
    """The trace ``text`` names: its id, a unique prefix of it, or a ``traceresponse`` value."""
    wanted = trace_id_of(text).lower()
    return model.trace(wanted) if wanted else None


def filter_requests(
    model: Model, flt: RequestFilter | None = None, order: str = "newest"
) -> list[Span]:
    """Request spans matching ``flt``: ``newest`` first, ``oldest`` first, or ``slowest`` first."""
    spans = [s for s in model.requests.values() if flt is None or flt.matches(s)]
    if order == "slowest":
        spans.sort(key=lambda s: (-(s.ms or 0.0), -s.seq))
    elif order == "newest":
        spans.sort(key=lambda s: (s.start_ts or s.end_ts or 0.0, s.seq), reverse=True)
    else:
        spans.sort(key=lambda s: (s.start_ts or s.end_ts or 0.0, s.seq))
    return spans


@dataclass(slots=True)
class TreeRow:
    """One line of a trace tree: the span, its depth, and its place on the waterfall.

    A fold row (``more > 0``) stands for spans not drawn: the ``more`` further
    children of ``span`` (``fold == "width"``, at the children's depth), or the
    levels below ``span`` (``fold == "depth"``, ``more`` its children).
    """

    span: Span
    depth: int
    offset_ms: float  # start, relative to the trace's first start
    waiting: bool  # an orphan: its parent has not arrived
    cyclic: bool = False  # its parent links lead back to itself (hostile files)
    more: int = 0
    fold: str = ""  # "width" or "depth" for a fold row


@dataclass(slots=True, frozen=True)
class Folds:
    """How much of a trace a view draws: children per span, depth, rows in all.

    ``opened`` lets more children through for the spans it names (their id ->
    how many); ``base`` draws the tree from that span down.
    """

    children: int = 200
    depth: int = 100
    rows: int = 20_000
    opened: Mapping[str, int] = field(default_factory=dict)
    base: Span | None = None


def trace_rows(trace: Trace) -> list[TreeRow]:
    """The trace as a depth-first list, children in start order, orphans after the roots.

    Spans whose parent links form a cycle (a span its own parent, two spans each
    other's parent), which no root leads to, come last, marked ``cyclic``.
    """
    return _rows(trace, None)


def trace_view(trace: Trace, folds: Folds, first: float | None = None) -> list[TreeRow]:
    """The rows a view draws of ``trace``: like :func:`trace_rows`, folded by ``folds``.

    The work done is bounded by the rows drawn and the children of the spans
    drawn, never by the trace's size: a trace of a million spans opens at once.
    ``first``: the trace's earliest start, if the caller has it (:func:`time_span`).
    """
    return _rows(trace, folds, first)


def time_span(trace: Trace) -> tuple[float, float]:
    """``(first, last)``: the earliest start and the latest end (or start) of the trace's spans.

    In C-level passes (``map``, ``filter``, ``min``), as it runs over every span
    each time a trace view is drawn.
    """
    spans = trace.spans
    first = min(filter(_not_none, map(_START, spans)), default=0.0)
    last = max(filter(_not_none, map(_START, spans)), default=first)
    return first, max(filter(_not_none, map(_END, spans)), default=last)


_START = attrgetter("start_ts")
_END = attrgetter("end_ts")
_CHILDREN = attrgetter("children")
_not_none = partial(is_not, None)


def _rows(trace: Trace, folds: Folds | None, first: float | None = None) -> list[TreeRow]:
    if first is None:
        first = min(filter(_not_none, map(_START, trace.spans)), default=0.0)
    starts: list[tuple[Span, bool, set[int]]]
    if folds is not None and folds.base is not None:
        starts = [(folds.base, False, set())]
    else:
        starts = [(r, r.parent is not None, set()) for r in sorted(trace.roots, key=_start_key)]
        starts += [(c[0], False, {id(s) for s in c}) for c in cycles(trace)]
    rows: list[TreeRow] = []
    seen: set[int] = set()
    most = folds.rows if folds is not None else len(trace.spans) + 1
    for start, waiting, on_cycle in starts:
        # Iterative, so a chain thousands of spans deep cannot hit the recursion limit;
        # the stack holds (span, depth), or a fold row to add, the next one on top.
        stack: list[tuple[Span, int] | TreeRow] = [(start, 0)]
        while stack and len(rows) < most:
            item = stack.pop()
            if isinstance(item, TreeRow):
                rows.append(item)
                continue
            span, depth = item
            if id(span) in seen:
                continue
            seen.add(id(span))
            offset = ((span.start_ts or first) - first) * 1000
            rows.append(
                TreeRow(span, depth, offset, waiting and span is start, id(span) in on_cycle)
            )
            children = span.children
            if not children:
                continue
            if folds is None:
                stack.extend((c, depth + 1) for c in sorted(children, key=_start_key, reverse=True))
                continue
            if depth + 1 >= folds.depth and span is not folds.base:
                rows.append(
                    TreeRow(span, depth + 1, offset, False, more=len(children), fold="depth")
                )
                continue
            shown = folds.opened.get(span.span_id, folds.children)
            if len(children) > shown:
                picked = heapq.nsmallest(shown, children, key=_start_key)
                more = len(children) - shown
                stack.append(TreeRow(span, depth + 1, offset, False, more=more, fold="width"))
            else:
                picked = sorted(children, key=_start_key)
            stack.extend((c, depth + 1) for c in reversed(picked))
        if len(rows) >= most:
            more = len(trace.spans) - sum(1 for r in rows if not r.more)
            if more > 0:
                rows.append(TreeRow(rows[-1].span, 0, 0.0, False, more=more, fold="rows"))
            break
    return rows


def cycles(trace: Trace) -> list[list[Span]]:
    """The cycles of parent links in ``trace`` (hostile files), each earliest-arrived first.

    No root leads to a span on a cycle, nor to what hangs off one. Each span is a
    child of its parent only, so walking down from the roots meets every span
    once unless some parent links form a cycle; only then are the spans not met
    looked at, each once.
    """
    total = len(trace.spans)
    met, level = 0, list(trace.roots)
    while level and met <= total:  # a level at a time, in C: a million spans in a blink
        met += len(level)
        level = list(chain.from_iterable(map(_CHILDREN, level)))
    if met == total:
        return []
    reached: set[int] = set()
    stack = list(trace.roots)
    while stack:
        span = stack.pop()
        if id(span) not in reached:
            reached.add(id(span))
            stack.extend(span.children)
    by_id = {s.span_id: s for s in trace.spans if id(s) not in reached}
    found: list[list[Span]] = []
    for span in trace.spans:
        if id(span) in reached:
            continue
        # Up the parent links until a span repeats (a cycle) or the links end.
        path: dict[int, Span] = {}
        current: Span | None = span
        while current is not None and id(current) not in path and id(current) not in reached:
            path[id(current)] = current
            current = by_id.get(current.parent) if current.parent is not None else None
        if current is not None and id(current) in path:
            upward = list(path.values())
            members = upward[upward.index(current) :]
            members.sort(key=lambda s: s.seq)
            found.append(members)
            stack = [members[0]]
            while stack:
                below = stack.pop()
                if id(below) not in reached:
                    reached.add(id(below))
                    stack.extend(below.children)
        reached.update(path)
    return found


def _start_key(span: Span) -> tuple[float, int]:
    return (span.start_ts if span.start_ts is not None else float("inf"), span.seq)


def span_sql(
    model: Model, span: Span, *, same_process: bool = True
) -> tuple[list[SqlRec], SqlReport]:
    """The span's statements (with its same-process descendants'), in time order, analysed."""
    spans = subtree(span, same_process=same_process)
    statements = sorted((r for s in spans for r in s.sql), key=lambda r: r.at)
    return statements, analyze_sql(statements, n_plus_one=model.n_plus_one)


def trace_sql(model: Model, trace: Trace) -> tuple[list[SqlRec], SqlReport]:
    """Every statement of the trace, across services, analysed."""
    statements = sorted((r for s in trace.spans for r in s.sql), key=lambda r: r.at)
    return statements, analyze_sql(statements, n_plus_one=model.n_plus_one)
