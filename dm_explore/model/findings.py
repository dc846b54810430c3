"""Findings: performance problems grouped by fingerprint, the way errors are grouped into issues.

A *unit* is a request, task, command or test span, or a custom ``span`` at the
root of its trace (a test run's shared fixture setup, a script's own top-level
span), with the spans under it in its own process, down to (not into) the next
unit: a request made through Django's test client is its own unit, not part of
its test's. Each unit is examined alone;
what it shows is grouped across units into :class:`Finding` rows, one per
``(kind, service, where, call site, subject)``:

- ``n_plus_one``: one statement shape from one call site run at least
  ``n_plus_one`` times in one unit with differing parameters;
- ``duplicate_query``: the same statement with the same parameters at least
  ``duplicates`` times in one unit;
- ``n_plus_one_api``: one outgoing method and URL pattern (ids replaced, query
  string and port left out) at least ``n_plus_one_api`` times in one trace, from
  one endpoint;
- ``consecutive_http``: at least ``consecutive_http`` outgoing calls made one
  after the other (each starting after the one before ended) from one span. The
  files cannot show whether a call used the answer of the one before, so such a
  run is a candidate for running the calls concurrently, to be confirmed by
  reading the code;
- ``slow_query``: a statement slower than ``slow_query_ms``.

Transaction control (:func:`~dm_explore.model.sql_kinds.is_transaction_control`)
is never a finding. The fingerprint leaves line numbers and the folder a file
lives in out, so that an edit above the loop, or another checkout of the same
code, keeps it: two runs can be compared by fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .model import Model
from .records import Span, SqlRec
from .sql_kinds import is_transaction_control, normalize_sql

__all__ = [
    "KINDS",
    "UNIT_KINDS",
    "Finding",
    "FindingOptions",
    "find_findings",
    "is_unit",
    "unit_spans",
    "unit_where",
    "url_pattern",
]

KINDS = ("n_plus_one", "duplicate_query", "n_plus_one_api", "consecutive_http", "slow_query")
UNIT_KINDS = frozenset({"request", "task", "command", "test"})
MAX_TRACES_PER_FINDING = 200

_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|(?=[^/]*\d)[A-Za-z0-9_-]{20,})$"
)
_URL = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/?#:]*)(?::\d+)?)?(?P<path>[^?#]*)"
)


@dataclass(slots=True, frozen=True)
class FindingOptions:
    """The thresholds of the detectors (the ``--n-plus-one`` ... options)."""

    n_plus_one: int = 5
    duplicates: int = 2
    n_plus_one_api: int = 5
    consecutive_http: int = 3
    slow_query_ms: float = 100.0


@dataclass(slots=True)
class Finding:
    """One performance problem, every unit it showed up in."""

    fingerprint: str
    kind: str
    svc: str
    where: str  # "GET api/courses/", a task, a command or a test id
    site: str  # the call site of the example ("file:line in func"), or the span the calls came from
    subject: str  # the statement's shape, "GET http://host/path/{id}/", or the calls in order
    units: int = 0  # requests, tasks, commands or tests (traces, for n_plus_one_api) affected
    occurrences: int = 0  # statements or calls involved, over all of them
    min_per_unit: int = 0
    max_per_unit: int = 0
    total_ms: float = 0.0
    first_seen: float = 0.0
    last_seen: float = 0.0
    example_trace: str = ""
    example_span: str = ""
    traces: list[str] = field(default_factory=list)  # newest last, bounded

    def add(self, per_unit: int, ms: float, when: float, trace: str, span: str) -> None:
        if self.units == 0:
            self.min_per_unit = self.max_per_unit = per_unit
            self.first_seen = self.last_seen = when
            self.example_trace, self.example_span = trace, span
        else:
            self.min_per_unit = min(self.min_per_unit, per_unit)
            self.first_seen = min(self.first_seen, when)
            if per_unit > self.max_per_unit:  # the worst case is the example to open
                self.example_trace, self.example_span = trace, span
            self.max_per_unit = max(self.max_per_unit, per_unit)
            self.last_seen = max(self.last_seen, when)
        self.units += 1
        self.occurrences += per_unit
        self.total_ms += ms
        self.traces.append(trace)
        if len(self.traces) > MAX_TRACES_PER_FINDING:
            del self.traces[0]


def url_pattern(url: str) -> str:
    """``scheme://host/path`` with id-like path segments as ``{id}``; no port, no query."""
    match = _URL.match(url or "")
    if match is None:  # pragma: no cover - the pattern matches any string
        return url
    path = "/".join(
        "{id}" if _ID_SEGMENT.match(part) else part for part in match.group("path").split("/")
    )
    host = match.group("host")
    return f"{match.group('scheme')}://{host}{path}" if host is not None else path


def is_unit(span: Span) -> bool:
    """Whether findings examine ``span`` as a unit: a request, task, command or test, or
    a custom span without a parent (a remote parent counts: that span is the caller's)."""
    return span.kind in UNIT_KINDS or (span.kind == "span" and span.parent is None)


def unit_where(span: Span) -> str:
    """What a unit is called across runs: ``METHOD route`` for a request, else its name."""
    if span.kind == "request":
        route = span.route if span.route is not None else url_pattern(span.target or "?")
        return f"{span.method or '?'} {route}"
    return span.target or span.kind


def unit_spans(unit: Span) -> Iterator[Span]:
    """The unit and the spans under it in its process, not entering another unit."""
    stack, seen = [unit], {id(unit)}
    while stack:
        current = stack.pop()
        yield current
        for child in current.children:
            if id(child) in seen or child.process != unit.process or child.kind in UNIT_KINDS:
                continue
            seen.add(id(child))
            stack.append(child)


def _site_key(site: tuple[str, int, str] | None) -> str:
    if site is None:
        return ""
    file, _line, func = site
    parts = str(file).replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{func}"


class _Collector:
    def __init__(self) -> None:
        self.found: dict[str, Finding] = {}

    def add(
        self, kind: str, svc: str, where: str, site_key: str, site: str, subject: str,
        per_unit: int, ms: float, unit: Span,
    ) -> None:  # fmt: skip
        key = f"{kind}|{svc}|{where}|{site_key}|{subject}"
        fp = hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:16]
        finding = self.found.get(fp)
        if finding is None:
            finding = self.found[fp] = Finding(fp, kind, svc, where, site, subject)
        when = unit.start_ts if unit.start_ts is not None else (unit.end_ts or 0.0)
        finding.add(per_unit, ms, when, unit.trace, unit.span_id)


def _sql_findings(
    out: _Collector, unit: Span, where: str, statements: list[SqlRec], options: FindingOptions
) -> None:
    groups: dict[tuple[str, str], list[SqlRec]] = defaultdict(list)
    slow: dict[tuple[str, str], list[SqlRec]] = defaultdict(list)
    for rec in statements:
        if is_transaction_control(rec.sql):
            continue
        key = (normalize_sql(rec.sql), _site_key(rec.site))
        groups[key].append(rec)
        if rec.ms > options.slow_query_ms:
            slow[key].append(rec)
    svc = unit.svc
    for (shape, site_key), recs in groups.items():
        if len(recs) < min(options.duplicates, options.n_plus_one):
            continue
        same: dict[tuple[str, str], int] = defaultdict(int)
        for rec in recs:
            same[(rec.sql, rec.params)] += 1
        site = recs[0].site_text()
        ms = sum(r.ms for r in recs)
        if len(recs) >= options.n_plus_one and len(same) > 1:
            out.add("n_plus_one", svc, where, site_key, site, shape, len(recs), ms, unit)
        repeated = max(same.values())
        if repeated >= options.duplicates:
            out.add("duplicate_query", svc, where, site_key, site, shape, repeated, ms, unit)
    for (shape, site_key), recs in slow.items():
        ms = sum(r.ms for r in recs)
        out.add("slow_query", svc, where, site_key, recs[0].site_text(), shape, len(recs), ms, unit)


def _call_name(span: Span) -> str:
    return f"{span.method or '?'} {url_pattern(span.target or '')}"


def _consecutive(out: _Collector, unit: Span, where: str, spans: list[Span], least: int) -> None:
    """Runs of outgoing calls under one span, each starting after the one before it ended."""
    for parent in spans:
        calls = [c for c in parent.children if c.kind == "http" and c.start_ts is not None]
        if len(calls) < least:
            continue
        calls.sort(key=lambda c: (c.start_ts or 0.0, c.seq))
        run: list[Span] = []
        for call in [*calls, None]:
            if call is not None and run and _ends(run[-1]) <= (call.start_ts or 0.0):
                run.append(call)
                continue
            if len(run) >= least:
                names: list[str] = []
                for c in run:
                    name = _call_name(c)
                    if not names or names[-1] != name:
                        names.append(name)
                site = parent.name if parent is not unit else ""
                ms = sum(c.ms or 0.0 for c in run)
                out.add("consecutive_http", unit.svc, where, site, site, " ; ".join(names),
                        len(run), ms, unit)  # fmt: skip
            run = [call] if call is not None else []


def _ends(span: Span) -> float:
    if span.end_ts is not None:
        return span.end_ts
    return float("inf")  # still running: the next call overlaps it


def find_findings(
    model: Model, options: FindingOptions | None = None, *, spans: Iterable[Span] | None = None
) -> list[Finding]:
    """Every finding of ``model`` (or of the units among ``spans``), most widespread first."""
    options = options or FindingOptions()
    out = _Collector()
    api_calls: dict[tuple[str, str, str, str], list[Span]] = defaultdict(list)
    api_unit: dict[tuple[str, str, str, str], Span] = {}
    for unit in model.spans.values() if spans is None else spans:
        if not is_unit(unit):
            continue
        where = unit_where(unit)
        own = list(unit_spans(unit))
        statements = [rec for s in own for rec in s.sql]
        if statements:
            _sql_findings(out, unit, where, statements, options)
        calls = [c for s in own for c in s.children if c.kind == "http"]
        if len(calls) >= min(options.consecutive_http, options.n_plus_one_api):
            _consecutive(out, unit, where, own, options.consecutive_http)
            for call in calls:
                key = (unit.trace, unit.svc, where, _call_name(call))
                api_calls[key].append(call)
                api_unit.setdefault(key, unit)
    for key, calls in api_calls.items():
        if len(calls) >= options.n_plus_one_api:
            _trace, svc, where, name = key
            ms = sum(c.ms or 0.0 for c in calls)
            out.add("n_plus_one_api", svc, where, "", "", name, len(calls), ms, api_unit[key])
    return sorted(out.found.values(), key=lambda f: (-f.units, -f.max_per_unit, f.fingerprint))
