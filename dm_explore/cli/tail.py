"""``dm-explore tail DIR [--json]``: every file merged in time order, then followed live."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dm_log.contract import epoch_seconds

from ..ingest import FolderReader, parse_line
from ..ingest.follow import follow
from ..outputs.describe import describe
from ..outputs.textsafe import safe_json
from .common import folder_or_exit

NAME = "tail"
HELP = "print the merged stream of every file in time order, then follow it like tail -F"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument(
        "--json", action="store_true", help="print the events as JSON lines (for jq)"
    )
    parser.add_argument(
        "-n",
        "--lines",
        type=int,
        default=None,
        metavar="N",
        help="start with only the last N events",
    )
    parser.add_argument("--no-follow", action="store_true", help="stop after what is there now")
    parser.add_argument("--poll", action="store_true", help="poll instead of watching")


class _Merger:
    """Tails every file of the folder; each call returns what is new, in time order.

    The files are the folder reader's: a file moved or compressed while followed is
    the same file, and only what it did not hold before is printed.
    """

    def __init__(self, folder: Path) -> None:
        self.discovery = FolderReader(folder)

    def last_events(self, count: int) -> list[dict[str, Any]]:
        """The last ``count`` events of the folder, read from the end of each file."""
        self.discovery.discover()
        events = []
        for state in self.discovery.files.values():
            events += _parsed(state.tail.read_last(count))
        events.sort(key=_instant)
        return events[-count:] if count > 0 else []

    def new_events(self) -> list[dict[str, Any]]:
        self.discovery.discover()
        events = []
        for state in self.discovery.files.values():
            lines, _ = state.tail.read()
            events += _parsed(line.raw for line in lines)
        events.sort(key=_instant)  # the instant, whatever each line's UTC offset
        return events


def _parsed(raws: Iterable[bytes]) -> list[dict[str, Any]]:
    events = []
    for raw in raws:
        event = parse_line(raw)
        if type(event) is dict:
            events.append(event)
    return events


def _instant(event: dict[str, Any]) -> float:
    return epoch_seconds(event["ts"]) or 0.0


def _emit(events: list[dict[str, Any]], as_json: bool) -> None:
    write = sys.stdout.write
    for event in events:
        write(safe_json(event) + "\n" if as_json else describe(event) + "\n")
    sys.stdout.flush()


def _say_state(reason: str | None) -> None:
    """Following stopped, or goes on again: said on standard error."""
    message = f"following stopped: {reason}" if reason else "following again"
    print(f"dm-explore: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    merger = _Merger(folder)
    first = merger.last_events(args.lines) if args.lines is not None else merger.new_events()
    _emit(first, args.json)
    if args.no_follow:
        return 0
    try:
        follow(
            merger.discovery.root,
            lambda: _emit(merger.new_events(), args.json),
            threading.Event(),
            poll=args.poll,
            on_state=_say_state,
        )
    except KeyboardInterrupt:
        pass
    return 0
