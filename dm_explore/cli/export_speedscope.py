"""``dm-explore export speedscope DIR TRACE -o FILE``: a trace's profiles for speedscope.

Writes :func:`dm_explore.outputs.speedscope.speedscope_document` of the trace
(an id, a unique prefix, or a ``traceresponse`` value); ``-o -`` writes to
standard output. Exit 1 when no trace matches or it has no profile.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from .. import __version__
from ..ingest import ALL_TRACES, load_folder
from ..model import find_trace
from ..outputs.speedscope import speedscope_document
from ..outputs.textsafe import safe_line
from .common import fail, folder_or_exit, write_whole

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    if not args.trace:
        fail("export speedscope needs a TRACE (an id, a unique prefix, or a traceresponse value)")
    folder = folder_or_exit(args.folder)
    model = load_folder(folder, max_traces=ALL_TRACES).model
    trace = find_trace(model, args.trace)
    if trace is None:
        print(f"dm-explore: no single trace matches {safe_line(args.trace, 80)}", file=sys.stderr)
        return 1
    document = speedscope_document(trace, exporter=f"dm-explore {__version__}")
    if not document["profiles"]:
        print(f"dm-explore: trace {trace.trace_id} has no profile", file=sys.stderr)
        return 1
    data = orjson.dumps(document)
    if args.output == "-":
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.buffer.flush()
        return 0
    target = Path(args.output)
    write_whole(target, lambda out: out.write(data))
    count = len(document["profiles"])
    print(
        f"wrote {count} profiles of trace {trace.trace_id} to {safe_line(target)}", file=sys.stderr
    )
    return 0
