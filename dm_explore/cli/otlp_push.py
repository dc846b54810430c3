"""Sending a folder's traces to an OTLP/HTTP receiver: the command-line side.

``export otlp DIR --endpoint URL`` and ``ship DIR --endpoint URL`` share the
arguments (:func:`add_endpoint_arguments`) and the way a failure ends the run:
the receiver's own message on stderr, exit 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from typing import Any

from ..model import Model
from ..outputs.otlp import export_requests
from ..outputs.otlp_send import JSON, PROTOBUF, Endpoint, Sender, SendError, endpoint_from
from ..outputs.textsafe import safe_line

__all__ = ["add_endpoint_arguments", "endpoint_or_exit", "push", "span_count"]


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="OTLP/HTTP receiver's base URL (/v1/traces is appended); default: "
        "$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or $OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    parser.add_argument(
        "--protocol",
        choices=(PROTOBUF, JSON),
        help=f"default: $OTEL_EXPORTER_OTLP_PROTOCOL, else {PROTOBUF}",
    )


def endpoint_or_exit(args: argparse.Namespace, *, required: bool) -> Endpoint | None:
    """The endpoint from the arguments and the environment; exit 2 if it is wrong or missing."""
    try:
        endpoint = endpoint_from(args.endpoint, args.protocol)
        if endpoint is not None:
            Sender(endpoint).close()  # checks the URL
    except ValueError as exc:
        print(f"dm-explore: {safe_line(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from None
    if endpoint is None and required:
        print(
            "dm-explore: give -o FILE, --endpoint URL or set OTEL_EXPORTER_OTLP_ENDPOINT",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return endpoint


def span_count(request: Mapping[str, Any]) -> int:
    """How many spans one ``ExportTraceServiceRequest`` holds."""
    return sum(len(ss["spans"]) for rs in request["resourceSpans"] for ss in rs["scopeSpans"])


def push(model: Model, endpoint: Endpoint) -> int:
    """Send every trace of ``model``; 0 when the receiver took them all, else 1 and why."""
    sender = Sender(endpoint)
    spans = 0
    began = time.perf_counter()
    try:
        for request in export_requests(model, per_trace=False):
            sender.send(request)
            spans += span_count(request)
    except SendError as exc:
        print(f"dm-explore: {safe_line(str(exc))} (sent {spans} spans before)", file=sys.stderr)
        return 1
    finally:
        sender.close()
    took = time.perf_counter() - began
    print(
        f"sent {len(model.traces)} traces ({spans} spans, {sender.requests} requests, "
        f"{sender.bytes} bytes, {sender.retries} retries) to {safe_line(endpoint.url)} "
        f"in {took:.1f}s",
        file=sys.stderr,
    )
    return 0
