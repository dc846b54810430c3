"""``dm-explore export otlp DIR -o FILE | --endpoint URL``: the folder's spans as OTLP.

With ``-o``: one ``ExportTraceServiceRequest`` per line, one line per trace (several
for a big one, :mod:`dm_explore.outputs.otlp`); ``-o -`` writes to standard
output. The file is written next to its final name and renamed into place, so a
Collector watching the folder never reads half a file. With ``--endpoint`` (or
the ``OTEL_EXPORTER_OTLP_*`` variables): sent to an OTLP/HTTP receiver
(:mod:`dm_explore.cli.otlp_push`).

``dm-explore export speedscope DIR TRACE -o FILE``: one trace's sampled profiles
for speedscope (:mod:`dm_explore.cli.export_speedscope`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..ingest import ALL_TRACES, load_folder
from ..outputs.otlp import write_otlp
from ..outputs.textsafe import safe_line
from . import export_speedscope
from .common import folder_or_exit, write_whole
from .otlp_push import add_endpoint_arguments, endpoint_or_exit, push

NAME = "export"
HELP = (
    "export the folder's traces: otlp (OTLP/JSON lines for the OpenTelemetry Collector, "
    "or sent to an OTLP/HTTP receiver with --endpoint), speedscope (one trace's profiles)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "format",
        choices=("otlp", "speedscope"),
        help="otlp: OTLP/JSON, one request per line; speedscope: TRACE's sampled profiles",
    )
    parser.add_argument("folder", help="folder of *.jsonl and *.jsonl.gz files")
    parser.add_argument("trace", nargs="?", help="speedscope: the trace (id, prefix, header)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write, or - for standard output",
    )
    add_endpoint_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.format == "speedscope":
        return export_speedscope.run(args)
    folder = folder_or_exit(args.folder)
    endpoint = endpoint_or_exit(args, required=args.output is None)
    if endpoint is not None and args.output is not None:
        print("dm-explore: give -o FILE or --endpoint URL, not both", file=sys.stderr)
        return 2
    model = load_folder(folder, max_traces=ALL_TRACES).model
    if endpoint is not None:
        return push(model, endpoint)
    if args.output == "-":
        write_otlp(model, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return 0
    target = Path(args.output)
    lines = write_whole(target, lambda out: write_otlp(model, out))
    print(
        f"wrote {len(model.traces)} traces ({len(model.spans)} spans, {lines} requests) "
        f"to {safe_line(target)}",
        file=sys.stderr,
    )
    return 0
