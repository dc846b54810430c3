"""Logs and metrics sent beside the traces, to a real OTLP/HTTP receiver on loopback.

The receiver (:mod:`tests.otlp.receiver`) decodes each request with the official
``opentelemetry-proto`` classes, by the path it was posted to.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

from dm_explore.cli import main
from tests.otlp.conftest import dm_explore
from tests.otlp.receiver import Receiver, values
from tests.otlp.writer import Writer

SITE = {"file": "/srv/items/views.py", "line": 21, "func": "item"}
FRAME = {"file": "/srv/items/views.py", "line": 30, "func": "item", "module": "items.views",
         "in_app": True, "src": "row['grade']"}  # fmt: skip


def write_folder(folder: Path) -> tuple[str, str]:
    """A request with a log line and an exception inside, a log line outside any span,
    metric samples (an integer with tags, a float) and a runtime sample."""
    w = Writer(folder)
    trace, span = f"{1:032x}", f"{2:016x}"
    ids = {"trace": trace, "span": span}
    w.add("request.start", **ids, method="GET", path="/items/1/", scheme="http")
    w.add("log", **ids, level="warning", msg="cache miss for item 1", logger="items.views",
          fields={"item": 1}, site=SITE)  # fmt: skip
    w.add("exception", **ids, type="KeyError", message="'grade'", frames=[FRAME],
          fingerprint="8c1f0e2d3b4a5968", handled=False, mechanism="django")  # fmt: skip
    w.add("request.end", **ids, ms=3.0, outcome="error", status=500, error="KeyError")
    w.add("log", level="info", msg="worker idle", logger="items.jobs")
    w.add("metric", name="queue.depth", value=12, unit="tasks", tags={"queue": "mail"})
    w.add("metric", name="cache.ratio", value=0.75)
    w.add("runtime", rss=83562496, cpu=4.21, threads=7, gc=[311, 4, 1], fds=23)
    return trace, span


def check_logs(receiver: Receiver, trace: str, span: str) -> None:
    logs = receiver.logs()
    by_body = {r.body.string_value: (resource, r) for resource, r in logs}
    assert len(logs) == len(by_body) == 3  # each once
    resource, warning = by_body["cache miss for item 1"]
    assert resource["service.name"] == "web" and resource["process.pid"] == 4242
    assert warning.trace_id.hex() == trace and warning.span_id.hex() == span
    assert warning.severity_number == SeverityNumber.SEVERITY_NUMBER_WARN
    assert warning.severity_text == "WARNING"
    assert warning.time_unix_nano == 1795425300004500000  # 09:15:00.004500, the line's ts
    assert values(warning.attributes) == {
        "code.file.path": "/srv/items/views.py", "code.line.number": 21,
        "code.function.name": "item", "dm.logger": "items.views", "dm.field.item": 1,
    }  # fmt: skip
    _, error = by_body["KeyError: 'grade'"]
    assert error.event_name == "exception" and error.span_id.hex() == span
    assert error.severity_number == SeverityNumber.SEVERITY_NUMBER_ERROR
    attrs = values(error.attributes)
    assert attrs["exception.type"] == "KeyError" and attrs["exception.message"] == "'grade'"
    assert attrs["exception.stacktrace"].endswith("row['grade']\nKeyError: 'grade'")
    assert attrs["code.line.number"] == 30 and attrs["dm.exception.handled"] is False
    _, idle = by_body["worker idle"]
    assert idle.trace_id == b"" and idle.span_id == b""  # outside any span: no link
    assert idle.severity_number == SeverityNumber.SEVERITY_NUMBER_INFO


def check_metrics(receiver: Receiver) -> None:
    metrics = {m.name: m for _, m in receiver.metrics()}
    assert set(metrics) == {
        "queue.depth", "cache.ratio", "process.memory.usage", "process.cpu.time",
        "process.thread.count", "process.open_file_descriptor.count",
    }  # fmt: skip
    (depth,) = metrics["queue.depth"].gauge.data_points
    assert metrics["queue.depth"].unit == "tasks"
    assert depth.as_int == 12 and values(depth.attributes) == {"queue": "mail"}
    assert depth.WhichOneof("value") == "as_int"
    (ratio,) = metrics["cache.ratio"].gauge.data_points
    assert ratio.WhichOneof("value") == "as_double" and ratio.as_double == 0.75
    assert metrics["process.memory.usage"].gauge.data_points[0].as_int == 83562496
    cpu = metrics["process.cpu.time"]
    assert cpu.WhichOneof("data") == "sum" and cpu.unit == "s"
    assert cpu.sum.is_monotonic
    cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    assert cpu.sum.aggregation_temporality == cumulative
    assert cpu.sum.data_points[0].as_double == 4.21


def test_logs_and_metrics_go_beside_the_traces(tmp_path: Path, receiver: Receiver) -> None:
    trace, span = write_folder(tmp_path / "logs")
    assert main(["export", "otlp", str(tmp_path / "logs"), "--endpoint", receiver.url]) == 0
    assert {r.path for r in receiver.requests} == {"/v1/traces", "/v1/logs", "/v1/metrics"}
    assert {r.headers["Content-Type"] for r in receiver.requests} == {"application/x-protobuf"}
    check_logs(receiver, trace, span)
    check_metrics(receiver)
    (_, request_span), = receiver.spans()  # fmt: skip
    assert request_span.span_id.hex() == span  # the logs' span is the one the trace holds


def test_logs_and_metrics_as_json(tmp_path: Path, receiver: Receiver) -> None:
    trace, span = write_folder(tmp_path / "logs")
    result = dm_explore("export", "otlp", str(tmp_path / "logs"), "--endpoint", receiver.url,
                        "--protocol", "http/json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "3 log records, 6 metric points" in result.stderr
    assert {r.headers["Content-Type"] for r in receiver.requests} == {"application/json"}
    check_logs(receiver, trace, span)
    check_metrics(receiver)


def test_each_signal_has_its_own_variable(tmp_path: Path, receiver: Receiver) -> None:
    write_folder(tmp_path / "logs")
    env = {
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": receiver.url + "/custom/logs",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": receiver.url + "/custom/metrics",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json",
    }
    result = dm_explore("export", "otlp", str(tmp_path / "logs"), env=env)
    assert result.returncode == 0, result.stderr
    sent = {r.path: r.headers["Content-Type"] for r in receiver.requests}
    # no traces endpoint named: no traces sent; each URL used as it is
    assert sent == {"/custom/logs": "application/x-protobuf", "/custom/metrics": "application/json"}


def test_a_4xx_from_the_logs_endpoint_ends_the_run(tmp_path: Path, receiver: Receiver) -> None:
    write_folder(tmp_path / "logs")
    receiver.by_path["/v1/logs"] = (400, {"Content-Type": "text/plain"}, b"log body too large")
    result = dm_explore("export", "otlp", str(tmp_path / "logs"), "--endpoint", receiver.url)
    assert result.returncode == 1
    assert "HTTP 400: log body too large" in result.stderr
    assert receiver.answered.count(400) == 1  # not retried
    assert not receiver.decoded("metrics")  # nothing sent after the refusal


def test_file_export_with_signals(tmp_path: Path) -> None:
    from tests.ci_docs.test_otlp import _hex_ids_to_base64

    write_folder(tmp_path / "logs")
    out = tmp_path / "all.jsonl"
    result = dm_explore("export", "otlp", str(tmp_path / "logs"), "-o", str(out),
                        "--signals", "traces,logs,metrics")  # fmt: skip
    assert result.returncode == 0, result.stderr
    import orjson
    from google.protobuf import json_format

    from tests.otlp.receiver import CLASSES

    kinds = Counter()
    for line in out.read_bytes().splitlines():
        data = orjson.loads(line)
        (field,) = data
        signal = {"resourceSpans": "traces", "resourceLogs": "logs",
                  "resourceMetrics": "metrics"}[field]  # fmt: skip
        json_format.ParseDict(_hex_ids_to_base64(data), CLASSES[signal]())
        kinds[signal] += 1
    assert kinds == {"traces": 1, "logs": 1, "metrics": 1}
    # the default stays traces only
    result = dm_explore("export", "otlp", str(tmp_path / "logs"), "-o", str(out))
    assert result.returncode == 0 and out.read_bytes().count(b"\n") == 1
    assert b"resourceLogs" not in out.read_bytes()


def test_ship_sends_each_log_once_across_restarts(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    trace, span = f"{7:032x}", f"{8:016x}"
    ids = {"trace": trace, "span": span}
    # a request open across the restarts: its lines, logs included, are read again
    w.add("request.start", **ids, method="GET", path="/slow/", scheme="http")
    w.add("log", **ids, level="info", msg="log 1")
    w.add("metric", name="queue.depth", value=1)
    run = dm_explore("ship", str(folder), "--endpoint", receiver.url, "--once")
    assert run.returncode == 0, run.stderr
    w.add("log", **ids, level="info", msg="log 2")
    w.add("log", level="error", msg="log 3")
    w.add("metric", name="queue.depth", value=2)
    run = dm_explore("ship", str(folder), "--endpoint", receiver.url, "--once")
    assert run.returncode == 0, run.stderr
    w.add("request.end", **ids, ms=5.0, outcome="ok", status=200)
    w.add("log", level="info", msg="log 4")
    run = dm_explore("ship", str(folder), "--endpoint", receiver.url, "--once")
    assert run.returncode == 0, run.stderr
    bodies = Counter(r.body.string_value for _, r in receiver.logs())
    assert bodies == {"log 1": 1, "log 2": 1, "log 3": 1, "log 4": 1}
    linked = {r.body.string_value: r.span_id.hex() for _, r in receiver.logs()}
    assert linked["log 1"] == linked["log 2"] == span and linked["log 3"] == ""
    depths = [m.gauge.data_points[0].as_int for _, m in receiver.metrics()]
    assert sorted(depths) == [1, 2]
    assert [s.span_id.hex() for _, s in receiver.spans()] == [span]


def test_a_receiver_without_logs_and_metrics_still_takes_the_traces(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A trace store (Jaeger, Phoenix) has no /v1/logs: the signals not asked for stop."""
    write_folder(tmp_path / "logs")
    for path in ("/v1/logs", "/v1/metrics"):
        receiver.by_path[path] = (404, {}, b"Not Found")
    result = dm_explore("export", "otlp", str(tmp_path / "logs"), "--endpoint", receiver.url)
    assert result.returncode == 0, result.stderr
    assert "HTTP 404: Not Found: logs not sent" in result.stderr
    assert len(receiver.spans()) == 1
    once = dm_explore("ship", str(tmp_path / "logs"), "--endpoint", receiver.url, "--once")
    assert once.returncode == 0, once.stderr
    assert "metrics not sent" in once.stderr
    # asked for by name, the same answer is a refusal
    asked = dm_explore("export", "otlp", str(tmp_path / "logs"), "--endpoint", receiver.url,
                       "--signals", "traces,logs")  # fmt: skip
    assert asked.returncode == 1 and "HTTP 404: Not Found" in asked.stderr
