"""``dm-explore tree DIR TRACE_ID``: one trace as an indented text tree across services.

Spans whose parent links form a cycle (hostile files) come after the tree, marked
cyclic; a chain deeper than :data:`MAX_INDENT` levels keeps its indentation and
says its depth, so a line's length does not grow with the depth. A panel the
writer refused is a line of its own under its span (``! refused panel``), with the
reason and the line that sent it.
"""

from __future__ import annotations

import argparse
import sys

from ..ingest import load_folder
from ..model import find_trace, trace_rows
from ..model.refused import refused_panels, site_text
from ..outputs.textsafe import safe_line
from .common import folder_or_exit

NAME = "tree"
MAX_INDENT = 40  # levels drawn as indentation; deeper rows say their depth
HELP = "print one trace as an indented tree across services, with durations"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument(
        "trace",
        help="trace id, a unique prefix of one, or a traceresponse header value"
        " (00-<trace>-<span>-01)",
    )


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    model = load_folder(folder).model
    trace = find_trace(model, args.trace)
    if trace is None:
        print(f"dm-explore: no single trace matches {safe_line(args.trace, 40)}", file=sys.stderr)
        return 1
    print(f"trace {trace.trace_id}  services: {safe_line(', '.join(sorted(trace.services)))}")
    for row in trace_rows(trace):
        span = row.span
        ms = f"{span.ms:.1f} ms" if span.ms is not None else span.outcome
        status = f" {span.status}" if span.status is not None else ""
        flags = ""
        if span.sql:
            flags += f" sql={len(span.sql)}"
        if span.exceptions:
            flags += f" errors={len(span.exceptions)}"
        if row.waiting:
            flags += " (parent not seen)"
        if row.cyclic:
            flags += " (cyclic: its parent links lead back to it)"
        indent = _indent(row.depth)
        where = f"[{span.svc}] +{row.offset_ms:.1f} ms"
        line = f"{indent}{span.kind} {span.name}{status}  {where}  {ms}{flags}"
        print(safe_line(line, 400))
        for title, entry in refused_panels(span.panels):
            sent = site_text(entry["call"]) or "(calling line not known)"
            why = "; ".join(entry["errors"])
            print(safe_line(f'{indent}  ! refused panel "{title}" at {sent}: {why}', 400))
    return 0


def _indent(depth: int) -> str:
    """Two spaces a level, up to :data:`MAX_INDENT` levels; deeper, the depth in brackets."""
    if depth <= MAX_INDENT:
        return "  " * depth
    return "  " * MAX_INDENT + f"[depth {depth}] "
