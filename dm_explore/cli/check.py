"""``dm-explore check DIR``: every line against the schema; exit 1 if anything is invalid."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import fastjsonschema
import orjson

from dm_log.contract import kind_refs, validator_for

from ..ingest import FolderReader
from ..ingest.tail import Tail
from ..model import Problem
from ..outputs.textsafe import safe_line
from .common import folder_or_exit

NAME = "check"
HELP = "validate every line of every file against the event schema"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the totals")


def check_line(raw: bytes, path: str = "", line: int = 0) -> Problem | None:
    """Why ``raw`` (line ``line`` of ``path``) is not a valid event line, or None if it is."""
    reason = _schema_problem(raw)
    return None if reason is None else Problem(path, line, "line", reason)


def _schema_problem(raw: bytes) -> str | None:
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
    for skipped in reader.problems:
        invalid += 1
        if not args.quiet:
            print(f"{safe_line(skipped.path)}:0: {safe_line(skipped.reason)}", file=out)
    for path_text in reader.files:
        files += 1
        tail = Tail(Path(path_text))
        new_lines, problems = tail.read()
        name = safe_line(path_text)
        found = list(problems)
        for line in new_lines:
            lines += 1
            refused = check_line(line.raw, path_text, line.number)
            if refused is not None:
                found.append(refused)
        if tail.partial:
            reason = "unfinished last line (no newline yet, or cut off)"
            found.append(Problem(path_text, tail.line_number + 1, "line", reason))
        for problem in sorted(found, key=lambda p: (p.line, p.reason)):
            invalid += 1
            if not args.quiet:
                print(f"{name}:{problem.line}: {safe_line(problem.reason, 300)}", file=out)
    status = "OK" if invalid == 0 else "INVALID"
    print(f"{status}: {files} files, {lines} lines, {invalid} problems", file=out)
    return 0 if invalid == 0 else 1
