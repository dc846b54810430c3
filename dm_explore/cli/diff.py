"""``dm-explore diff BASE HEAD``: per endpoint and per test, what changed between two runs.

Exit status: 1 when a threshold was crossed (``--max-query-increase``,
``--max-slowdown``, ``--fail-on-new-errors``, ``--fail-on-new-findings``), 0
otherwise, 2 on a usage error or a folder that cannot be read. ``--format json``
prints :func:`dm_explore.outputs.diff.compare`'s dict.
"""

from __future__ import annotations

import argparse
import sys

from ..ingest import ALL_TRACES, load_folder
from ..outputs.diff import DEFAULT_MIN_MS, Thresholds, compare, run_stats
from ..outputs.diff_render import render_diff_markdown, render_diff_text
from ..outputs.textsafe import safe_json
from .common import at_least, folder_or_exit
from .finding_options import add_finding_arguments, finding_options

NAME = "diff"
HELP = "compare two folders (two runs): queries, findings, errors and timings per endpoint and test"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", help="the folder of the run compared against (e.g. main's)")
    parser.add_argument("head", help="the folder of the run under review")
    parser.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text",
        help="text (default), markdown (a pull-request comment) or one JSON document",
    )  # fmt: skip
    parser.add_argument(
        "--max-query-increase", type=at_least(0), metavar="N",
        help="exit 1 when an endpoint's median queries per request, or a test's queries, "
        "grew by more than N (query counts are stable: 0 is a fair gate)",
    )  # fmt: skip
    parser.add_argument(
        "--max-slowdown", type=at_least(1.0), metavar="R",
        help="exit 1 when an endpoint's or test's p50 grew more than R times "
        "(times are noisy on shared machines: leave a margin, e.g. 2)",
    )  # fmt: skip
    parser.add_argument(
        "--min-ms", type=at_least(0.0), default=DEFAULT_MIN_MS, metavar="MS",
        help=f"a p50 under MS counts as MS for --max-slowdown (default {DEFAULT_MIN_MS:g})",
    )  # fmt: skip
    parser.add_argument(
        "--fail-on-new-errors", action="store_true",
        help="exit 1 when HEAD has an error fingerprint BASE has not",
    )  # fmt: skip
    parser.add_argument(
        "--fail-on-new-findings", action="store_true",
        help="exit 1 when HEAD has a finding fingerprint BASE has not",
    )  # fmt: skip
    add_finding_arguments(parser, n_plus_one=True)


def run(args: argparse.Namespace) -> int:
    base_folder = folder_or_exit(args.base)
    head_folder = folder_or_exit(args.head)
    options = finding_options(args)
    stats = []
    for folder in (base_folder, head_folder):
        model = load_folder(folder, n_plus_one=args.n_plus_one, max_traces=ALL_TRACES).model
        stats.append(run_stats(model, options))
        del model
    thresholds = Thresholds(
        max_query_increase=args.max_query_increase,
        max_slowdown=args.max_slowdown,
        min_ms=args.min_ms,
        fail_on_new_errors=args.fail_on_new_errors,
        fail_on_new_findings=args.fail_on_new_findings,
    )
    diff = compare(stats[0], stats[1], thresholds, base_name=args.base, head_name=args.head)
    if args.format == "json":
        sys.stdout.write(safe_json(diff, indent=True) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_diff_markdown(diff))
    else:
        sys.stdout.write(render_diff_text(diff))
    sys.stdout.flush()
    return 1 if diff["failed"] else 0
