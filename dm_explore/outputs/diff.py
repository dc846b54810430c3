"""``dm-explore diff BASE HEAD``: what changed between two runs, per endpoint and per test.

:func:`run_stats` reduces one model to the figures compared: per endpoint (``svc
METHOD route``, ``svc task NAME``, ``svc command NAME``) and per test (its node
id): runs, queries per run (median and most), N+1 and duplicate-query findings,
p50 and p95 ms (a test's without the shared fixtures set up or torn down in it,
:mod:`~dm_explore.model.shared_fixtures`); and the fingerprints of its findings
and errors.
:func:`compare` lines two of them up and applies the thresholds; the result is
one JSON-ready dict (what ``--format json`` prints)::

    {"base": ..., "head": ...,
     "endpoints": [{"key", "kind", "base", "head", "change", "crossed"}, ...],
     "tests": [...same shape...],
     "new_findings": [...], "fixed_findings": [...], "new_errors": [...], "fixed_errors": [...],
     "thresholds": {...}, "crossed": [str, ...], "failed": bool}

``base`` and ``head`` of an entry are ``{"requests", "queries_per_request",
"queries_max", "n_plus_one", "duplicates", "p50_ms", "p95_ms"}`` or None where
the endpoint or test did not run. ``change`` is ``worse``, ``better``, ``same``,
``new`` (only in HEAD) or ``gone`` (only in BASE).

Query counts are robust: the same code on the same data runs the same statements
on any machine, so ``--max-query-increase`` can be 0. Times are not: a shared CI
machine easily doubles a few milliseconds, so a time counts only above ``min_ms``
(a p50 below it is taken as ``min_ms``), ``--max-slowdown`` compares p50s (p95 is
shown, never gated), and an entry is worse or better by its query, N+1 and
duplicate counts first; by its p50 only when those are equal, and only from
:data:`NOTICE_SLOWDOWN` (or the gate, when it is set lower).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import Model, Span, percentile, subtree
from ..model.endpoints import endpoint_stats
from ..model.findings import Finding, FindingOptions, find_findings, is_unit
from ..model.shared_fixtures import shared_fixture_ms
from .report import finding_row

__all__ = ["DEFAULT_MIN_MS", "NOTICE_SLOWDOWN", "RunStats", "Thresholds", "compare", "run_stats"]

DEFAULT_MIN_MS = 5.0
NOTICE_SLOWDOWN = 1.5  # a p50 this much slower is listed as worse, gated or not


@dataclass(slots=True, frozen=True)
class Thresholds:
    """When ``diff`` fails (exit 1); None or False: not gated."""

    max_query_increase: int | None = None
    max_slowdown: float | None = None
    min_ms: float = DEFAULT_MIN_MS
    fail_on_new_errors: bool = False
    fail_on_new_findings: bool = False


@dataclass(slots=True)
class RunStats:
    """The figures of one run that ``compare`` lines up."""

    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # endpoint key -> request, task, command
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _figures(
    runs: int, queries: list[int], ms: list[float], found: Iterable[Finding]
) -> dict[str, Any]:
    found = list(found)
    ordered = sorted(ms)
    return {
        "requests": runs,
        "queries_per_request": _median([float(q) for q in queries]),
        "queries_max": max(queries, default=0),
        "n_plus_one": sum(f.kind == "n_plus_one" for f in found),
        "duplicates": sum(f.kind == "duplicate_query" for f in found),
        "p50_ms": round(percentile(ordered, 50), 3),  # nearest rank, as in `endpoints`
        "p95_ms": round(percentile(ordered, 95), 3),
    }


def _tests(model: Model, options: FindingOptions) -> dict[str, dict[str, Any]]:
    """Per test node id: its runs, every query under it (fixtures, requests, other
    services), the requests it made, and the findings of the units under it. Its time
    leaves out the shared fixtures set up or torn down in it: they are not its own,
    and which test meets them first depends on the order and the workers."""
    runs: dict[str, list[Span]] = {}
    for span in model.spans.values():
        if span.kind == "test" and span.end_ts is not None:
            runs.setdefault(span.name, []).append(span)
    shared = shared_fixture_ms(model.spans.values(), (t for ts in runs.values() for t in ts))
    out = {}
    for nodeid, spans in runs.items():
        queries, ms, found, requests = [], [], [], 0
        for test in spans:
            under = list(subtree(test, same_process=False))
            queries.append(sum(len(s.sql) for s in under))
            ms.append(max((test.ms or 0.0) - shared.get(test.key, 0.0), 0.0))
            requests += sum(s.kind == "request" for s in under)
            found += find_findings(model, options, spans=[s for s in under if is_unit(s)])
        entry = _figures(len(spans), queries, ms, found)
        entry["requests"] = requests
        entry["runs"] = len(spans)
        out[nodeid] = entry
    return out


def run_stats(model: Model, options: FindingOptions | None = None) -> RunStats:
    """The figures of ``model`` that ``diff`` compares."""
    options = options or FindingOptions(n_plus_one=model.n_plus_one)
    findings = find_findings(model, options)
    stats = RunStats()
    by_where: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        by_where.setdefault((finding.svc, finding.where), []).append(finding)
        stats.findings[finding.fingerprint] = finding_row(finding)
    for row in endpoint_stats(model, findings):
        stats.endpoints[row.key] = _figures(
            row.count, row.queries, row.durations, by_where.get((row.svc, row.name), ())
        )
        stats.kinds[row.key] = row.kind
    stats.tests = _tests(model, options)
    for issue in model.issues.values():
        stats.errors[issue.fingerprint] = {
            "fingerprint": issue.fingerprint,
            "type": issue.type,
            "message": issue.message,
            "count": issue.count,
            "services": sorted(issue.services),
        }
    return stats


def _entry(
    key: str, kind: str, base: dict[str, Any] | None, head: dict[str, Any] | None, t: Thresholds
) -> dict[str, Any]:
    crossed: list[str] = []
    worse: list[bool] = []
    better: list[bool] = []
    if base is not None and head is not None:
        grew = head["queries_per_request"] - base["queries_per_request"]
        if t.max_query_increase is not None and grew > t.max_query_increase:
            crossed.append(
                f"{key}: queries per request {base['queries_per_request']:g} -> "
                f"{head['queries_per_request']:g} (+{grew:g} > {t.max_query_increase})"
            )
        for name in ("queries_per_request", "n_plus_one", "duplicates"):
            worse.append(head[name] > base[name])
            better.append(head[name] < base[name])
        slower = max(head["p50_ms"], t.min_ms) / max(base["p50_ms"], t.min_ms)
        if t.max_slowdown is not None and slower > t.max_slowdown:
            crossed.append(
                f"{key}: p50 {base['p50_ms']:g} -> {head['p50_ms']:g} ms "
                f"({slower:.2f}x > {t.max_slowdown:g}x)"
            )
        if not any(worse) and not any(better):  # the counts decide; times only when equal
            notice = min(NOTICE_SLOWDOWN, t.max_slowdown or NOTICE_SLOWDOWN)
            worse.append(slower >= notice)
            better.append(slower <= 1 / notice)
    if base is None:
        change = "new"
    elif head is None:
        change = "gone"
    elif any(worse):
        change = "worse"
    elif any(better):
        change = "better"
    else:
        change = "same"
    return {"key": key, "kind": kind, "base": base, "head": head, "change": change,
            "crossed": crossed}  # fmt: skip


def compare(
    base: RunStats, head: RunStats, thresholds: Thresholds | None = None, *,
    base_name: str = "BASE", head_name: str = "HEAD",
) -> dict[str, Any]:  # fmt: skip
    """BASE and HEAD lined up, thresholds applied (see the module docstring)."""
    t = thresholds or Thresholds()
    endpoints = [
        _entry(
            key,
            head.kinds.get(key) or base.kinds.get(key, "request"),
            base.endpoints.get(key),
            head.endpoints.get(key),
            t,
        )
        for key in sorted(base.endpoints.keys() | head.endpoints.keys())
    ]
    tests = [
        _entry(key, "test", base.tests.get(key), head.tests.get(key), t)
        for key in sorted(base.tests.keys() | head.tests.keys())
    ]
    new_findings = [row for fp, row in head.findings.items() if fp not in base.findings]
    fixed_findings = [row for fp, row in base.findings.items() if fp not in head.findings]
    new_errors = [row for fp, row in head.errors.items() if fp not in base.errors]
    fixed_errors = [row for fp, row in base.errors.items() if fp not in head.errors]
    crossed = [c for entry in (*endpoints, *tests) for c in entry["crossed"]]
    if t.fail_on_new_errors and new_errors:
        crossed += [f"new error: {e['type']}: {e['message']}"[:300] for e in new_errors]
    if t.fail_on_new_findings and new_findings:
        crossed += [
            f"new finding: {f['kind']} {f['svc']} {f['where']}: {f['subject']}"[:300]
            for f in new_findings
        ]
    return {
        "base": base_name,
        "head": head_name,
        "endpoints": endpoints,
        "tests": tests,
        "new_findings": new_findings,
        "fixed_findings": fixed_findings,
        "new_errors": new_errors,
        "fixed_errors": fixed_errors,
        "thresholds": {
            "max_query_increase": t.max_query_increase,
            "max_slowdown": t.max_slowdown,
            "min_ms": t.min_ms,
            "fail_on_new_errors": t.fail_on_new_errors,
            "fail_on_new_findings": t.fail_on_new_findings,
        },
        "crossed": crossed,
        "failed": bool(crossed),
    }
