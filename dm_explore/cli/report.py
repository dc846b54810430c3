"""``dm-explore report DIR``: per test and per request, queries, repeats, N+1, slow spots, errors.

Exit status: 0, or 1 when a threshold was crossed (``--max-queries``,
``--max-duplicates``, or ``--fail-on-error`` with any exception recorded), so CI
can gate on it; 2 when the folder cannot be read. ``--format json`` prints one
JSON document (:func:`dm_explore.outputs.report.build_report`'s dict).
"""

from __future__ import annotations

import argparse
import sys

from ..ingest import ALL_TRACES, load_folder
from ..outputs.render import render_markdown, render_text
from ..outputs.report import build_report
from ..outputs.textsafe import safe_json
from .common import at_least, folder_or_exit
from .finding_options import add_finding_arguments, finding_options

NAME = "report"
HELP = "query counts, duplicates, N+1 suspects, slow spots and errors per test and request"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl and *.jsonl.gz files")
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (a CI job summary) or one JSON document",
    )
    parser.add_argument(
        "--max-queries",
        type=at_least(0),
        metavar="N",
        help="exit 1 when a request or task ran more than N queries",
    )
    parser.add_argument(
        "--max-duplicates",
        type=at_least(0),
        metavar="N",
        help="exit 1 when a request or task ran one statement with the same "
        "parameters more than N times",
    )
    parser.add_argument(
        "--fail-on-error", action="store_true", help="exit 1 when any exception was recorded"
    )
    parser.add_argument(
        "--n-plus-one",
        type=at_least(0),
        default=5,
        metavar="N",
        help="the same statement with differing parameters N times in one "
        "request is an N+1 suspect (default 5)",
    )
    add_finding_arguments(parser)


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    # A report reads the whole folder: no trace is evicted, whatever its size.
    model = load_folder(folder, n_plus_one=args.n_plus_one, max_traces=ALL_TRACES).model
    report = build_report(
        model,
        max_queries=args.max_queries,
        max_duplicates=args.max_duplicates,
        fail_on_error=args.fail_on_error,
        finding_options=finding_options(args),
    )
    if args.format == "json":
        sys.stdout.write(safe_json(report, indent=True) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(report))
    else:
        sys.stdout.write(render_text(report))
    sys.stdout.flush()
    return 1 if report["failed"] else 0
