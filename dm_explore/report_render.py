"""Text and markdown renderings of :func:`dm_explore.report.build_report`'s dict.

The markdown is meant for a CI job summary (``>> $GITHUB_STEP_SUMMARY``): a
verdict line first, then failing tests with what ran under them, thresholds
crossed, errors, N+1 suspects, the slowest requests and queries, and a table of
requests by query count.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_markdown", "render_text"]

_ROWS = 20


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _verdict(report: dict[str, Any]) -> str:
    s = report["summary"]
    counts = (
        f"{s['tests']} tests ({s['failed_tests']} failing), {s['requests']} requests, "
        f"{s['tasks']} tasks, {s['queries']} queries, {s['exceptions']} exceptions"
    )
    if s["unfinished_spans"]:
        counts += f", {s['unfinished_spans']} unfinished spans"
    return ("FAILED: " if report["failed"] else "OK: ") + counts


def render_markdown(report: dict[str, Any]) -> str:
    icon = ":x:" if report["failed"] else ":white_check_mark:"
    out = ["## debug-monitor report", "", f"{icon} {_verdict(report)}", ""]
    crossed = report["thresholds"]["crossed"]
    if crossed:
        out += ["### Thresholds crossed", ""] + [f"- {c}" for c in crossed] + [""]
    if report["failing_tests"]:
        out += ["### Failing tests", ""]
        for test in report["failing_tests"]:
            out.append(f"- **`{test['nodeid']}`** ({test['result']}): {_cell(test['message'])}")
            out += [
                f"  - request `{r['name']}` -> {r['status']} [{r['svc']}]" for r in test["requests"]
            ]
            out += [f"  - exception `{e['type']}`: {_cell(e['message'])}" for e in test["errors"]]
        out.append("")
    if report["errors"]:
        out += ["### Errors by fingerprint", ""]
        out += _table(
            ["count", "type", "message", "services", "fingerprint"],
            [
                [
                    e["count"],
                    f"`{e['type']}`",
                    e["message"],
                    ", ".join(e["services"]),
                    e["fingerprint"],
                ]
                for e in report["errors"][:_ROWS]
            ],
        )
    if report["n_plus_one"]:
        out += ["### N+1 suspects", ""]
        out += _table(
            ["count", "request", "site", "statement"],
            [
                [n["count"], f"{n['request']} [{n['svc']}]", n["site"], f"`{n['sql'][:100]}`"]
                for n in report["n_plus_one"][:_ROWS]
            ],
        )
    if report["slowest_requests"]:
        out += ["### Slowest requests", ""]
        out += _table(
            ["ms", "status", "request", "service", "queries"],
            [
                [r["ms"], r["status"], r["name"], r["svc"], r["queries"]]
                for r in report["slowest_requests"]
            ],
        )
    if report["slowest_queries"]:
        out += ["### Slowest queries", ""]
        out += _table(
            ["ms", "service", "site", "statement"],
            [
                [q["ms"], q["svc"], q["site"], f"`{q['sql'][:100]}`"]
                for q in report["slowest_queries"]
            ],
        )
    busiest = sorted(report["requests"], key=lambda r: -r["queries"])[:_ROWS]
    if busiest:
        out += ["### Queries per request", ""]
        out += _table(
            ["queries", "most repeated", "sql ms", "request", "service"],
            [[r["queries"], r["max_repeats"], r["sql_ms"], r["name"], r["svc"]] for r in busiest],
        )
    if report["tests"]:
        out += ["<details><summary>Queries per test</summary>", ""]
        out += _table(
            ["queries", "most repeated", "result", "test"],
            [
                [t["queries"], t["max_repeats"], t["result"], f"`{t['nodeid']}`"]
                for t in sorted(report["tests"], key=lambda t: -t["queries"])
            ],
        )
        out += ["</details>", ""]
    return "\n".join(out)


def render_text(report: dict[str, Any]) -> str:
    out = [_verdict(report)]
    for crossed in report["thresholds"]["crossed"]:
        out.append(f"  threshold crossed: {crossed}")
    if report["failing_tests"]:
        out += ["", "Failing tests:"]
        for test in report["failing_tests"]:
            out.append(f"  {test['nodeid']} ({test['result']}): {_cell(test['message'])}")
            out += [
                f"    request {r['name']} -> {r['status']} [{r['svc']}]" for r in test["requests"]
            ]
            out += [f"    exception {e['type']}: {_cell(e['message'])}" for e in test["errors"]]
    if report["errors"]:
        out += ["", "Errors by fingerprint:"]
        out += [
            f"  {e['count']}x {e['fingerprint']} {e['type']}: {_cell(e['message'])}"
            f" [{', '.join(e['services'])}]"
            for e in report["errors"]
        ]
    if report["n_plus_one"]:
        out += ["", "N+1 suspects:"]
        out += [
            f"  {n['count']}x {n['request']} [{n['svc']}] at {n['site']}: {n['sql'][:80]}"
            for n in report["n_plus_one"]
        ]
    if report["slowest_requests"]:
        out += ["", "Slowest requests:"]
        out += [
            f"  {r['ms']:>10} ms  {r['status']}  {r['name']} [{r['svc']}]  {r['queries']} queries"
            for r in report["slowest_requests"]
        ]
    if report["slowest_queries"]:
        out += ["", "Slowest queries:"]
        out += [
            f"  {q['ms']:>10} ms  [{q['svc']}] {q['sql'][:80]}" for q in report["slowest_queries"]
        ]
    if report["tests"]:
        out += ["", "Queries per test:"]
        out += [
            f"  {t['queries']:>5}  (most repeated {t['max_repeats']})  {t['result']}  {t['nodeid']}"
            for t in sorted(report["tests"], key=lambda t: -t["queries"])
        ]
    return "\n".join(out) + "\n"
