"""What a folder holds, in numbers: the data of ``dm-explore summary``.

:func:`summarize` gives one JSON-ready dict. Keys (always present): ``files``
(int), ``services`` (list of names), ``processes`` (int), ``events`` (int),
``requests`` (int), ``traces`` (int), ``issues`` (int), ``exceptions`` (int),
``commands`` (status -> count), ``cache`` (``{calls, hits, misses}``),
``invalid_lines`` (int: lines that are not JSON or not a valid event, in the
files), ``refused_events`` (int: calls the writer refused and wrote as
``dm.invalid``: a plugin's mistakes, valid lines themselves), ``refused_by_kind``
(kind -> count), ``refused`` (list of ``{kind, panel, errors, call, svc, trace,
span}``, the first 20), ``dropped`` (int: events
writers reported lost), ``capped_files`` (list of paths), ``problems`` (list of
``{path, line, reason}``, the first 100: paths never read, a folder that cannot be
listed, bad lines, and a file whose last line is unfinished), ``unfinished_files``
(list of paths: no newline at their end, or a compressed stream cut off),
``slowest_requests`` (list of ``{svc,
method, path, status, ms, trace}``), ``n_plus_one`` (list of ``{svc, request, sql,
count, sites}``), ``findings`` (int: findings grouped by fingerprint) and
``top_findings`` (the most widespread, as ``dm-explore report`` lists them).
"""

from __future__ import annotations

from typing import Any

from ..model import Model, Problem, filter_requests, span_sql
from ..model.findings import FindingOptions, find_findings
from ..model.refused import refused_rows
from .report import finding_row

__all__ = ["TOP", "summarize"]

TOP = 10
TOP_REFUSED = 20
UNFINISHED = "unfinished last line (no newline yet, or cut off): not read"


def summarize(
    model: Model, path_problems: list[Problem], finding_options: FindingOptions | None = None
) -> dict[str, Any]:
    """The summary as one JSON-ready dict; ``path_problems``: paths never read."""
    findings = find_findings(model, finding_options or FindingOptions(n_plus_one=model.n_plus_one))
    slowest = filter_requests(model, order="slowest")[:TOP]
    suspects: list[dict[str, Any]] = []
    for span in model.requests.values():
        if span.queries < model.n_plus_one:
            continue
        for group in span_sql(model, span)[1].n_plus_one:
            suspects.append(
                {
                    "svc": span.svc,
                    "request": span.name,
                    "sql": group.sql,
                    "count": group.count,
                    "sites": group.sites,
                    "trace": span.trace,
                }
            )
    suspects.sort(key=lambda s: -s["count"])
    problems = [{"path": p.path, "line": p.line, "reason": p.reason} for p in path_problems]
    unfinished = [info.path for info in model.files.values() if info.partial]
    problems.extend({"path": path, "line": 0, "reason": UNFINISHED} for path in unfinished)
    for info in model.files.values():
        problems.extend({"path": p.path, "line": p.line, "reason": p.reason} for p in info.problems)
    return {
        "files": len(model.files),
        "services": model.services(),
        "processes": len(model.processes),
        "events": model.totals["events"],
        "requests": model.totals["requests"],
        "traces": model.totals["traces"],
        "issues": len(model.issues),
        "exceptions": model.totals["exceptions"],
        "commands": model.commands_by_status(),
        "cache": {
            "calls": model.totals["cache"],
            "hits": model.totals["cache_hits"],
            "misses": model.totals["cache_misses"],
        },
        "invalid_lines": sum(info.invalid for info in model.files.values()),
        "refused_events": model.totals["refused"],
        "refused_by_kind": dict(model.refused),
        "refused": refused_rows(model, TOP_REFUSED),
        "dropped": model.totals["dropped"],
        "capped_files": [info.path for info in model.files.values() if info.capped],
        "unfinished_files": unfinished,
        "problems": problems[:100],
        "slowest_requests": [
            {
                "svc": s.svc,
                "method": s.method,
                "path": s.target,
                "status": s.status,
                "ms": s.ms,
                "trace": s.trace,
            }
            for s in slowest
        ],
        "n_plus_one": suspects[:TOP],
        "findings": len(findings),
        "top_findings": [finding_row(f) for f in findings[:TOP]],
    }
