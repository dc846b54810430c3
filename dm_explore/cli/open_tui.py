"""``dm-explore open DIR`` (or just ``dm-explore DIR``): the live Textual explorer."""

from __future__ import annotations

import argparse
import sys

from .common import folder_or_exit

NAME = "open"
HELP = "open the live explorer on a folder (the default: dm-explore DIR)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument(
        "--poll", action="store_true", help="poll instead of watching (NFS, containers)"
    )


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    try:
        from ..tui.app import run as run_app
    except ImportError as exc:
        print(f"dm-explore: the explorer UI is not available: {exc}", file=sys.stderr)
        return 2
    return int(run_app(folder, poll=args.poll) or 0)
