"""``dm-explore ship DIR --endpoint URL``: follow a folder and send each span as it ends.

Each log line and exception is sent as a log record, each metric and runtime sample
as metric points, as they are read (``--signals`` to send fewer).

One per host, beside the application: it reads the folder as ``tail`` does,
sends spans to an OTLP/HTTP receiver in bounded requests and remembers per file
where it is in a state file (``--state``, default ``DIR/.dm-ship-state.json``,
written atomically), so a restart neither sends a span, a log record nor a metric
point twice, nor skips one (:mod:`dm_explore.cli.shipper`). While the receiver is
down, ended spans wait in a queue of at most ``--queue`` spans (and as many log
lines, and metric lines); past it the oldest are dropped and counted. SIGTERM:
what is queued is sent (retried for up to 5 s), the state written, and it exits 0;
Ctrl-C writes the state and stops. ``--once`` sends what is there now and exits: 0
when the receiver took everything, 1 when spans are left for the next run.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from ..outputs.otlp_send import Refused, Sender
from ..outputs.textsafe import safe_line
from .common import folder_or_exit
from .otlp_push import add_endpoint_arguments, endpoints_or_exit

NAME = "ship"
HELP = (
    "follow a folder and send each span (as it ends), log record and metric point to an "
    "OTLP/HTTP receiver"
)
STATE_NAME = ".dm-ship-state.json"
TICK_SECONDS = 1.0  # between two reads when nothing seems to change
REPORT_SECONDS = 30.0  # between two progress lines on stderr, while spans are sent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .shipper import DEFAULT_QUEUE

    parser.add_argument("folder", help="folder of *.jsonl and *.jsonl.gz files")
    add_endpoint_arguments(parser)
    parser.add_argument(
        "--state", metavar="FILE", help=f"progress file (default: DIR/{STATE_NAME})"
    )
    parser.add_argument(
        "--queue",
        type=int,
        default=DEFAULT_QUEUE,
        metavar="N",
        help=f"ended spans (and as many log lines, metric lines) kept while the receiver "
        f"is down (default {DEFAULT_QUEUE})",
    )
    parser.add_argument(
        "--retry-for",
        type=float,
        metavar="SECONDS",
        help="retry a request this long before counting the receiver as down "
        "(default 10, with --once 60)",
    )
    parser.add_argument("--once", action="store_true", help="send what is there now, then exit")
    parser.add_argument("--poll", action="store_true", help="poll instead of watching for changes")


def run(args: argparse.Namespace) -> int:
    from ..ingest.follow import follow
    from .shipper import Shipper, StateFile

    folder = folder_or_exit(args.folder)
    endpoints = endpoints_or_exit(args, required=True)
    stop = threading.Event()
    retry_for = args.retry_for if args.retry_for is not None else (60.0 if args.once else 10.0)
    senders = {s: Sender(e, give_up=retry_for, stop=stop) for s, e in endpoints.items()}
    state = StateFile(Path(args.state) if args.state else folder / STATE_NAME)
    shipper = Shipper(folder, senders, state, queue_limit=max(args.queue, 1))
    where = ", ".join(safe_line(e.url) for e in endpoints.values())
    shipper.say(f"sending {safe_line(folder)} to {where}")
    last_report = [time.monotonic(), 0]

    def step() -> None:
        shipper.read()
        shipper.flush()
        if shipper.sent != last_report[1] and time.monotonic() - last_report[0] > REPORT_SECONDS:
            shipper.say(shipper.counts())
            last_report[:] = [time.monotonic(), shipper.sent]

    changed = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        changed.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        if args.once:
            shipper.read()
            complete = shipper.flush(wait=True)
        else:
            # The watch only says that something changed; reading and sending stay on this
            # thread, once a change is seen and at least every TICK_SECONDS (retries, and
            # changes made while the watch was being set up).
            watcher = threading.Thread(
                target=follow, args=(folder, changed.set, stop), kwargs={"poll": args.poll},
                name="ship-watch", daemon=True,
            )  # fmt: skip
            watcher.start()
            while not stop.is_set():
                step()
                changed.wait(TICK_SECONDS)
                changed.clear()
            watcher.join(timeout=5)
            shipper.read()
            for sender in senders.values():
                sender.stop = threading.Event()
                sender.give_up = min(retry_for, 5.0)
            complete = shipper.flush(wait=True)
    except Refused as exc:
        shipper.save()
        shipper.say(f"{safe_line(str(exc))}; {shipper.counts()}")
        return 1
    except KeyboardInterrupt:
        complete = False
    finally:
        signal.signal(signal.SIGTERM, previous)
        for sender in senders.values():
            sender.close()
    shipper.save()
    shipper.say(shipper.counts())
    if not complete:
        shipper.say("the receiver did not take every span: they are sent on the next run")
    return 0 if complete or not args.once else 1
