"""``dm-explore report``: queries, repeats, slow spots and errors per test and per request.

:func:`build_report` reads a :class:`~dm_explore.model.Model` and returns one
plain dict (what ``--format json`` prints); text and markdown are renderings of
it (:mod:`dm_explore.outputs.render`). Definitions, all the model's:

- *queries* of a request or task: the ``sql`` events of its span and of the spans
  under it in the same process (:func:`~dm_explore.model.span_sql`, the count the
  explorer shows); of a test: of every span under it, in any process, fixtures
  and requests included.
- *duplicates*: the same SQL with the same parameters more than once;
  *N+1 suspect*: the same SQL with differing parameters at least
  ``model.n_plus_one`` times (:func:`~dm_explore.model.analyze_sql`).
- *errors*: every ``exception`` event, grouped by fingerprint (``model.issues``);
  Celery's ``Retry``, ``Ignore`` and ``Reject`` are flow control, not errors, and a
  request Django answered with a 4xx (``client_error``) writes none, so is not one.
- *findings*: N+1 suspects, duplicate queries, repeated and consecutive outgoing
  calls and slow queries grouped by fingerprint across requests
  (:func:`~dm_explore.model.findings.find_findings`): one row however many
  requests showed it, with how many did and an example trace.
- *invalid lines*: lines of the files that are not JSON or not a valid event;
  *refused events*: valid ``dm.invalid`` lines, calls the writer refused (a
  plugin's mistakes), counted by kind, the first ones listed under ``refused``
  with the line that made the call; a request's or task's refused panels are
  under its ``refused_panels``. Neither fails the report (``check`` does).
- *cache*: a unit's ``cache`` calls (same process), keys found (``hits``) and not
  (``misses``), and their time; the summary counts every call of the folder.

Thresholds: ``max_queries`` (more queries than that in one request or task) and
``max_duplicates`` (one statement run more than that many times with the same
parameters in one request or task) apply to requests and tasks; a test's count
includes its fixtures, so it is reported, never gated. ``fail_on_error`` fails
on any ``exception`` event, in a span or not. Each crossing is a line under
``thresholds.crossed``; ``failed`` is true when there is any.
"""

from __future__ import annotations

from typing import Any

from dm_log.contract import epoch_seconds

from ..model import Model, Span, SqlGroup, SqlReport, filter_requests, span_sql, subtree
from ..model.findings import Finding, FindingOptions, find_findings
from ..model.refused import refused_panels, refused_rows

__all__ = ["TOP", "build_report", "finding_row"]

TOP = 10
TOP_REFUSED = 20
_SQL_TEXT = 200
_FAILED_RESULTS = ("failed", "error")


def _group(group: SqlGroup) -> dict[str, Any]:
    return {
        "sql": group.sql[:_SQL_TEXT],
        "count": group.count,
        "ms": round(group.total_ms, 3),
        "sites": group.sites,
        "distinct_params": group.distinct_params,
    }


def _sql_stats(report: SqlReport) -> dict[str, Any]:
    """Counts, time, duplicates and N+1 suspects of one span's statements."""
    return {
        "queries": report.count,
        "sql_ms": round(report.total_ms, 3),
        "max_duplicates": max((g.count for g in report.duplicates), default=0),
        "duplicates": [_group(g) for g in report.duplicates],
        "n_plus_one": [_group(g) for g in report.n_plus_one],
    }


def finding_row(finding: Finding) -> dict[str, Any]:
    """One finding as JSON: what, where, how widespread, and the trace to open."""
    return {
        "fingerprint": finding.fingerprint,
        "kind": finding.kind,
        "svc": finding.svc,
        "where": finding.where,
        "site": finding.site or None,
        "subject": finding.subject[:_SQL_TEXT],
        "units": finding.units,
        "occurrences": finding.occurrences,
        "min_per_unit": finding.min_per_unit,
        "max_per_unit": finding.max_per_unit,
        "ms": round(finding.total_ms, 3),
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "example_trace": finding.example_trace,
        "example_span": finding.example_span,
    }


def _exception(event: dict[str, Any], span: Span) -> dict[str, Any]:
    return {
        "type": event.get("type"),
        "message": event.get("message"),
        "fingerprint": event.get("fingerprint"),
        "svc": span.svc,
    }


def _errors_under(spans: list[Span]) -> list[dict[str, Any]]:
    found = [(e, s) for s in spans for e in s.exceptions]
    found.sort(key=lambda pair: epoch_seconds(pair[0].get("ts")) or 0.0)  # instants, any offset
    return [_exception(e, s) for e, s in found]


def _unit_row(model: Model, span: Span) -> dict[str, Any]:
    """A request or a task: its own work, in its own process."""
    spans = list(subtree(span))
    return {
        "kind": span.kind,
        "svc": span.svc,
        "trace": span.trace,
        "span": span.span_id,
        "name": span.name,
        "status": span.status if span.kind == "request" else span.result,
        "ms": span.ms if span.end_ts is not None else None,
        "outcome": span.outcome,
        **_sql_stats(span_sql(model, span)[1]),
        "cache": _cache_stats(spans),
        "errors": _errors_under(spans),
        "refused_panels": _refused_under(spans),
    }


def _refused_under(spans: list[Span]) -> list[dict[str, Any]]:
    """The panels the writer refused in ``spans``: title, errors and the calling line."""
    return [
        {"panel": title, "errors": entry["errors"], "call": entry["call"]}
        for s in spans
        for title, entry in refused_panels(s.panels)
    ]


def _cache_stats(spans: list[Span]) -> dict[str, Any]:
    """Cache calls of the spans: how many, keys found and not found, time."""
    calls = [rec for s in spans for rec in s.cache]
    return {
        "calls": len(calls),
        "hits": sum(c.found for c in calls),
        "misses": sum(c.misses for c in calls),
        "ms": round(sum(c.ms for c in calls), 3),
    }


def _test_row(model: Model, span: Span) -> dict[str, Any]:
    """A test: everything under it, in every process it reached."""
    spans = list(subtree(span, same_process=False))
    return {
        "nodeid": span.name,
        "result": span.result or ("unfinished" if span.end_ts is None else None),
        "message": span.field("message"),
        "ms": span.ms if span.end_ts is not None else None,
        "svc": span.svc,
        "trace": span.trace,
        **_sql_stats(span_sql(model, span, same_process=False)[1]),
        "requests": [
            {"name": s.name, "status": s.status, "svc": s.svc}
            for s in sorted(spans[1:], key=lambda s: (s.start_ts or 0.0, s.seq))
            if s.kind == "request"
        ],
        "errors": _errors_under(spans),
    }


def _crossed(
    rows: list[dict[str, Any]], model: Model, max_queries: int | None,
    max_duplicates: int | None, fail_on_error: bool,
) -> list[str]:  # fmt: skip
    crossed = []
    for row in rows:
        where = f"{row['name']} [{row['svc']}]"
        if max_queries is not None and row["queries"] > max_queries:
            crossed.append(f"{where}: {row['queries']} queries > {max_queries}")
        if max_duplicates is not None and row["max_duplicates"] > max_duplicates:
            crossed.append(
                f"{where}: one statement ran {row['max_duplicates']} times with the same"
                f" parameters > {max_duplicates}"
            )
    exceptions = model.totals["exceptions"]
    if fail_on_error and exceptions:
        crossed.append(f"{exceptions} exceptions recorded ({len(model.issues)} distinct)")
    return crossed


def build_report(
    model: Model,
    *,
    max_queries: int | None = None,
    max_duplicates: int | None = None,
    fail_on_error: bool = False,
    finding_options: FindingOptions | None = None,
) -> dict[str, Any]:
    """The whole report of ``model`` as one JSON-ready dict (see the module docstring).

    N+1 suspects are the model's: ``Model(n_plus_one=N)`` sets how many runs make one;
    ``finding_options`` the findings' thresholds (its ``n_plus_one`` is the model's
    unless given).
    """
    options = finding_options or FindingOptions(n_plus_one=model.n_plus_one)
    findings = find_findings(model, options)
    spans = sorted(model.spans.values(), key=lambda s: (s.start_ts or s.end_ts or 0.0, s.seq))
    units = [_unit_row(model, s) for s in spans if s.kind in ("request", "task")]
    tests = [_test_row(model, s) for s in spans if s.kind == "test"]
    slowest_requests = [s for s in filter_requests(model, order="slowest") if s.end_ts is not None]
    by_span = {(row["trace"], row["span"]): row for row in units}
    sql = sorted(((r, s) for s in spans for r in s.sql), key=lambda pair: -pair[0].ms)[:TOP]
    issues = sorted(model.issues.values(), key=lambda i: (-i.count, i.fingerprint))
    crossed = _crossed(units, model, max_queries, max_duplicates, fail_on_error)
    return {
        "summary": {
            "tests": len(tests),
            "failed_tests": sum(t["result"] in _FAILED_RESULTS for t in tests),
            "requests": sum(r["kind"] == "request" for r in units),
            "tasks": sum(r["kind"] == "task" for r in units),
            "queries": model.totals["sql"],
            "exceptions": model.totals["exceptions"],
            "cache_calls": model.totals["cache"],
            "cache_hits": model.totals["cache_hits"],
            "cache_misses": model.totals["cache_misses"],
            "unfinished_spans": sum(s.end_ts is None for s in spans),
            "findings": len(findings),
            "retried_tasks": sum(s.kind == "task" and s.result == "RETRY" for s in spans),
            "invalid_lines": model.totals["invalid_lines"],
            "refused_events": model.totals["refused"],
            "refused_by_kind": dict(model.refused),
        },
        "refused": refused_rows(model, TOP_REFUSED),
        "findings": [finding_row(f) for f in findings],
        "failing_tests": [t for t in tests if t["result"] in _FAILED_RESULTS],
        "tests": tests,
        "requests": units,
        "slowest_requests": [by_span[s.key] for s in slowest_requests[:TOP]],
        "slowest_queries": [
            {
                "ms": rec.ms,
                "sql": rec.sql[:_SQL_TEXT],
                "svc": span.svc,
                "site": rec.site_text() or None,
                "trace": span.trace,
            }
            for rec, span in sql
        ],
        "n_plus_one": [
            {**suspect, "request": row["name"], "svc": row["svc"], "trace": row["trace"]}
            for row in units
            for suspect in row["n_plus_one"]
        ],
        "errors": [
            {
                "type": issue.type,
                "message": issue.message,
                "fingerprint": issue.fingerprint,
                "count": issue.count,
                "services": sorted(issue.services),
            }
            for issue in issues
        ],
        "thresholds": {
            "max_queries": max_queries,
            "max_duplicates": max_duplicates,
            "n_plus_one": model.n_plus_one,
            "fail_on_error": fail_on_error,
            "findings": {
                "n_plus_one": options.n_plus_one,
                "duplicates": options.duplicates,
                "n_plus_one_api": options.n_plus_one_api,
                "consecutive_http": options.consecutive_http,
                "slow_query_ms": options.slow_query_ms,
            },
            "crossed": crossed,
        },
        "failed": bool(crossed),
    }
