"""``dm-explore tail DIR [--json]``: every file merged in time order, then followed live."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from dm_log.contract import epoch_seconds

from ..ingest import FolderReader, parse_line
from ..ingest.follow import follow
from ..ingest.tail import Tail
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
    """Tails every file of the folder; each call returns what is new, in time order."""

    def __init__(self, folder: Path) -> None:
        self.discovery = FolderReader(folder)
        self.tails: dict[str, Tail] = {}

    def new_events(self) -> list[dict[str, Any]]:
        self.discovery.discover()
        for path in self.discovery.files:
            if path not in self.tails:
                self.tails[path] = Tail(Path(path))
        events = []
        for tail in self.tails.values():
            lines, _ = tail.read()
            for line in lines:
                event = parse_line(line.raw)
                if type(event) is dict:
                    events.append(event)
        events.sort(key=_instant)  # the instant, whatever each line's UTC offset
        return events


def _instant(event: dict[str, Any]) -> float:
    return epoch_seconds(event["ts"]) or 0.0


def _emit(events: list[dict[str, Any]], as_json: bool) -> None:
    write = sys.stdout.write
    for event in events:
        write(safe_json(event) + "\n" if as_json else describe(event) + "\n")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    merger = _Merger(folder)
    first = merger.new_events()
    if args.lines is not None:
        first = first[-args.lines :] if args.lines > 0 else []
    _emit(first, args.json)
    if args.no_follow:
        return 0
    try:
        follow(
            merger.discovery.root,
            lambda: _emit(merger.new_events(), args.json),
            threading.Event(),
            poll=args.poll,
        )
    except KeyboardInterrupt:
        pass
    return 0
