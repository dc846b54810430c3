"""Endpoint statistics: per (service, method, route), per task and per command.

Each row gathers every finished run of one endpoint: how many, how many failed,
latency percentiles and the most, queries per run (median and most) and the
findings made in its runs. A Celery attempt that ended asking for another
(``RETRY``) or stopped on purpose (``IGNORED``, ``REJECTED``) is counted as a
retry, not an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .findings import Finding, unit_where
from .metrics import percentile
from .model import Model
from .records import TASK_FLOW_STATES, Span

__all__ = ["ENDPOINT_KINDS", "NOT_FAILED_STATES", "EndpointStats", "endpoint_key", "endpoint_stats"]

ENDPOINT_KINDS = ("request", "task", "command")
NOT_FAILED_STATES = TASK_FLOW_STATES


@dataclass(slots=True)
class EndpointStats:
    """One endpoint, task or command over all its runs."""

    key: str  # "svc GET route", "svc task name", "svc command name"
    svc: str
    kind: str  # request, task or command
    name: str  # "GET route", the task's or the command's name
    count: int = 0
    errors: int = 0
    retries: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    queries_median: float = 0.0
    queries_max: int = 0
    findings: int = 0  # finding groups seen in its runs
    n_plus_one: int = 0  # of which N+1 suspects
    duplicates: int = 0  # of which duplicate queries
    example_trace: str = ""
    durations: list[float] = field(default_factory=list, repr=False)
    queries: list[int] = field(default_factory=list, repr=False)

    @property
    def error_rate(self) -> float:
        """Failed runs over runs, 0..1."""
        return self.errors / self.count if self.count else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "svc": self.svc,
            "kind": self.kind,
            "name": self.name,
            "count": self.count,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 4),
            "retries": self.retries,
            "p50_ms": round(self.p50_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "queries_median": self.queries_median,
            "queries_max": self.queries_max,
            "findings": self.findings,
            "n_plus_one": self.n_plus_one,
            "duplicates": self.duplicates,
            "example_trace": self.example_trace,
        }


def endpoint_key(span: Span) -> str:
    """``svc GET route`` (the route Django matched, else the path with ids replaced),
    ``svc task NAME`` or ``svc command NAME``."""
    if span.kind == "request":
        return f"{span.svc} {unit_where(span)}"
    return f"{span.svc} {span.kind} {span.target or '?'}"


def _failed(span: Span) -> bool:
    """The run itself failed: a 5xx, an error outcome, killed. A failure further down
    the trace (a task it queued, another service it called) is that one's."""
    if span.kind == "task" and span.result in NOT_FAILED_STATES:
        return False
    return span.outcome in ("error", "killed") or (span.status or 0) >= 500


def endpoint_stats(
    model: Model, findings: Iterable[Finding] = (), *, spans: Iterable[Span] | None = None
) -> list[EndpointStats]:
    """Every endpoint of ``model`` that has a finished run, busiest first."""
    table: dict[str, EndpointStats] = {}
    for span in model.spans.values() if spans is None else spans:
        if span.kind not in ENDPOINT_KINDS or span.end_ts is None:
            continue
        key = endpoint_key(span)
        stats = table.get(key)
        if stats is None:
            name = unit_where(span) if span.kind == "request" else (span.target or "?")
            stats = table[key] = EndpointStats(key, span.svc, span.kind, name)
        stats.count += 1
        if span.kind == "task" and span.result in NOT_FAILED_STATES:
            stats.retries += 1
        if _failed(span):
            stats.errors += 1
        stats.durations.append(span.ms or 0.0)
        stats.queries.append(span.queries)
        if not stats.example_trace or (span.ms or 0.0) >= stats.max_ms:
            stats.example_trace = span.trace
            stats.max_ms = span.ms or 0.0
    by_where: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        by_where[(finding.svc, finding.where)].append(finding)
    for stats in table.values():
        durations = sorted(stats.durations)
        stats.p50_ms = percentile(durations, 50)
        stats.p95_ms = percentile(durations, 95)
        stats.p99_ms = percentile(durations, 99)
        stats.max_ms = durations[-1]
        queries = sorted(stats.queries)
        middle = len(queries) // 2
        stats.queries_median = (
            float(queries[middle])
            if len(queries) % 2
            else (queries[middle - 1] + queries[middle]) / 2
        )
        stats.queries_max = queries[-1]
        found = by_where.get((stats.svc, stats.name), [])
        stats.findings = len(found)
        stats.n_plus_one = sum(f.kind == "n_plus_one" for f in found)
        stats.duplicates = sum(f.kind == "duplicate_query" for f in found)
    return sorted(table.values(), key=lambda s: (-s.count, s.key))
