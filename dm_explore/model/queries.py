"""Read-only questions views ask of the model: filtered request lists, trees, SQL per span."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dm_log.contract import HEX_DIGITS

from .model import Model, Trace
from .records import Span, SqlRec, subtree
from .sqlstats import SqlReport, analyze_sql

__all__ = [
    "RequestFilter",
    "TreeRow",
    "filter_requests",
    "find_trace",
    "names_trace",
    "span_sql",
    "subtree",
    "trace_id_of",
    "trace_rows",
    "trace_sql",
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
    """One line of a trace tree: the span, its depth, and its place on the waterfall."""

    span: Span
    depth: int
    offset_ms: float  # start, relative to the trace's first start
    waiting: bool  # an orphan: its parent has not arrived


def trace_rows(trace: Trace) -> list[TreeRow]:
    """The trace as a depth-first list, children in start order, orphans after the roots."""
    first = min((s.start_ts for s in trace.spans if s.start_ts is not None), default=0.0)
    rows: list[TreeRow] = []
    # Iterative, so a chain thousands of spans deep cannot hit the recursion limit;
    # the stack holds (span, depth, waiting), the next row on top.
    stack = [(root, 0, root.parent is not None) for root in sorted(trace.roots, key=_start_key)]
    stack.reverse()
    seen: set[str] = set()
    while stack:
        span, depth, waiting = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        rows.append(TreeRow(span, depth, ((span.start_ts or first) - first) * 1000, waiting))
        stack.extend(
            (c, depth + 1, False) for c in sorted(span.children, key=_start_key, reverse=True)
        )
    return rows


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
