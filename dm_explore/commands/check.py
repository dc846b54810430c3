"""``dm-explore check DIR``: every line against the schema; exit 1 if anything is invalid."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import fastjsonschema
import orjson

from dm_log._schema import kind_refs, validator_for

from ..cli import folder_or_exit
from ..reader import FolderReader
from ..reader.tail import Tail
from ..textsafe import safe_line

NAME = "check"
HELP = "validate every line of every file against the event schema"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the totals")


def check_line(raw: bytes) -> str | None:
    """Why ``raw`` is not a valid event line, or None if it is."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"not JSON: {exc}"
    if not isinstance(event, dict):
        return f"not a JSON object but {type(event).__name__}"
    kind = event.get("event")
    if not isinstance(kind, str):
        kind = "?"
    try:
        validator_for(kind, envelope=True)(event)
    except fastjsonschema.JsonSchemaValueException as exc:
        return f"{kind if kind in kind_refs() else 'event'}: {exc.message}"
    except (RecursionError, ValueError, TypeError) as exc:
        return f"cannot be checked: {type(exc).__name__}"
    if event.get("event") == "dm.invalid":
        errors = "; ".join(map(str, event.get("errors", [])))
        return f"the writer refused a {event.get('kind')} event: {errors}"
    return None


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    reader = FolderReader(folder)  # discovery only: the same rules as the explorer
    reader.discover()
    out = sys.stdout
    files = lines = invalid = 0
    for problem in reader.problems:
        invalid += 1
        if not args.quiet:
            print(f"{safe_line(problem.path)}:0: {safe_line(problem.reason)}", file=out)
    for path_text in reader.files:
        files += 1
        tail = Tail(Path(path_text))
        new_lines, problems = tail.read()
        name = safe_line(path_text)
        reasons = [(p.line, p.reason) for p in problems]
        for line in new_lines:
            lines += 1
            reason = check_line(line.raw)
            if reason is not None:
                reasons.append((line.number, reason))
        if tail.partial:
            reasons.append(
                (tail.line_number + 1, "unfinished last line (no newline yet, or cut off)")
            )
        for number, reason in sorted(reasons):
            invalid += 1
            if not args.quiet:
                print(f"{name}:{number}: {safe_line(reason, 300)}", file=out)
    status = "OK" if invalid == 0 else "INVALID"
    print(f"{status}: {files} files, {lines} lines, {invalid} problems", file=out)
    return 0 if invalid == 0 else 1
