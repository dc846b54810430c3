"""``dm-explore summary DIR [--json]``: what a folder holds, in numbers.

``--json`` prints one object: :func:`dm_explore.outputs.summary.summarize`'s dict.
Invalid lines (not JSON, or not a valid event) and refused events (calls the writer
refused and wrote as ``dm.invalid``, with the calling line) are counted apart, not
fatal: the exit status is 0 (``check`` is the gate, and fails on both).
"""

from __future__ import annotations

import argparse
import sys

from ..ingest import load_folder
from ..model.refused import refused_words, site_text
from ..outputs.summary import summarize
from ..outputs.textsafe import safe_json, safe_line
from .common import folder_or_exit
from .finding_options import add_finding_arguments, finding_options

NAME = "summary"
HELP = (
    "count files, services, requests, traces, issues, commands, invalid lines"
    " and the events the writer refused"
)


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
    add_finding_arguments(parser)


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    reader = load_folder(folder, n_plus_one=args.n_plus_one)
    path_problems = reader.problems
    data = summarize(reader.model, path_problems, finding_options(args))
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
    cache = data["cache"]
    if cache["calls"]:
        out.append(
            f"cache       {cache['calls']} calls, {cache['hits']} hits, {cache['misses']} misses"
        )
    out.append(
        f"invalid     lines {data['invalid_lines']}, "
        + refused_words(data["refused_events"], data["refused_by_kind"])
        + (f", {len(path_problems)} unreadable paths" if path_problems else "")
        + (
            f", {len(data['unfinished_files'])} unfinished files"
            if data["unfinished_files"]
            else ""
        )
    )
    for r in data["refused"]:
        title = f' "{r["panel"]}"' if r["panel"] is not None else ""
        where = site_text(r["call"]) or "(calling line not known)"
        out.append(f"refused     {r['kind']}{title} at {where}: {'; '.join(r['errors'])}")
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
    if data["findings"]:
        out.append(f"findings    {data['findings']} (grouped by fingerprint; the top ones:)")
        for f in data["top_findings"]:
            out.append(
                f"  {f['kind']:<16} {f['svc']}  {f['where']}  runs {f['units']}, "
                f"{f['max_per_unit']}x at most: {f['subject']}"
            )
    for p in data["problems"][:20]:
        out.append(f"problem     {_shortened(p['path'])}:{p['line']}: {p['reason']}")
    print("\n".join(safe_line(line, 400) for line in out))
    return 0


def _shortened(path: str, most: int = 200) -> str:
    """A path of at most ``most`` characters, cut in the middle: the reason after it stays."""
    if len(path) <= most:
        return path
    return path[: most // 3] + "…" + path[-(most - most // 3 - 1) :]
