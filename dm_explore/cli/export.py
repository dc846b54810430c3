"""``dm-explore export otlp DIR -o FILE | --endpoint URL``: the folder as OTLP.

With ``-o``: one ``ExportTraceServiceRequest`` per line, one line per trace (several
for a big one, :mod:`dm_explore.outputs.otlp`); ``-o -`` writes to standard
output. ``--signals traces,logs,metrics`` adds, after the traces, lines of
``ExportLogsServiceRequest`` and ``ExportMetricsServiceRequest`` (the Collector's
``otlpjsonfile`` receiver reads all three from one file); traces alone are the
default. The file is written next to its final name and renamed into place, so a
Collector watching the folder never reads half a file. With ``--endpoint`` (or
the ``OTEL_EXPORTER_OTLP_*`` variables): traces, logs and metrics (or the
``--signals`` chosen) streamed to an OTLP/HTTP receiver
(:mod:`dm_explore.cli.otlp_push`).

``dm-explore export speedscope DIR TRACE -o FILE``: one trace's sampled profiles
for speedscope (:mod:`dm_explore.cli.export_speedscope`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO

from ..ingest import ALL_TRACES, load_folder
from ..model import Model
from ..outputs.otlp import write_otlp
from ..outputs.textsafe import safe_line
from . import export_speedscope
from .common import folder_or_exit, write_whole
from .otlp_push import add_endpoint_arguments, endpoints_or_exit, push, signals_of, write_points

NAME = "export"
HELP = (
    "export the folder: otlp (traces, logs and metrics as OTLP/JSON lines for the "
    "OpenTelemetry Collector, or sent to an OTLP/HTTP receiver with --endpoint), "
    "speedscope (one trace's profiles)"
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
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="--endpoint: processes reading the folder, each its share of the files; "
        "default: one per CPU (at most 4) for a folder of 8 MiB or more, else 1",
    )


def otlp_span_count(model: Model) -> int:
    """The spans the OTLP export of ``model`` holds: each span and its SQL statements' spans."""
    return sum(1 + len(span.sql) for trace in model.traces.values() for span in trace.spans)


def run(args: argparse.Namespace) -> int:
    if args.format == "speedscope":
        return export_speedscope.run(args)
    folder = folder_or_exit(args.folder)
    if args.output is None:
        return push(folder, endpoints_or_exit(args, required=True), args.jobs)
    if args.endpoint is not None:
        print("dm-explore: give -o FILE or --endpoint URL, not both", file=sys.stderr)
        return 2
    signals = signals_of(args, default=("traces",))
    model = load_folder(folder, max_traces=ALL_TRACES).model if "traces" in signals else None

    def write(out: IO[bytes]) -> int:
        lines = write_otlp(model, out) if model is not None else 0
        if signals != ("traces",):
            lines += write_points(folder, signals, out)
        return lines

    if args.output == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return 0
    target = Path(args.output)
    lines = write_whole(target, write)
    what = f"{len(model.traces)} traces ({otlp_span_count(model)} spans" if model else "(no traces"
    others = " and ".join(s for s in signals if s != "traces")
    extra = f", {others}" if others else ""
    print(f"wrote {what}{extra}, {lines} requests) to {safe_line(target)}", file=sys.stderr)
    return 0
