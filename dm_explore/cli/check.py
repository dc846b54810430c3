"""``dm-explore check DIR``: every line against the schema; exit 1 if anything is invalid.

A problem is an invalid line (not JSON, not a valid event, unfinished), a path that
cannot be read, or a refused event: a valid ``dm.invalid`` line, the writer's report
of a call it refused (a plugin's mistake), printed with the line that made the call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from dm_log.contract import kind_refs, validator_for

from ..ingest import FolderReader
from ..ingest.tail import Tail
from ..model import Problem
from ..model.refused import site_text
from ..outputs.textsafe import safe_line
from .common import folder_or_exit

NAME = "check"
HELP = "validate every line of every file against the event schema"
REFUSED_PREFIX = "the writer refused a"


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
        return refusal(event)
    return None


def refusal(event: dict[str, Any]) -> str:
    """``the writer refused a panel event ("Grades") sent at app.py:12 in f: errors``."""
    errors = "; ".join(map(str, event.get("errors") or []))
    title = event.get("panel")
    named = f' ("{title}")' if isinstance(title, str) else ""
    where = site_text(event.get("call"))
    sent = f" sent at {where}" if where else ""
    return f"{REFUSED_PREFIX} {event.get('kind')} event{named}{sent}: {errors}"


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    reader = FolderReader(folder)  # discovery only: the same rules as the explorer
    reader.discover()
    out = sys.stdout
    files = lines = invalid = refused_events = 0
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
            problem = check_line(line.raw, path_text, line.number)
            if problem is not None:
                found.append(problem)
        if tail.partial:
            reason = "unfinished last line (no newline yet, or cut off)"
            found.append(Problem(path_text, tail.line_number + 1, "line", reason))
        for problem in sorted(found, key=lambda p: (p.line, p.reason)):
            invalid += 1
            refused_events += problem.reason.startswith(REFUSED_PREFIX)
            if not args.quiet:
                print(f"{name}:{problem.line}: {safe_line(problem.reason, 300)}", file=out)
    status = "OK" if invalid == 0 else "INVALID"
    paths = len(reader.problems)
    split = ""
    if refused_events:
        split = (
            f" (invalid lines {invalid - refused_events - paths}, refused events {refused_events}"
        )
        split += f", unreadable paths {paths})" if paths else ")"
    print(f"{status}: {files} files, {lines} lines, {invalid} problems{split}", file=out)
    return 0 if invalid == 0 else 1
