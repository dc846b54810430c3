"""Text and markdown renderings of :func:`dm_explore.outputs.report.build_report`'s dict.

The markdown is meant for a CI job summary (``>> $GITHUB_STEP_SUMMARY``): a
verdict line first, then failing tests with what ran under them, thresholds
crossed, errors, the calls the writer refused (a plugin's mistakes, each with the
line that made it), findings (N+1 queries and API calls, duplicate and slow
queries, consecutive calls, each once with the number of runs it showed in),
the slowest requests and queries, and a table of requests by query count.

Every value that came from a file goes through :func:`dm_explore.textsafe.safe_line`:
no terminal control sequence reaches the log, and no newline breaks a table.
"""

from __future__ import annotations

from typing import Any

from ..model.refused import refused_words, site_text
from .textsafe import safe_line

__all__ = ["KIND_TITLES", "render_markdown", "render_text"]

_ROWS = 20
KIND_TITLES = {
    "n_plus_one": "N+1 queries",
    "duplicate_query": "duplicate query",
    "n_plus_one_api": "N+1 API calls",
    "consecutive_http": "consecutive HTTP calls",
    "slow_query": "slow query",
}


def _cell(value: Any, limit: int | None = None) -> str:
    """One markdown table cell or one text field: one line, safe, pipes escaped."""
    text = "" if value is None else safe_line(value, limit)
    return text.replace("|", "\\|")


def _code(value: Any, limit: int = 100) -> str:
    """Inline code in markdown; backticks inside become quotes so the span stays closed."""
    text = _cell(value, limit).replace("`", "'")
    return f"`{text}`"


def _subject_limits(findings: list[dict[str, Any]], limit: int = 100) -> list[int]:
    """How much of each finding's subject to show: ``limit`` characters, or past the first
    character where it differs from another subject that has the same first ``limit``
    (two N+1 statements differing only in ``<`` and ``>`` near their end)."""
    texts = [str(f["subject"]) for f in findings]
    alike: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        alike.setdefault(text[:limit], []).append(i)
    limits = [limit] * len(texts)
    for group in alike.values():
        for i in group:
            for j in group:
                a, b = texts[i], texts[j]
                if a != b:
                    differs = next(
                        (k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                        min(len(a), len(b)),
                    )
                    limits[i] = min(max(limits[i], differs + 20), 1000)
    return limits


def _per_unit(finding: dict[str, Any]) -> str:
    low, high = finding["min_per_unit"], finding["max_per_unit"]
    return f"{low}x" if low == high else f"{low}-{high}x"


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    """A markdown table; text cells come made by :func:`_cell` or :func:`_code`, numbers as is."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _refusal(row: dict[str, Any]) -> str:
    """``panel "Grades" at app.py:12 in f: why`` for one refused event, one safe line."""
    title = f' "{_cell(row["panel"], 100)}"' if row.get("panel") is not None else ""
    where = _cell(site_text(row.get("call")) or "(calling line not known)", 200)
    trace = f"  (trace {_cell(str(row['trace'])[:12])})" if row.get("trace") else ""
    why = _cell("; ".join(row["errors"]), 300)
    return f"{_cell(row['kind'])}{title} at {where}: {why}{trace}"


def _verdict(report: dict[str, Any]) -> str:
    s = report["summary"]
    counts = (
        f"{s['tests']} tests ({s['failed_tests']} failing), {s['requests']} requests, "
        f"{s['tasks']} tasks, {s['queries']} queries, {s['exceptions']} exceptions"
    )
    if s.get("cache_calls"):
        counts += (
            f", {s['cache_calls']} cache calls ({s['cache_hits']} hits, {s['cache_misses']} misses)"
        )
    if s.get("findings"):
        counts += f", {s['findings']} findings"
    if s["unfinished_spans"]:
        counts += f", {s['unfinished_spans']} unfinished spans"
    if s.get("invalid_lines") or s.get("refused_events"):
        counts += f", invalid lines {s['invalid_lines']}, "
        counts += refused_words(s["refused_events"], s["refused_by_kind"])
    return ("FAILED: " if report["failed"] else "OK: ") + counts


def render_markdown(report: dict[str, Any]) -> str:
    """The report as GitHub-flavoured markdown, for a CI job summary."""
    icon = ":x:" if report["failed"] else ":white_check_mark:"
    out = ["## debug-monitor report", "", f"{icon} {_cell(_verdict(report))}", ""]
    crossed = report["thresholds"]["crossed"]
    if crossed:
        out += ["### Thresholds crossed", ""] + [f"- {_cell(c)}" for c in crossed] + [""]
    if report["failing_tests"]:
        out += ["### Failing tests", ""]
        for test in report["failing_tests"]:
            out.append(f"- **{_code(test['nodeid'], 300)}** ({_cell(test['result'])}): "
                       f"{_cell(test['message'], 300)}")  # fmt: skip
            out += [
                f"  - request {_code(r['name'])} -> {_cell(r['status'])} [{_cell(r['svc'])}]"
                for r in test["requests"]
            ]
            out += [
                f"  - exception {_code(e['type'])}: {_cell(e['message'], 300)}"
                for e in test["errors"]
            ]
        out.append("")
    if report["errors"]:
        out += ["### Errors by fingerprint", ""]
        out += _table(
            ["count", "type", "message", "services", "fingerprint"],
            [
                [
                    e["count"],
                    _code(e["type"]),
                    _cell(e["message"], 200),
                    _cell(", ".join(e["services"])),
                    _cell(e["fingerprint"]),
                ]
                for e in report["errors"][:_ROWS]
            ],
        )
    if report["refused"]:
        out += ["### Refused by the writer (not written)", ""]
        out += _table(
            ["kind", "panel", "sent at", "why"],
            [
                [
                    _cell(r["kind"]),
                    _cell(r["panel"]),
                    _code(site_text(r["call"]) or "?", 200),
                    _cell("; ".join(r["errors"]), 300),
                ]
                for r in report["refused"][:_ROWS]
            ],
        )
    if report["findings"]:
        out += ["### Findings (grouped: one row however many requests showed it)", ""]
        shown = report["findings"][:_ROWS]
        out += _table(
            ["kind", "where", "runs", "per run", "site", "what", "example trace"],
            [
                [
                    KIND_TITLES.get(f["kind"], f["kind"]),
                    f"{_cell(f['where'])} [{_cell(f['svc'])}]",
                    f["units"],
                    _per_unit(f),
                    _cell(f["site"], 120),
                    _code(f["subject"], limit),
                    _code(f["example_trace"]),
                ]
                for f, limit in zip(shown, _subject_limits(shown), strict=True)
            ],
        )
    if report["slowest_requests"]:
        out += ["### Slowest requests", ""]
        out += _table(
            ["ms", "status", "request", "service", "queries"],
            [
                [r["ms"], _cell(r["status"]), _cell(r["name"]), _cell(r["svc"]), r["queries"]]
                for r in report["slowest_requests"]
            ],
        )
    if report["slowest_queries"]:
        out += ["### Slowest queries", ""]
        out += _table(
            ["ms", "service", "site", "statement"],
            [
                [q["ms"], _cell(q["svc"]), _cell(q["site"]), _code(q["sql"])]
                for q in report["slowest_queries"]
            ],
        )
    busiest = sorted(report["requests"], key=lambda r: -r["queries"])[:_ROWS]
    if busiest:
        out += ["### Queries per request", ""]
        out += _table(
            ["queries", "most duplicated", "sql ms", "request", "service"],
            [
                [r["queries"], r["max_duplicates"], r["sql_ms"], _cell(r["name"]), _cell(r["svc"])]
                for r in busiest
            ],
        )
    if report["tests"]:
        out += ["<details><summary>Queries per test</summary>", ""]
        out += _table(
            ["queries", "most duplicated", "result", "test"],
            [
                [t["queries"], t["max_duplicates"], _cell(t["result"]), _code(t["nodeid"], 300)]
                for t in sorted(report["tests"], key=lambda t: -t["queries"])
            ],
        )
        out += ["</details>", ""]
    return "\n".join(out)


def render_text(report: dict[str, Any]) -> str:
    """The report as plain text for a terminal or a CI log."""
    out = [_verdict(report)]
    out += [f"  threshold crossed: {_cell(c)}" for c in report["thresholds"]["crossed"]]
    if report["failing_tests"]:
        out += ["", "Failing tests:"]
        for test in report["failing_tests"]:
            out.append(f"  {_cell(test['nodeid'])} ({_cell(test['result'])}): "
                       f"{_cell(test['message'], 300)}")  # fmt: skip
            out += [
                f"    request {_cell(r['name'])} -> {r['status']} [{_cell(r['svc'])}]"
                for r in test["requests"]
            ]
            out += [
                f"    exception {_cell(e['type'])}: {_cell(e['message'], 300)}"
                for e in test["errors"]
            ]
    if report["errors"]:
        out += ["", "Errors by fingerprint:"]
        out += [
            f"  {e['count']}x {_cell(e['fingerprint'])} {_cell(e['type'])}: "
            f"{_cell(e['message'], 200)} [{_cell(', '.join(e['services']))}]"
            for e in report["errors"]
        ]
    if report["refused"]:
        out += ["", "Refused by the writer (not written; each with the line that sent it):"]
        out += [f"  {_refusal(r)}" for r in report["refused"]]
    if report["findings"]:
        out += ["", "Findings (grouped by fingerprint):"]
        out += [
            f"  {KIND_TITLES.get(f['kind'], f['kind'])}: {_cell(f['where'])} [{_cell(f['svc'])}]"
            f" runs {f['units']}, {_per_unit(f)} per run"
            + (f" at {_cell(f['site'], 120)}" if f["site"] else "")
            + f": {_cell(f['subject'], limit)}  (trace {f['example_trace'][:12]})"
            for f, limit in zip(
                report["findings"], _subject_limits(report["findings"]), strict=True
            )
        ]
    if report["slowest_requests"]:
        out += ["", "Slowest requests:"]
        out += [
            f"  {r['ms']:>10} ms  {r['status']}  {_cell(r['name'])} [{_cell(r['svc'])}]"
            f"  {r['queries']} queries"
            for r in report["slowest_requests"]
        ]
    if report["slowest_queries"]:
        out += ["", "Slowest queries:"]
        out += [
            f"  {q['ms']:>10} ms  [{_cell(q['svc'])}] {_cell(q['sql'], 80)}"
            for q in report["slowest_queries"]
        ]
    if report["tests"]:
        out += ["", "Queries per test:"]
        out += [
            f"  {t['queries']:>5}  (most duplicated {t['max_duplicates']})  {_cell(t['result'])}"
            f"  {_cell(t['nodeid'])}"
            for t in sorted(report["tests"], key=lambda t: -t["queries"])
        ]
    return "\n".join(out) + "\n"
