"""``dm-explore mcp DIR``: a Model Context Protocol server over stdio, for coding agents.

The agent starts it as a subprocess and speaks JSON-RPC on its standard input
and output: no socket, no daemon. The folder is followed live
(:class:`~dm_explore.cli.mcp_live.McpFolder`) and the tools
(:mod:`dm_explore.cli.mcp_server`, on the official SDK, the ``mcp`` extra)
answer JSON built by :mod:`dm_explore.outputs.mcp_tools` from the same model
as the explorer and the other commands.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .common import folder_or_exit

NAME = "mcp"
HELP = "serve the folder to coding agents over MCP (stdio; add it to Claude Code, Cursor, VS Code)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder of *.jsonl files")
    parser.add_argument(
        "--poll", action="store_true", help="poll instead of watching (NFS, containers)"
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=None,
        metavar="N",
        help="the longest answer, in characters (default 40000)",
    )


def run(args: argparse.Namespace) -> int:
    folder = folder_or_exit(args.folder)
    try:
        from .mcp_server import build_server
    except ImportError as exc:
        print(
            f"dm-explore: the MCP server needs the mcp extra: pip install 'debug-monitor[mcp]'"
            f" ({exc})",
            file=sys.stderr,
        )
        return 2
    from .mcp_live import McpFolder

    # standard error is the agent's log of the server: not a line per change seen
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    live = McpFolder(folder, poll=args.poll, max_chars=args.max_chars)
    live.start()
    try:
        build_server(live).run("stdio")
    finally:
        live.stop()
    return 0
