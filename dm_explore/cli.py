"""``dm-explore``: the command line. ``dm-explore DIR`` opens the live explorer.

Subcommands live one per module in :mod:`dm_explore.commands`; each module has
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from . import __version__
from .textsafe import safe_line

__all__ = ["folder_or_exit", "main"]

SUBCOMMANDS = ("check", "summary", "tree", "tail", "report", "export", "demo", "open")


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"dm_explore.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dm-explore",
        description="Explore a folder of debug-monitor JSON-lines files. "
        "`dm-explore DIR` opens the live explorer.",
    )
    parser.add_argument("--version", action="version", version=f"dm-explore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = _load(name)
        except ImportError:
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


class FolderError(Exception):
    """The folder given on the command line cannot be read."""


def folder_or_exit(path: str) -> Path:
    """The folder as a Path, or a one-line error and exit status 2."""
    folder = Path(path)
    try:
        if not folder.is_dir():
            raise FolderError(f"not a folder: {path}")
        next(iter(folder.iterdir()), None)
    except PermissionError:
        _fail(f"cannot read folder: {path}")
    except FolderError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot read folder: {path}: {exc.strerror or exc}")
    return folder


def _fail(message: str) -> None:
    print(f"dm-explore: {safe_line(message)}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `dm-explore DIR [--poll]` is `dm-explore open DIR [--poll]`.
    if args_list and args_list[0] not in SUBCOMMANDS and not args_list[0].startswith("-"):
        args_list.insert(0, "open")
    parser = build_parser()
    args = parser.parse_args(args_list)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dm-explore tail DIR | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
