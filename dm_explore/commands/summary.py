"""``dm-explore summary DIR [--json]``: what a folder holds, in numbers.

``--json`` prints one object. Keys (always present): ``files`` (int), ``services``
(list of names), ``processes`` (int), ``events`` (int), ``requests`` (int),
``traces`` (int), ``issues`` (int), ``exceptions`` (int), ``commands`` (status ->
count), ``invalid_lines`` (int), ``dropped`` (int: events writers reported lost),
``capped_files`` (list of paths), ``problems`` (list of ``{path, line, reason}``, the
first 100), ``slowest_requests`` (list of ``{svc, method, path, status, ms, trace}``),
``n_plus_one`` (list of ``{svc, request, sql, count, sites}``).
Invalid lines are counted, not fatal: the exit status is 0 (``check`` is the gate).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..cli import folder_or_exit
from ..load import load_folder
from ..model import Model, filter_requests, span_sql
from ..textsafe import safe_json, safe_line

NAME = "summary"
HELP = "count files, services, requests, traces, issues, commands and invalid lines"
TOP = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--n-plus-one",
        type=int,
        default=5,
        metavar="N",
        help="a similar query repeated N times under one span is an N+1 suspect",
    )


def summarize(model: Model, path_problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary as one JSON-ready dict (the ``--json`` output)."""
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
    problems = list(path_problems)
    for info in model.files.values():
        problems.extend(
            {"path": info.path, "line": line, "reason": reason} for line, reason in info.problems
        )
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
        "invalid_lines": sum(info.invalid for info in model.files.values()),
        "dropped": model.totals["dropped"],
        "capped_files": [info.path for info in model.files.values() if info.capped],
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
    }


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    reader = load_folder(folder, n_plus_one=args.n_plus_one)
    path_problems = [{"path": p.path, "line": p.line, "reason": p.reason} for p in reader.problems]
    data = summarize(reader.model, path_problems)
    if args.json:
        sys.stdout.write(safe_json(data, indent=True) + "\n")
        return 0
    out = []
    out.append(f"files       {data['files']} ({data['processes']} processes)")
    out.append(f"services    {', '.join(data['services']) or '-'}")
    out.append(f"events      {data['events']}")
    out.append(f"requests    {data['requests']} in {data['traces']} traces")
    out.append(f"issues      {data['issues']} ({data['exceptions']} exceptions)")
    out.append(
        "commands    " + (", ".join(f"{k} {v}" for k, v in data["commands"].items() if v) or "-")
    )
    out.append(
        f"invalid     {data['invalid_lines']} lines"
        + (f", {len(path_problems)} unreadable paths" if path_problems else "")
    )
    if data["dropped"]:
        out.append(f"dropped     {data['dropped']} events (reported by writers)")
    for path in data["capped_files"]:
        out.append(f"capped      {path}")
    if data["slowest_requests"]:
        out.append("slowest requests:")
        for r in data["slowest_requests"]:
            status = r["status"] or "-"
            ms = r["ms"] or 0
            out.append(f"  {ms:9.1f} ms  {status:>3}  {r['svc']}  {r['method']} {r['path']}")
    if data["n_plus_one"]:
        out.append("N+1 suspects:")
        for s in data["n_plus_one"]:
            out.append(f"  {s['count']:4d}x  {s['svc']}  {s['request']}: {s['sql']}")
    for p in data["problems"][:20]:
        out.append(f"problem     {p['path']}:{p['line']}: {p['reason']}")
    print("\n".join(safe_line(line, 400) for line in out))
    return 0
