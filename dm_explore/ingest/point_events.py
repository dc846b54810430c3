"""Point events (sql, log, exception, panel, metric, ...) applied to a model.

The frequent kinds (sql, log, metric, progress, heartbeats) arrive typed, with
their line; the rare ones (exception, panel, runtime, process.start, the
writer's ``dm.*`` reports) as the whole parsed line, a dict. Either way the
handler also takes the event's time in epoch seconds, the span it names (or
None), the writing process and the file it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from dm_log.contract import ENVELOPE

from ..model import CacheRec, FileInfo, LogRec, Model, ProcessInfo, Span, SqlRec
from ..model.refused import is_refused, panel_title, refused_entry
from . import events as ev

__all__ = ["DICT_HANDLERS", "cache", "heartbeat", "log", "metric", "progress", "shared", "sql"]


class Applier(Protocol):
    """What a handler needs of :class:`dm_explore.ingest.apply.Applier`."""

    model: Model
    process: ProcessInfo  # the process that wrote the line


_texts: dict[str, str] = {}  # one copy of each statement, alias and vendor
_sites: dict[ev.Site, tuple[str, int, str]] = {}  # one tuple per distinct call site


def sql(applier: Applier, event: ev.Sql, raw: bytes, span: Span | None) -> None:
    texts = _texts
    text, alias, vendor, site = event.sql, event.alias, event.vendor, event.site
    text = texts.get(text) or _share(text)
    if alias is not None:
        alias = texts.get(alias) or _share(alias)
    if vendor is not None:
        vendor = texts.get(vendor) or _share(vendor)
    rec = SqlRec(
        event.ts,
        event.ms or 0.0,
        text,
        event.params,
        None if site is None else (_sites.get(site) or _site(site)),
        alias,
        vendor,
        event.many is True,
        event.error,
    )
    if site is not None and (site.template is not None or site.in_app is not None):
        node = site.template
        rec.template = None if node is None else (_share(node.name), node.line)
        rec.in_app = site.in_app
    if event.plan is not None:
        rec.plan = event.plan
    if span is None:
        applier.process.sql.append(rec)
    elif span.sql:
        span.sql.append(rec)  # type: ignore[attr-defined]
    else:
        span.sql = [rec]


def shared(text: str) -> str:
    """The one copy of ``text`` the model keeps."""
    return _texts.get(text) or _share(text)


def _share(text: str) -> str:
    if len(_texts) > 200_000:
        _texts.clear()
    _texts[text] = text
    return text


def _site(site: ev.Site) -> tuple[str, int, str]:
    if len(_sites) > 100_000:
        _sites.clear()
    found = _sites[site] = (_share(site.file), site.line, _share(site.func))
    return found


def cache(applier: Applier, event: ev.Cache, raw: bytes, span: Span | None) -> None:
    """A cache call: kept on its span; every call, hit and miss counted in the totals."""
    site, backend = event.site, event.backend
    rec = CacheRec(
        event.ts,
        _texts.get(event.op) or _share(event.op),
        event.key,
        event.keys,
        event.hit,
        event.hits,
        None if backend is None else (_texts.get(backend) or _share(backend)),
        event.ms or 0.0,
        event.error,
        None if site is None else (_sites.get(site) or _site(site)),
    )
    model = applier.model
    model.count("cache")
    model.count("cache_hits", rec.found)
    model.count("cache_misses", rec.misses)
    if span is not None:
        if span.cache:
            span.cache.append(rec)  # type: ignore[attr-defined]
        else:
            span.cache = [rec]


def log(applier: Applier, event: ev.Log, raw: bytes, span: Span | None) -> None:
    fields, site, level, logger = event.fields, event.site, event.level, event.logger
    texts = _texts
    rec = LogRec(
        event.ts,
        (texts.get(level) or _share(level)) if level else "info",
        event.msg,
        (texts.get(logger) or _share(logger)) if logger else "",
        fields if type(fields) is dict and fields else None,
        f"{site.get('file', '')}:{site.get('line', '')}" if type(site) is dict else "",
    )
    if span is None:
        applier.process.logs.append(rec)
    elif span.logs:
        span.logs.append(rec)  # type: ignore[attr-defined]
    else:
        span.logs = [rec]


def metric(applier: Applier, event: ev.Metric, raw: bytes, span: Span | None) -> None:
    applier.model.metric_series(event.name, event.unit).add(event.ts.timestamp(), event.value)


def progress(applier: Applier, event: ev.Progress, raw: bytes, span: Span | None) -> None:
    if span is not None:
        span.progress = {"done": event.done, "total": event.total, "message": event.message}
        span.heartbeat_ts = event.ts.timestamp()


def heartbeat(applier: Applier, event: ev.CommandHeartbeat, raw: bytes, span: Span | None) -> None:
    if span is not None:
        span.heartbeat_ts = event.ts.timestamp()
        if event.interval:
            span.interval = event.interval


# -- kinds applied as the whole line parsed into a dict (events.DictEvent) ------------


def exception(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    model.add_exception(event, ts, span, proc.key[0])


def panel(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    panels = span.own_panels() if span is not None else proc.panels
    title = str(event["panel"])
    entry = {k: v for k, v in event.items() if k not in ENVELOPE}
    before = panels.get(title)
    if before is None:
        panels[title] = [entry]
    elif event.get("op") == "replace":  # the content goes; what was refused stays in view
        panels[title] = [e for e in before if is_refused(e)] + [entry]
    else:
        before.append(entry)


def profile(
    model: Model,
    event: dict[str, Any],
    ts: float,
    span: Span | None,
    proc: ProcessInfo,
    info: FileInfo,
) -> None:
    """Sampled stacks of a span's work: kept on the span, read by the Profile view."""
    if span is None:
        return
    entry = {k: v for k, v in event.items() if k not in ENVELOPE}
    if span.profiles:
        span.profiles.append(entry)  # type: ignore[attr-defined]
    else:
        span.profiles = [entry]
    model.count("profiles")


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
    if isinstance(count, int):
        info.dropped += count
        model.count("dropped", count)


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
    """A refused event: kept by its process and counted by kind; a refused panel is
    also shown where the panel would have been (see :mod:`dm_explore.model.refused`)."""
    proc.invalid_events.append(event)
    kind = event.get("kind")
    model.count_refused(kind if isinstance(kind, str) else "?")
    if kind == "panel":
        panels = span.own_panels() if span is not None else proc.panels
        title = panel_title(event)
        entries = panels.get(title)
        if entries is None:
            panels[title] = [refused_entry(event)]
        else:
            entries.append(refused_entry(event))


DictHandler = Callable[
    ["Model", dict[str, Any], float, "Span | None", "ProcessInfo", "FileInfo"], None
]

DICT_HANDLERS: dict[str, DictHandler] = {
    "exception": exception,
    "panel": panel,
    "profile": profile,
    "runtime": runtime,
    "process.start": process_start,
    "dm.dropped": dropped,
    "dm.capped": capped,
    "dm.invalid": invalid,
}
