"""``dm-explore demo``: the example services writing real logs, with the explorer open on them.

Starts the demo of ``examples/`` (a Django ``web`` service whose page calls a Django
``api`` service over HTTP on loopback, a Celery worker on a filesystem broker, a
management command with progress) recording into a fresh private folder, and
opens the live explorer on it. Quitting the explorer stops the services.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import dm_explore

NAME = "demo"
HELP = "start the bundled example services and open the live explorer on their logs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="folder to record into (default: a new temporary one)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="without a terminal: run this many seconds, then print a summary",
    )


def _examples() -> Path | None:
    folder = Path(dm_explore.__file__).resolve().parents[1] / "examples"
    return folder if (folder / "demo.py").is_file() else None


def run(args: argparse.Namespace) -> int:
    examples = _examples()
    if examples is None:
        print(
            "dm-explore: the demo runs from a checkout of the repository (examples/ not found)",
            file=sys.stderr,
        )
        return 2
    sys.path[:0] = [str(examples), str(examples / "demo_site")]
    from demo import start_demo  # type: ignore[import-not-found,unused-ignore]

    folder = args.log_dir or Path(tempfile.mkdtemp(prefix="dm-demo-")) / "logs"
    print(f"starting the example services, recording into {folder} ...", flush=True)
    handle = start_demo(folder, duration=None)
    try:
        if sys.stdout.isatty() and sys.stdin.isatty() and args.duration is None:
            from ..tui.app import run as run_app

            return int(run_app(folder) or 0)
        time.sleep(args.duration if args.duration is not None else 30)
    finally:
        handle.stop()
    from ..ingest import load_folder
    from ..outputs.summary import summarize

    data = summarize(load_folder(folder).model, [])
    print(
        f"{handle.loads} page loads: {data['requests']} requests in {data['traces']} traces, "
        f"{data['issues']} issues, services {', '.join(data['services'])}; logs in {folder}"
    )
    return 0
