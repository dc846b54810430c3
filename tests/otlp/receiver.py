"""A real OTLP/HTTP receiver on loopback for the tests: records each request, answers as told.

``Receiver.script`` holds the answers to give first, in order, as
``(status, headers, body)``; once it is empty every request gets 200.
``Receiver.by_path`` holds answers given to every request posted to one path. Requests
are decoded with the official protobuf classes (or as JSON), by the path they were
posted to: ``/v1/traces``, ``/v1/logs`` or ``/v1/metrics``.
"""

from __future__ import annotations

import gzip
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

CLASSES: dict[str, type[Message]] = {
    "traces": ExportTraceServiceRequest,
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}


def values(attributes: Any) -> dict[str, Any]:
    """``KeyValue`` messages as a dict of their plain values."""
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in attributes}


def span_count(request: Any) -> int:
    """How many spans an ``ExportTraceServiceRequest`` holds."""
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    script: deque[tuple[int, dict[str, str], bytes]] = field(default_factory=deque)
    by_path: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    if self.path in receiver.by_path:
                        status, headers, answer = receiver.by_path[self.path]
                    elif receiver.script:
                        status, headers, answer = receiver.script.popleft()
                    else:
                        status, headers, answer = 200, {}, b""
                    if status == 200:
                        receiver.requests.append(
                            Received(self.path, dict(self.headers.items()), body)
                        )
                    receiver.answered.append(status)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def decoded(self, signal: str = "traces") -> list[Any]:
        """The requests posted to ``/v1/<signal>``, decoded, in arrival order."""
        from tests.ci_docs.test_otlp import _hex_ids_to_base64

        found = []
        for request in self.requests:
            if not request.path.endswith(f"/v1/{signal}"):
                continue
            body = request.body
            if request.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            message = CLASSES[signal]()
            if request.headers.get("Content-Type") == "application/json":
                json_format.ParseDict(_hex_ids_to_base64(orjson.loads(body)), message)
            else:
                message.ParseFromString(body)
            found.append(message)
        return found

    def request_sizes(self) -> list[int]:
        """How many spans each traces request held, in arrival order."""
        return [span_count(request) for request in self.decoded()]

    def spans(self) -> list[tuple[dict[str, Any], Span]]:
        """Every span received: (its resource's attributes, the span), in arrival order."""
        out = []
        for request in self.decoded():
            for rs in request.resource_spans:
                attrs = values(rs.resource.attributes)
                for ss in rs.scope_spans:
                    out += [(attrs, span) for span in ss.spans]
        return out

    def logs(self) -> list[tuple[dict[str, Any], LogRecord]]:
        """Every log record received: (its resource's attributes, the record)."""
        out = []
        for request in self.decoded("logs"):
            for rl in request.resource_logs:
                attrs = values(rl.resource.attributes)
                for sl in rl.scope_logs:
                    out += [(attrs, record) for record in sl.log_records]
        return out

    def metrics(self) -> list[tuple[dict[str, Any], Metric]]:
        """Every metric received: (its resource's attributes, the metric)."""
        out = []
        for request in self.decoded("metrics"):
            for rm in request.resource_metrics:
                attrs = values(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    out += [(attrs, metric) for metric in sm.metrics]
        return out
