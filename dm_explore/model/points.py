"""Point events (sql, log, exception, panel, metric, ...) applied to the model.

Each handler takes the model, the parsed event, its time in epoch seconds, the
span it names (or None), the writing process and the file it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .issues import Issue
from .records import ENVELOPE, MAX_DEPTH, LogRec, Span, SqlRec, number, shared

if TYPE_CHECKING:
    from .model import FileInfo, Model, ProcessInfo

__all__ = ["POINT_HANDLERS"]


def sql(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    params = event.get("params")
    rec = SqlRec(event, ts, shared(event["sql"]), orjson.dumps(params).decode() if params else "")
    model.totals["sql"] += 1
    if span is None:
        proc.sql.append(rec)
        return
    span.sql.append(rec)
    ms = rec.ms
    span.sql_ms += ms
    # Count it for this span and its ancestors in the same process (a request's total);
    # the depth bound ends a cycle of parent links from a hostile file.
    process, spans, depth = span.process, model.spans, 0
    current: Span | None = span
    while current is not None and current.process == process and depth < MAX_DEPTH:
        current.queries += 1
        current.queries_ms += ms
        parent = current.parent
        current = spans.get(parent) if parent is not None else None
        depth += 1


def log(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    rec = LogRec(event, ts)
    model.totals["logs"] += 1
    (span.logs if span is not None else proc.logs).append(rec)


def exception(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    fp = str(event.get("fingerprint"))
    issue = model.issues.get(fp)
    if issue is None:
        issue = model.issues[fp] = Issue(fp, str(event.get("type")), str(event.get("message", "")))
    issue.add(event, ts, proc.key[0], span.span_id if span is not None else None)
    model.totals["exceptions"] += 1
    if span is not None:
        span.exceptions.append(event)
        for current in model.ancestry(span):  # an error marks its span and every caller
            current.errors += 1


def panel(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    panels = span.panels if span is not None else proc.panels
    title = str(event["panel"])
    entry = {k: v for k, v in event.items() if k not in ENVELOPE}
    if event.get("op") == "replace" or title not in panels:
        panels[title] = [entry]
    else:
        panels[title].append(entry)


def metric(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    value = event["value"]
    if isinstance(value, int | float) and not isinstance(value, bool):
        model.series(model.metrics, str(event["name"]), event.get("unit")).add(ts, float(value))


def runtime(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    sample = {k: v for k, v in event.items() if k not in ENVELOPE}
    sample["ts"] = ts
    proc.runtime.append(sample)


def progress(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    if span is not None:
        span.progress = {k: event.get(k) for k in ("done", "total", "message")}
        span.heartbeat_ts = ts


def heartbeat(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    if span is not None:
        span.heartbeat_ts = ts
        interval = number(event.get("interval"))
        if interval:
            span.interval = interval


def process_start(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    argv = event.get("argv")
    if isinstance(argv, list):
        proc.argv = [str(a) for a in argv]


def dropped(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    count = event.get("count")
    info.dropped += count if isinstance(count, int) else 0
    model.totals["dropped"] += count if isinstance(count, int) else 0


def capped(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    info.capped = str(event.get("action") or "stop")


def invalid(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    proc.invalid_events.append(event)
    model.totals["dm_invalid"] += 1


Handler = Callable[["Model", dict[str, Any], float, "Span | None", "ProcessInfo", "FileInfo"], None]

POINT_HANDLERS: dict[str, Handler] = {
    "sql": sql,
    "log": log,
    "exception": exception,
    "panel": panel,
    "metric": metric,
    "runtime": runtime,
    "progress": progress,
    "command.heartbeat": heartbeat,
    "process.start": process_start,
    "dm.dropped": dropped,
    "dm.capped": capped,
    "dm.invalid": invalid,
}
