"""Log lines, exceptions and metric samples as OTLP logs and metrics (the OTLP/JSON shape).

Each function takes one line of the folder parsed into a dict (the envelope included)
and gives what the receiver stores; :func:`logs_request` and :func:`metrics_request`
group them by process into ``ExportLogsServiceRequest`` and
``ExportMetricsServiceRequest`` objects, with the same resource as the process's spans
(:func:`dm_explore.outputs.otlp.resource`).

**Logs.** A ``log`` line is a ``LogRecord``: its time, ``severityNumber`` from the
level (debug 5, info 9, warning 13, error 17, critical 21) and ``severityText`` the
level in capitals, the message as a string ``body``, ``traceId`` and ``spanId`` when
the line names its span, and attributes ``code.file.path``, ``code.line.number``,
``code.function.name`` (the call site), ``dm.logger`` and ``dm.field.<name>`` for each
structured field. An ``exception`` line is a ``LogRecord`` too, with severity ERROR,
``eventName`` ``exception``, body ``Type: message`` and the attributes
``exception.type``, ``exception.message``, ``exception.stacktrace``, the innermost
frame's code location, ``dm.exception.handled``, ``dm.fingerprint`` and ``dm.mechanism``.

**Metrics.** A ``metric`` line is one sample of a series with no aggregation of its
own, so it is a ``Gauge`` data point: the metric's ``name`` and ``unit``, the value
as ``asInt`` when it is an integer and ``asDouble`` otherwise, the ``tags`` as the
point's attributes. A ``runtime`` sample gives ``process.memory.usage`` (gauge, By),
``process.cpu.time`` (a cumulative monotonic ``Sum``, s), ``process.thread.count`` and
``process.open_file_descriptor.count`` (gauges). No line carries buckets or counts,
so nothing is sent as a histogram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..model import ProcessKey
from .otlp_events import attributes, ts_nanos

__all__ = [
    "LOG_KINDS",
    "METRIC_KINDS",
    "exception_record",
    "log_record",
    "logs_request",
    "metric_points",
    "metrics_request",
    "process_of",
]

LOG_KINDS = frozenset(("log", "exception"))
METRIC_KINDS = frozenset(("metric", "runtime"))
_SCOPE = {"name": "debug-monitor", "version": "0.1.0"}
_SEVERITY = {"debug": 5, "info": 9, "warning": 13, "error": 17, "critical": 21}
SEVERITY_ERROR = 17
AGGREGATION_CUMULATIVE = 2


def process_of(data: Mapping[str, Any]) -> ProcessKey:
    """The process that wrote a line: its ``svc``, ``host`` and ``pid``."""
    return (str(data.get("svc")), str(data.get("host")), int(data.get("pid") or 0))


def _time(data: Mapping[str, Any]) -> str:
    return str(ts_nanos(data.get("ts")) or 0)


def _ids(record: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    trace, span = data.get("trace"), data.get("span")
    if isinstance(trace, str) and len(trace) == 32:
        record["traceId"] = trace
        if isinstance(span, str) and len(span) == 16:
            record["spanId"] = span
    return record


def _site(site: Any) -> list[tuple[str, Any]]:
    if not isinstance(site, Mapping):
        return []
    line = site.get("line")
    return [
        ("code.file.path", site.get("file") or None),
        ("code.line.number", line if type(line) is int else None),
        ("code.function.name", site.get("func") or None),
    ]


def log_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """A ``log`` line as an OTLP/JSON ``LogRecord``."""
    level = str(data.get("level") or "info")
    pairs = _site(data.get("site"))
    pairs.append(("dm.logger", data.get("logger") or None))
    fields = data.get("fields")
    if isinstance(fields, Mapping):
        pairs += [(f"dm.field.{k}", v) for k, v in fields.items()]
    record = {
        "timeUnixNano": _time(data),
        "severityNumber": _SEVERITY.get(level, 9),
        "severityText": level.upper(),
        "body": {"stringValue": str(data.get("msg", ""))},
        "attributes": attributes(pairs),
    }
    return _ids(record, data)


def _stacktrace(data: Mapping[str, Any]) -> str:
    from .otlp_events import _stacktrace as stacktrace

    return stacktrace(data)


def exception_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """An ``exception`` line as an OTLP/JSON ``LogRecord`` with the ``exception.*`` attributes."""
    frames = [f for f in data.get("frames") or () if isinstance(f, Mapping)]
    pairs = [
        ("exception.type", data.get("type")),
        ("exception.message", data.get("message")),
        ("exception.stacktrace", _stacktrace(data)),
        *_site(frames[-1] if frames else None),
        ("dm.exception.handled", data.get("handled")),
        ("dm.fingerprint", data.get("fingerprint")),
        ("dm.mechanism", data.get("mechanism")),
    ]
    record = {
        "timeUnixNano": _time(data),
        "severityNumber": SEVERITY_ERROR,
        "severityText": "ERROR",
        "eventName": "exception",
        "body": {"stringValue": f"{data.get('type')}: {data.get('message', '')}"},
        "attributes": attributes(pairs),
    }
    return _ids(record, data)


def _point(time: str, value: Any, pairs: Iterable[tuple[str, Any]] = ()) -> dict[str, Any]:
    point: dict[str, Any] = {"timeUnixNano": time, "attributes": attributes(pairs)}
    if type(value) is int and -(2**63) <= value < 2**63:
        point["asInt"] = str(value)
    else:
        point["asDouble"] = float(value)
    return point


def _gauge(name: str, unit: str, point: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "unit": unit, "gauge": {"dataPoints": [point]}}


def metric_points(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A ``metric`` or ``runtime`` line as OTLP/JSON ``Metric`` objects, one data point each.

    A line whose value is not a number gives none.
    """
    time = _time(data)
    if data.get("event") == "metric":
        value, name = data.get("value"), data.get("name")
        if type(value) not in (int, float) or not isinstance(name, str):
            return []
        tags = data.get("tags")
        pairs = list(tags.items()) if isinstance(tags, Mapping) else []
        return [_gauge(name, str(data.get("unit") or ""), _point(time, value, pairs))]
    found = []
    for key, name, unit in (
        ("rss", "process.memory.usage", "By"),
        ("threads", "process.thread.count", "{thread}"),
        ("fds", "process.open_file_descriptor.count", "{file_descriptor}"),
    ):
        value = data.get(key)
        if type(value) in (int, float):  # not a bool
            found.append(_gauge(name, unit, _point(time, value)))
    cpu = data.get("cpu")
    if isinstance(cpu, int | float) and not isinstance(cpu, bool):
        found.append({
            "name": "process.cpu.time",
            "unit": "s",
            "sum": {
                "dataPoints": [_point(time, float(cpu))],
                "aggregationTemporality": AGGREGATION_CUMULATIVE,
                "isMonotonic": True,
            },
        })  # fmt: skip
    return found


def _grouped(items: Iterable[tuple[ProcessKey, dict[str, Any]]]) -> dict[ProcessKey, list[Any]]:
    by_process: dict[ProcessKey, list[dict[str, Any]]] = {}
    for process, item in items:
        by_process.setdefault(process, []).append(item)
    return by_process


def logs_request(items: Iterable[tuple[ProcessKey, dict[str, Any]]]) -> dict[str, Any]:
    """One ``ExportLogsServiceRequest`` of ``(process, LogRecord)`` pairs, grouped by process."""
    from .otlp import resource

    return {
        "resourceLogs": [
            {"resource": resource(p), "scopeLogs": [{"scope": _SCOPE, "logRecords": records}]}
            for p, records in _grouped(items).items()
        ]
    }


def metrics_request(items: Iterable[tuple[ProcessKey, dict[str, Any]]]) -> dict[str, Any]:
    """One ``ExportMetricsServiceRequest`` of ``(process, Metric)`` pairs, grouped by process.

    The points of one series (same name, unit and type) from one process share a ``Metric``.
    """
    from .otlp import resource

    out = []
    for process, metrics in _grouped(items).items():
        merged: dict[tuple[str, str, str], dict[str, Any]] = {}
        for metric in metrics:
            kind = "sum" if "sum" in metric else "gauge"
            key = (metric["name"], metric["unit"], kind)
            same = merged.get(key)
            if same is None:
                points = list(metric[kind]["dataPoints"])
                merged[key] = {**metric, kind: {**metric[kind], "dataPoints": points}}
            else:
                same[kind]["dataPoints"] += metric[kind]["dataPoints"]
        scope = {"scope": _SCOPE, "metrics": list(merged.values())}
        out.append({"resource": resource(process), "scopeMetrics": [scope]})
    return {"resourceMetrics": out}
