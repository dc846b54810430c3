"""``dm-explore endpoints DIR [--json]``: per endpoint, task and command, how it behaves.

Count, error rate, retries, p50/p95/p99 and max ms, queries per run (median and
most) and findings, busiest first (``--sort`` picks another column). Exit 0;
2 when the folder cannot be read.
"""

from __future__ import annotations

import argparse
import sys

from ..ingest import ALL_TRACES, load_folder
from ..model.endpoints import endpoint_stats
from ..model.findings import find_findings
from ..outputs.textsafe import safe_json, safe_line
from .common import folder_or_exit
from .finding_options import add_finding_arguments, finding_options

NAME = "endpoints"
HELP = "per endpoint, task and command: count, error rate, p50/p95/p99/max ms, queries, findings"
SORTS = ("count", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms",
         "queries_median", "queries_max", "findings", "key")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl and *.jsonl.gz files")
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    parser.add_argument("--sort", choices=SORTS, default="count", help="order (default count)")
    add_finding_arguments(parser, n_plus_one=True)


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    model = load_folder(folder, n_plus_one=args.n_plus_one, max_traces=ALL_TRACES).model
    rows = [e.as_dict() for e in endpoint_stats(model, find_findings(model, finding_options(args)))]
    if args.sort == "key":
        rows.sort(key=lambda r: str(r["key"]))
    else:
        rows.sort(key=lambda r: -float(r[args.sort]))  # type: ignore[arg-type]
    if args.json:
        sys.stdout.write(safe_json(rows, indent=True) + "\n")
        return 0
    header = (f"{'count':>6} {'err%':>6} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9} "
              f"{'q med':>6} {'q max':>6} {'find':>4}  endpoint")  # fmt: skip
    out = [header]
    for r in rows:
        out.append(
            f"{r['count']:>6} {100 * float(r['error_rate']):>5.1f}% {r['p50_ms']:>9.1f} "  # type: ignore[arg-type]
            f"{r['p95_ms']:>9.1f} {r['p99_ms']:>9.1f} {r['max_ms']:>9.1f} "
            f"{r['queries_median']:>6g} {r['queries_max']:>6} {r['findings']:>4}  "
            + safe_line(r["key"], 120)
            + (f"  ({r['retries']} retried)" if r["retries"] else "")
        )
    print("\n".join(out))
    return 0
