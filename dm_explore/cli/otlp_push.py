"""Sending a folder to an OTLP/HTTP receiver, and writing its logs and metrics: the command line.

``export otlp DIR --endpoint URL`` and ``ship DIR --endpoint URL`` share the
arguments (:func:`add_endpoint_arguments`) and the way a failure ends the run:
the receiver's own message on stderr, exit 1. ``--signals`` chooses what is sent
or written: by default every signal an endpoint is named for when sending
(traces, logs, metrics), and traces only with ``-o FILE``.

:func:`push` streams (:class:`~dm_explore.outputs.otlp_stream.Stream`): each span
is sent once it ends, each log and metric line as it is read, in requests of a
bounded size; what is still open at the end is sent as unfinished. Memory holds the
open spans and one request per signal, whatever the folder's size.
"""

from __future__ import annotations

import argparse
import gc
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import IO

from ..ingest.raw_lines import (
    file_batches,
    file_size,
    folder_batches,
    folder_files,
    share_files,
)
from ..outputs.otlp_send import (
    JSON,
    PROTOBUF,
    SIGNALS,
    Endpoint,
    Sender,
    SendError,
    endpoints_from,
    not_served,
)
from ..outputs.textsafe import safe_line

__all__ = [
    "add_endpoint_arguments",
    "endpoint_or_exit",
    "endpoints_or_exit",
    "jobs_for",
    "push",
    "signals_of",
    "write_points",
]

POINT_BATCH = 4096  # log records, or metric lines, in one request of a file
MIN_BYTES_PER_JOB = 8 * 2**20  # below this a reading process costs more than it saves


def jobs_for(files: list[Path], jobs: int | None = None) -> int:
    """How many processes read ``files``: ``jobs`` if given (at most one per file), else
    one per CPU, at most 4, and no more than one per :data:`MIN_BYTES_PER_JOB`."""
    if jobs is None:
        if not hasattr(os, "fork"):
            return 1
        size = sum(file_size(path) for path in files)
        jobs = min(os.cpu_count() or 1, 4, max(size // MIN_BYTES_PER_JOB, 1))
    return max(min(jobs, len(files)), 1)


def _signals(text: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    wrong = [s for s in chosen if s not in SIGNALS]
    if wrong or not chosen:
        raise argparse.ArgumentTypeError(f"signals are {', '.join(SIGNALS)}, comma-separated")
    return tuple(s for s in SIGNALS if s in chosen)


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="OTLP/HTTP receiver's base URL (/v1/traces, /v1/logs, /v1/metrics are appended); "
        "default: $OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT or $OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    parser.add_argument(
        "--protocol",
        choices=(PROTOBUF, JSON),
        help=f"default: $OTEL_EXPORTER_OTLP_PROTOCOL, else {PROTOBUF}",
    )
    parser.add_argument(
        "--signals",
        type=_signals,
        metavar="LIST",
        help="comma-separated, of traces, logs, metrics; default: all three when sending, "
        "traces with -o",
    )


def signals_of(args: argparse.Namespace, *, default: tuple[str, ...] = SIGNALS) -> tuple[str, ...]:
    chosen: tuple[str, ...] | None = getattr(args, "signals", None)
    return chosen if chosen else default


def endpoints_or_exit(args: argparse.Namespace, *, required: bool) -> dict[str, Endpoint]:
    """The endpoints of the chosen signals, by signal; exit 2 if one is wrong or none is named."""
    try:
        endpoints = endpoints_from(args.endpoint, args.protocol, signals=signals_of(args))
        for signal, endpoint in endpoints.items():
            Sender(endpoint).close()  # checks the URL
            own = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
            endpoint.optional = (
                signal != "traces" and not args.signals and not (own and not args.endpoint)
            )
    except ValueError as exc:
        print(f"dm-explore: {safe_line(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from None
    if not endpoints and required:
        print(
            "dm-explore: give -o FILE, --endpoint URL or set OTEL_EXPORTER_OTLP_ENDPOINT",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return endpoints


def endpoint_or_exit(args: argparse.Namespace, *, required: bool) -> Endpoint | None:
    """The first endpoint :func:`endpoints_or_exit` finds, or None."""
    endpoints = endpoints_or_exit(args, required=required)
    return next(iter(endpoints.values()), None)


def push(folder: Path, endpoints: dict[str, Endpoint], jobs: int | None = None) -> int:
    """Stream the folder to the endpoints; 0 when the receiver took everything, else 1 and why.

    Requests are posted by one thread, in order, while the next ones are read and encoded
    (at most :data:`IN_FLIGHT` wait): the receiver's time and the encoder's overlap.
    A big folder is read by several processes (``jobs``, default
    :func:`~dm_explore.outputs.otlp_workers.jobs_for`), each its share of the files.
    """
    from ..outputs.otlp_stream import MAX_TRACE_IDS, Stream
    from ..outputs.otlp_workers import WorkerFailed, Workers

    json = [signal for signal, endpoint in endpoints.items() if endpoint.protocol == JSON]
    files = list(folder_files(folder))
    jobs = jobs_for(files, jobs)
    stream: Stream | Workers
    if jobs > 1:
        shares = [file_batches(share) for share in share_files(files, jobs)]
        stream = Workers(shares, tuple(endpoints), json=json)
        stream.start()  # before the posting thread
    else:
        stream = Stream(file_batches(files), tuple(endpoints), json=json)
    poster = _Poster({signal: Sender(endpoint) for signal, endpoint in endpoints.items()})
    began = time.perf_counter()
    # Parsed lines live from their span's start to its end and hold no cycles: collections
    # would only walk them. What is loaded so far is never garbage (frozen), and the young
    # generation is collected once 100,000 objects wait rather than 700.
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        for signal, body, items in stream:
            if signal in poster.senders and not poster.put(signal, body, items):
                break
        poster.finish()
    except WorkerFailed as exc:
        print(f"dm-explore: reading the folder failed: {safe_line(str(exc))}", file=sys.stderr)
        return 1
    finally:
        gc.set_threshold(*thresholds)
        poster.close()
    if poster.failure is not None:
        done = ", ".join(f"{n} {s}" for s, n in poster.counts.items() if n)
        print(
            f"dm-explore: {safe_line(str(poster.failure))} (sent before: {done or 'nothing'})",
            file=sys.stderr,
        )
        return 1
    took = time.perf_counter() - began
    senders = poster.all_senders
    requests = sum(sender.requests for sender in senders)
    sent_bytes = sum(sender.bytes for sender in senders)
    retries = sum(sender.retries for sender in senders)
    where = ", ".join(safe_line(e.url) for e in endpoints.values())
    counts = poster.counts
    seen = len(stream.trace_ids)
    traces = f"at least {MAX_TRACE_IDS}" if seen >= MAX_TRACE_IDS else str(seen)
    print(
        f"sent {traces} traces ({counts['traces']} spans, {counts['logs']} log "
        f"records, {counts['metrics']} metric points; {requests} requests, {sent_bytes} bytes, "
        f"{retries} retries) to {where} in {took:.1f}s",
        file=sys.stderr,
    )
    return 0


IN_FLIGHT = 2  # encoded requests waiting for the posting thread, at most


class _Poster:
    """Posts ``(signal, body)`` requests on its own thread, in the order they are put.

    The first request the receiver does not take ends the posting: :attr:`failure`
    says why and nothing after it is sent. A signal not asked for that the receiver
    does not serve (:func:`~dm_explore.outputs.otlp_send.not_served`) is dropped with
    a line on stderr instead.
    """

    def __init__(self, senders: dict[str, Sender]) -> None:
        self.senders = senders
        self.all_senders = list(senders.values())
        self.counts = dict.fromkeys(SIGNALS, 0)
        self.failure: SendError | None = None
        self._queue: queue.Queue[tuple[str, bytes, int] | None] = queue.Queue(IN_FLIGHT)
        self._thread = threading.Thread(target=self._run, name="otlp-post", daemon=True)
        self._thread.start()

    def put(self, signal: str, body: bytes, items: int) -> bool:
        """Queue a request; False once posting has failed."""
        while self.failure is None:
            try:
                self._queue.put((signal, body, items), timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def finish(self) -> None:
        """Wait until every request put has been posted (or posting failed)."""
        while self.failure is None and self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.2)
                break
            except queue.Full:
                continue
        self._thread.join()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            signal, body, items = job
            sender = self.senders.get(signal)
            if sender is None:
                continue
            try:
                sender.post(body)
            except SendError as exc:
                if not not_served(sender.endpoint, exc):
                    self.failure = exc
                    return
                print(f"dm-explore: {safe_line(str(exc))}: {signal} not sent", file=sys.stderr)
                del self.senders[signal]
                continue
            self.counts[signal] += items

    def close(self) -> None:
        for sender in self.all_senders:
            sender.close()


def write_points(folder: Path, signals: tuple[str, ...], out: IO[bytes]) -> int:
    """Write the logs and metrics requests as OTLP/JSON lines; returns how many were written."""
    from ..outputs.otlp_stream import Stream

    points = [signal for signal in signals if signal != "traces"]
    stream = Stream(folder_batches(folder), points, json=points, max_items=POINT_BATCH)
    count = 0
    for _signal, body, _items in stream:
        out.write(body + b"\n")
        count += 1
    return count
