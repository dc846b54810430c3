"""What ``dm-explore mcp`` answers a coding agent: JSON-ready dicts read from the model.

Each function takes a :class:`~dm_explore.model.Model` (held under its lock by
the caller) and returns one plain dict; :func:`dm_explore.outputs.capping.cap`
then bounds its size. The figures are the model's and the report's
(:func:`~dm_explore.model.filter_requests`, :func:`~dm_explore.model.span_sql`,
:func:`~dm_explore.model.trace_rows`, :mod:`dm_explore.outputs.report`'s SQL
groups), so an agent sees what the TUI and ``dm-explore report`` show.

Times are RFC 3339 in UTC (``...Z``); durations are milliseconds. Every string
that came from a file is data written by the monitored application, never an
instruction.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections.abc import Sequence
from itertools import compress
from typing import Any, Literal

from dm_log.contract import format_time

from ..model import Issue, Model, RequestFilter, Span, SqlRec, span_sql, subtree, trace_rows
from ..model.findings import Finding
from .report import _group

__all__ = [
    "IssueKind",
    "NewestFirst",
    "get_issue",
    "get_request",
    "get_trace",
    "list_commands",
    "list_issues",
    "list_requests",
]

_SQL_TEXT = 2000  # characters of one statement kept in a list of statements
SCAN_BUDGET_S = 0.04  # the longest list_requests looks through requests for matches

IssueKind = Literal["errors", "findings", "both"]


def when(epoch: float | None) -> str | None:
    """An instant as RFC 3339 UTC with milliseconds, or None."""
    return None if epoch is None else format_time(epoch, utc=True, iso=True)


def _span_row(span: Span) -> dict[str, Any]:
    """What a list shows of a span."""
    row: dict[str, Any] = {
        "ref": span.ref,  # <trace>-<span>: names the span even when a span id repeats
        "span": span.span_id,
        "trace": span.trace,
        "kind": span.kind,
        "svc": span.svc,
        "name": span.name,
        "started": when(span.start_ts),
        "ms": span.ms,
        "outcome": span.outcome,
    }
    if span.kind in ("request", "http"):
        row["status"] = span.status
    elif span.result is not None:
        row["result"] = span.result
    if span.errors:
        row["errors"] = span.errors
    return row


class NewestFirst:
    """Every request of a model, in ``filter_requests(order="newest")`` order, kept up to date.

    Sorting every request per call costs too much on a large folder; this keeps them
    sorted (ascending: the newest last) and each :meth:`update` takes in only the
    requests that arrived since the one before. Requests the model evicted are skipped
    when read, and dropped once they make a tenth of the list.
    """

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._keys: list[tuple[float, int]] = []
        self._newest_seen: Span | None = None

    def update(self, model: Model) -> None:
        """Take in the requests that arrived since the last update (the model lock held)."""
        fresh: list[Span] = []
        for span in reversed(model.requests.values()):  # newest arrivals first
            if span is self._newest_seen:
                break
            fresh.append(span)
        if not fresh:
            return
        self._newest_seen = fresh[0]
        keys, spans = self._keys, self.spans
        pairs = sorted(((_newest_key(span), span) for span in fresh), key=lambda pair: pair[0])
        if not keys or pairs[0][0] > keys[-1]:  # a live folder: all newer than any before
            keys.extend(key for key, _ in pairs)
            spans.extend(span for _, span in pairs)
        elif len(fresh) > 64:  # a folder being read: one sort of two sorted runs
            pairs = list(zip(keys, spans, strict=True)) + pairs
            pairs.sort(key=lambda pair: pair[0])
            self._keys = [key for key, _ in pairs]
            self.spans = [span for _, span in pairs]
        else:
            for key, span in pairs:
                at = bisect.bisect_right(keys, key)
                keys.insert(at, key)
                spans.insert(at, span)
        if len(self.spans) > len(model.requests) * 1.1 + 100:
            present = model.requests
            kept = [present.get(s.key) is s for s in self.spans]
            self._keys = list(compress(self._keys, kept))
            self.spans = list(compress(self.spans, kept))


def _newest_key(span: Span) -> tuple[float, int]:
    return (span.start_ts or span.end_ts or 0.0, span.seq)


def list_requests(
    model: Model,
    index: NewestFirst,
    *,
    text: str = "",
    service: str = "",
    status: str = "",
    slow_ms: float | None = None,
    errors: bool = False,
    in_flight: bool = False,
    limit: int = 50,
    start: int = 0,
    budget_s: float = SCAN_BUDGET_S,
) -> dict[str, Any]:
    """Requests matching the TUI's filters, newest first, at most ``limit``.

    Reads ``index`` (brought up to date here) from the newest request back, past the
    ``start`` newest, and stops at the ``limit + 1``-th match or after ``budget_s``
    seconds of looking. When matches may remain (more than ``limit``, or the search
    ran out of time), ``next_start`` is the ``start`` that goes on from there.
    """
    flt = RequestFilter(
        text=text,
        service=service,
        status=status,
        slow_ms=slow_ms,
        errors_only=errors,
        in_flight_only=in_flight,
    )
    index.update(model)
    present, matches, spans = model.requests, flt.matches, index.spans
    found: list[tuple[int, Span]] = []
    deadline = time.perf_counter() + budget_s
    position = start = max(start, 0)
    timed_out = False
    for position in range(start, len(spans)):
        span = spans[-1 - position]
        if present.get(span.key) is span and matches(span):
            found.append((position, span))
            if len(found) > limit:
                break
        if not (position - start + 1) % 1024 and time.perf_counter() > deadline:
            timed_out = True
            break
    shown = found[: max(limit, 0)]
    rows = []
    for _position, span in shown:
        row = _span_row(span)
        row["queries"] = span.queries
        if span.view:
            row["view"] = span.view
        rows.append(row)
    answer: dict[str, Any] = {"requests_in_folder": len(present), "requests": rows}
    if len(found) > len(shown):
        answer["next_start"] = shown[-1][0] + 1 if shown else found[0][0]
    elif timed_out:
        answer["next_start"] = position + 1
        answer["searched"] = (
            f"requests {start} to {position} from the newest, of {len(spans)}: the search"
            f" stopped after {budget_s * 1000:.0f} ms; call again with start={position + 1}"
            " to search older ones"
        )
    return answer


def _sql_row(rec: SqlRec, flags: list[str], svc: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "at": when(rec.ts),
        "ms": rec.ms,
        "sql": rec.sql[:_SQL_TEXT],
        "params": rec.args,
        "site": rec.site_text() or None,
        "svc": svc,
    }
    if flags:
        row["flags"] = flags
    if rec.error:
        row["error"] = rec.error
    if rec.many:
        row["many"] = True
    return row


def _sql(model: Model, span: Span) -> dict[str, Any]:
    """The span's statements in time order, flagged, and their groups."""
    statements, report = span_sql(model, span)
    svc = {id(r): s.svc for s in subtree(span) for r in s.sql}
    rows = []
    for rec in statements:
        key = id(rec)
        flags = [
            name
            for name, ids in (
                ("duplicate", report.duplicate_ids),
                ("similar", report.similar_ids),
                ("n+1", report.n_plus_one_ids),
            )
            if key in ids
        ]
        rows.append(_sql_row(rec, flags, svc.get(key, span.svc)))
    return {
        "count": report.count,
        "ms": round(report.total_ms, 3),
        "n_plus_one": [_group(g) for g in report.n_plus_one],
        "duplicates": [_group(g) for g in report.duplicates],
        "similar": [_group(g) for g in report.similar],
        "statements": rows,
    }


def get_request(model: Model, span_id: str) -> dict[str, Any]:
    """One span (a request, task, command...): overview, SQL, logs, exceptions, panels.

    SQL, logs, exceptions and panels are those of the span and of the spans under it
    in the same process (what the TUI's request detail shows); calls into other
    services are listed under ``calls`` (see ``get_trace`` for their work). A panel
    the writer refused is an entry of type ``refused`` in its place among the panel's
    entries, with ``errors`` and ``call`` (the line that sent it).
    """
    span = model.span(span_id)
    if span is None:
        root = model.trace(span_id)
        span = root.root() if root is not None else None
    if span is None:
        return {"error": f"no span or trace {span_id!r} (list_requests gives their ids)"}
    spans = list(subtree(span))
    overview = _span_row(span)
    overview.update(
        host=span.process[1],
        pid=span.process[2],
        parent=span.parent,
        ended=when(span.end_ts),
        start=span.start,
        end=span.end,
    )
    logs = sorted(((r, s) for s in spans for r in s.logs), key=lambda pair: pair[0].at)
    exceptions = [{**e, "span": s.span_id, "svc": s.svc} for s in spans for e in s.exceptions]
    panels = [
        {"span": s.span_id, "title": title, "entries": entries}
        for s in spans
        for title, entries in s.panels.items()
    ]
    calls = [
        _span_row(child) for s in spans for child in s.children if child.process != span.process
    ]
    return {
        "overview": overview,
        "sql": _sql(model, span),
        "logs": [
            {
                "at": when(rec.ts),
                "level": rec.level,
                "logger": rec.logger,
                "msg": rec.msg,
                "site": rec.site or None,
                **({"fields": rec.fields} if rec.fields else {}),
            }
            for rec, _span in logs
        ],
        "exceptions": exceptions,
        "panels": panels,
        "calls": calls,
        "spans_under": [_span_row(s) for s in spans[1:]],
    }


def get_trace(model: Model, trace_id: str) -> dict[str, Any]:
    """The trace as a depth-first tree across services, with offsets and durations."""
    trace = model.trace(trace_id)
    if trace is None:
        return {"error": f"no trace {trace_id!r} (an id, or a unique prefix of one)"}
    rows = []
    for row in trace_rows(trace):
        item = _span_row(row.span)
        item.update(
            depth=row.depth,
            parent=row.span.parent,
            offset_ms=round(row.offset_ms, 3),
            queries=len(row.span.sql),
        )
        if row.waiting:
            item["waiting_for_parent"] = True
        rows.append(item)
    first, last = trace.first_ts, trace.last_ts
    return {
        "trace": trace.trace_id,
        "services": sorted(trace.services),
        "started": when(first),
        "ms": round((last - first) * 1000, 3) if first is not None and last is not None else None,
        "spans": rows,
    }


def _issue_row(issue: Issue) -> dict[str, Any]:
    return {
        "fingerprint": issue.fingerprint,
        "kind": "error",
        "type": issue.type,
        "message": issue.message,
        "count": issue.count,
        "handled": issue.handled,
        "first_seen": when(issue.first_seen),
        "last_seen": when(issue.last_seen),
        "services": sorted(issue.services),
        "last_span": issue.spans[-1] if issue.spans else None,
    }


def _finding_row(finding: Finding) -> dict[str, Any]:
    return {
        "fingerprint": finding.fingerprint,
        "kind": finding.kind,
        "svc": finding.svc,
        "where": finding.where,
        "site": finding.site or None,
        "subject": finding.subject,
        "units": finding.units,
        "occurrences": finding.occurrences,
        "per_unit": [finding.min_per_unit, finding.max_per_unit],
        "ms": round(finding.total_ms, 3),
        "first_seen": when(finding.first_seen),
        "last_seen": when(finding.last_seen),
        "example": f"{finding.example_trace}-{finding.example_span}",
    }


def list_issues(
    model: Model,
    findings: Sequence[Finding] = (),
    *,
    kind: IssueKind = "both",
    limit: int = 50,
    searched_at: float | None = None,
) -> dict[str, Any]:
    """Errors grouped by fingerprint, the most recently seen first, and ``findings``
    (performance problems, most widespread first), each list at most ``limit``.

    ``findings`` is the list as last searched (at ``searched_at``), not searched here:
    a search reads every span.
    """
    answer: dict[str, Any] = {}
    if kind != "findings":
        issues = heapq.nlargest(
            max(limit, 0), model.issues.values(), key=lambda i: (i.last_seen, i.count)
        )
        answer.update(
            total=len(model.issues),
            shown=len(issues),
            issues=[_issue_row(issue) for issue in issues],
        )
    if kind != "errors":
        answer.update(
            findings_total=len(findings),
            findings_searched=when(searched_at),
            findings=[_finding_row(f) for f in findings[: max(limit, 0)]],
        )
    return answer


def get_issue(
    model: Model, fingerprint: str, findings: Sequence[Finding] = (), *, spans: int = 20
) -> dict[str, Any]:
    """One issue: its latest exception with frames, and the spans it happened in; or
    one finding: its example span and the traces it showed up in."""
    issue = model.issues.get(fingerprint)
    if issue is None:
        found = [i for fp, i in model.issues.items() if fp.startswith(fingerprint)]
        issue = found[0] if len(found) == 1 and fingerprint else None
    if issue is None:
        finding = _one_finding(findings, fingerprint)
        if finding is not None:
            return _finding_detail(model, finding, spans)
        return {"error": f"no issue {fingerprint!r} (list_issues gives their fingerprints)"}
    where = []
    for span_id in reversed(issue.spans[-spans:]):
        span = model.span(span_id)
        if span is not None:
            where.append(_span_row(span))
    return {**_issue_row(issue), "example": issue.example, "spans": where}


def _one_finding(findings: Sequence[Finding], fingerprint: str) -> Finding | None:
    found = [f for f in findings if f.fingerprint.startswith(fingerprint)]
    exact = [f for f in found if f.fingerprint == fingerprint]
    if exact:
        return exact[0]
    return found[0] if len(found) == 1 and fingerprint else None


def _finding_detail(model: Model, finding: Finding, spans: int) -> dict[str, Any]:
    """A finding, its worst unit (the span, with its flagged SQL) and its newest traces."""
    detail = _finding_row(finding)
    example = model.span(detail["example"])
    if example is not None:
        detail["example_span"] = _span_row(example)
        detail["example_sql"] = _sql(model, example)
    detail["traces"] = list(reversed(finding.traces[-spans:]))
    return detail


def list_commands(model: Model, *, limit: int = 50) -> dict[str, Any]:
    """Management command runs, newest first, with status and progress."""
    now = model.now()
    runs = [run for runs in model.command_runs.values() for run in runs]
    newest = heapq.nlargest(max(limit, 0), runs, key=lambda r: (r.start_ts or 0.0, r.seq))
    rows = []
    for run in newest:
        row = _span_row(run)
        row.update(
            status=model.command_status(run, now),
            host=run.process[1],
            pid=run.process[2],
            params=run.start.get("params"),
            progress=run.progress,
        )
        end = run.end or {}
        if end.get("exc_type"):
            row["exception"] = f"{end.get('exc_type')}: {end.get('exc_message')}"
        rows.append(row)
    return {
        "total": len(runs),
        "shown": len(rows),
        "by_status": model.commands_by_status(now),
        "runs": rows,
    }
