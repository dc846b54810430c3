"""``dm-explore``: the command line. ``dm-explore DIR`` opens the live explorer.

Subcommands live one per module of this package; each module has ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``, and imports at
the top only what building the parser needs: what a command runs on (Textual,
watchfiles) is imported when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dm_log.contract import display_utc

from .. import __version__
from . import (
    check,
    demo,
    diff,
    endpoints,
    export,
    mcp,
    open_tui,
    report,
    ship,
    summary,
    tail,
    tree,
)

__all__ = ["build_parser", "main"]

SUBCOMMANDS = {
    module.NAME: module
    for module in (
        check,
        summary,
        tree,
        tail,
        report,
        endpoints,
        diff,
        export,
        ship,
        demo,
        mcp,
        open_tui,
    )
}
UTC_HELP = "show times in UTC (default: the local zone); JSON output is always UTC"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dm-explore",
        description="Explore a folder of debug-monitor JSON-lines files. "
        "`dm-explore DIR` opens the live explorer.",
    )
    parser.add_argument("--version", action="version", version=f"dm-explore {__version__}")
    parser.add_argument("--utc", action="store_true", help=UTC_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        # also after the subcommand; SUPPRESS keeps a --utc given before it
        command.add_argument("--utc", action="store_true", default=argparse.SUPPRESS, help=UTC_HELP)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `dm-explore [--utc] DIR [--poll]` is `dm-explore [--utc] open DIR [--poll]`.
    head = 1 if args_list[:1] == ["--utc"] else 0
    if (
        len(args_list) > head
        and args_list[head] not in SUBCOMMANDS
        and not args_list[head].startswith("-")
    ):
        args_list.insert(head, "open")
    parser = build_parser()
    args = parser.parse_args(args_list)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    display_utc(bool(getattr(args, "utc", False)))
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dm-explore tail DIR | head`
        sys.stderr.close()
        return 0
