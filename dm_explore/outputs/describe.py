"""One readable, terminal-safe line for any event, as ``dm-explore tail`` prints it."""

from __future__ import annotations

from typing import Any

from dm_log.contract import epoch_seconds, format_time

from ..model.refused import site_text
from .textsafe import safe_line

__all__ = ["describe"]


def _ms(value: Any) -> str:
    return (
        f"{value:.1f}ms"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else "?ms"
    )


def _summary(e: dict[str, Any]) -> str:
    kind = e.get("event", "")
    if kind == "request.start":
        return f"-> {e.get('method')} {e.get('path')}"
    if kind == "request.end":
        return f"<- {e.get('status')} {_ms(e.get('ms'))} {e.get('view') or ''}"
    if kind == "http.start":
        return f"call {e.get('method')} {e.get('url')}"
    if kind == "http.end":
        return f"call done {e.get('status')} {_ms(e.get('ms'))}"
    if kind == "task.start":
        return f"task {e.get('task')} {e.get('args', '')}"
    if kind == "task.end":
        return f"task {e.get('task', '')} {e.get('state', '')} {_ms(e.get('ms'))}"
    if kind == "command.start":
        return f"command {e.get('command')} {e.get('params', '')}"
    if kind == "command.end":
        extra = f" {e.get('exc_type')}: {e.get('exc_message')}" if e.get("exc_type") else ""
        return f"command {e.get('command', '')} {e.get('status')} {_ms(e.get('ms'))}{extra}"
    if kind == "command.heartbeat":
        return f"heartbeat {e.get('command', '')}"
    if kind == "progress":
        total = e.get("total")
        of = f"/{total}" if total is not None else ""
        return f"progress {e.get('done')}{of} {e.get('message', '')}"
    if kind in ("test.start", "test.end", "span.start", "span.end"):
        name = e.get("nodeid") or e.get("name") or ""
        tail = (
            f" {e.get('result') or e.get('outcome')} {_ms(e.get('ms'))}"
            if kind.endswith(".end")
            else ""
        )
        return f"{kind.split('.')[0]} {name}{tail}"
    if kind == "sql":
        return f"sql {_ms(e.get('ms'))} {e.get('sql')}"
    if kind == "log":
        return f"{str(e.get('level', '')).upper()} {e.get('logger', '')}: {e.get('msg')}"
    if kind == "exception":
        return f"{e.get('type')}: {e.get('message')}"
    if kind == "panel":
        return f"panel {e.get('panel')} ({e.get('type')}, {e.get('op')})"
    if kind == "metric":
        return f"{e.get('name')}={e.get('value')}{' ' + str(e['unit']) if e.get('unit') else ''}"
    if kind == "runtime":
        rss = e.get("rss")
        mb = f"{rss / 1048576:.1f}MB" if isinstance(rss, int | float) else "?"
        return f"rss={mb} threads={e.get('threads')} cpu={e.get('cpu')}s"
    if kind == "process.start":
        return "process started: " + " ".join(str(a) for a in e.get("argv") or [])
    if kind == "dm.dropped":
        return f"writer dropped {e.get('count')} events: {e.get('reason')}"
    if kind == "dm.invalid":
        title = f' "{e["panel"]}"' if e.get("panel") is not None else ""
        where = site_text(e.get("call"))
        sent = f" sent at {where}" if where else ""
        why = "; ".join(str(x) for x in e.get("errors") or [])
        return f"refused {e.get('kind')} event{title}{sent}: {why}"
    if kind == "dm.capped":
        return f"writer reached its cap ({e.get('action')})"
    return kind


def describe(event: dict[str, Any], *, width: int = 240) -> str:
    """``HH:MM:SS.mmm svc[pid] kind summary``, control characters made visible."""
    epoch = epoch_seconds(event.get("ts"))
    when = format_time(epoch) if epoch is not None else "?"
    who = f"{event.get('svc', '?')}[{event.get('pid', '?')}]"
    try:
        text = _summary(event)
    except Exception:  # a field of an unexpected shape: show the kind alone
        text = str(event.get("event", "?"))
    return safe_line(f"{when} {who} {text}", width)
