"""Compact records the model keeps: spans, and the point events hanging off them."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ENVELOPE",
    "ENVELOPE_KEYS",
    "MAX_DEPTH",
    "LogRec",
    "ProcessKey",
    "Span",
    "SqlRec",
    "number",
    "shared",
]

ProcessKey = tuple[str, str, int]  # (svc, host, pid)
ENVELOPE_KEYS = ("v", "ts", "event", "svc", "host", "pid", "seq", "trace", "span", "parent")
ENVELOPE = frozenset(ENVELOPE_KEYS)
MAX_DEPTH = 256  # parent links followed at most; hostile files may loop


def number(value: Any) -> float | None:
    """``value`` as a float if it is a JSON number (not a bool), else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_shared: dict[Any, Any] = {}


def shared(value: Any) -> Any:
    """One copy of a value that repeats on many events (call sites, aliases, loggers)."""
    found = _shared.get(value)
    if found is None:
        if len(_shared) > 200_000:
            _shared.clear()
        _shared[value] = found = value
    return found


_sites: dict[tuple[Any, Any, Any], tuple[str, int, str]] = {}


def _site(key: tuple[Any, Any, Any]) -> tuple[str, int, str]:
    """A call site as ``(file, line, func)`` of the right types, one copy per distinct site."""
    file, line, func = key
    site = shared((str(file), line if type(line) is int else 0, str(func)))
    try:
        if len(_sites) > 100_000:
            _sites.clear()
        _sites[key] = site
    except TypeError:
        pass
    return site


class SqlRec:
    """One ``sql`` event, kept small: the statement text is interned and shared."""

    __slots__ = ("alias", "error", "many", "ms", "params", "site", "sql", "ts", "vendor")

    def __init__(self, event: dict[str, Any], ts: float, sql: str, params: str) -> None:
        get = event.get
        self.ts = ts
        ms = get("ms")
        self.ms = float(ms) if ms else 0.0
        self.sql = sql
        self.params = params  # the parameters as compact JSON: equal text, equal params
        site = get("site")
        self.site: tuple[str, int, str] | None = None
        if type(site) is dict:
            key = (site.get("file", ""), site.get("line") or 0, site.get("func", ""))
            try:
                found = _sites.get(key)
            except TypeError:  # an unhashable value in a hostile file
                found = None
            if found is None:
                found = _site(key)
            self.site = found
        alias, vendor = get("alias"), get("vendor")
        self.alias: str | None = alias if alias is None else shared(alias)
        self.vendor: str | None = vendor if vendor is None else shared(vendor)
        self.many = bool(get("many"))
        self.error: str | None = get("error")

    def site_text(self) -> str:
        """``file:line in func`` of the application code that ran the statement."""
        if self.site is None:
            return ""
        file, line, func = self.site
        return f"{file}:{line} in {func}"


class LogRec:
    """One ``log`` event."""

    __slots__ = ("fields", "level", "logger", "msg", "site", "ts")

    def __init__(self, event: dict[str, Any], ts: float) -> None:
        self.ts = ts
        self.level: str = shared(event.get("level") or "info")
        self.msg: str = event.get("msg") or ""
        self.logger: str = shared(event.get("logger") or "")
        fields = event.get("fields")
        self.fields: dict[str, Any] | None = fields if isinstance(fields, dict) and fields else None
        site = event.get("site")
        self.site = (
            f"{site.get('file', '')}:{site.get('line', '')}" if isinstance(site, dict) else ""
        )


class Span:
    """A unit of work: a request, an outgoing call, a task, a command, a test, a custom span.

    Created by its ``.start`` event, or earlier by any event that names it (then
    ``kind`` is ``"?"`` until the start arrives). ``start``/``end`` hold the kind's
    own fields of those events (envelope removed).
    """

    __slots__ = (
        "children",
        "end",
        "end_ts",
        "errors",
        "exceptions",
        "file_id",
        "heartbeat_ts",
        "interval",
        "killed",
        "kind",
        "logs",
        "ms",
        "panels",
        "parent",
        "process",
        "progress",
        "queries",
        "queries_ms",
        "seq",
        "span_id",
        "sql",
        "sql_ms",
        "start",
        "start_ts",
        "trace",
    )

    def __init__(self, span_id: str, trace: str, process: ProcessKey, file_id: int) -> None:
        self.span_id = span_id
        self.trace = trace
        self.parent: str | None = None
        self.kind = "?"
        self.process = process
        self.file_id = file_id
        self.start: dict[str, Any] = {}
        self.end: dict[str, Any] | None = None
        self.start_ts: float | None = None
        self.end_ts: float | None = None
        self.ms: float | None = None
        self.children: list[Span] = []
        self.sql: list[SqlRec] = []
        self.sql_ms = 0.0
        self.logs: list[LogRec] = []
        self.exceptions: list[dict[str, Any]] = []
        self.panels: dict[str, list[dict[str, Any]]] = {}
        self.progress: dict[str, Any] | None = None
        self.errors = 0
        self.killed = False
        self.heartbeat_ts: float | None = None
        self.interval: float | None = None
        self.seq = 0  # arrival order, for stable sorting
        self.queries = 0  # SQL statements in this span and its same-process descendants
        self.queries_ms = 0.0

    # -- derived, read by views -----------------------------------------------------

    @property
    def svc(self) -> str:
        return self.process[0]

    @property
    def in_flight(self) -> bool:
        """Started, not ended, and its process not known to be gone."""
        return self.end is None and not self.killed

    @property
    def outcome(self) -> str:
        """``ok``, ``error``, ``in flight``, ``killed`` or ``unknown``."""
        if self.end is not None:
            return str(self.end.get("outcome") or "ok")
        return (
            "killed" if self.killed else ("in flight" if self.start_ts is not None else "unknown")
        )

    @property
    def status(self) -> int | None:
        value = (self.end or {}).get("status")
        return value if isinstance(value, int) else None

    @property
    def has_error(self) -> bool:
        return self.errors > 0 or self.outcome in ("error", "killed") or (self.status or 0) >= 500

    @property
    def name(self) -> str:
        """What a person calls this span: ``GET /path``, a task name, a command, a test id."""
        s, e = self.start, self.end or {}
        if self.kind == "request":
            return f"{s.get('method', '?')} {s.get('path', '?')}"
        if self.kind == "http":
            return f"{s.get('method', '?')} {s.get('url', '?')}"
        if self.kind == "task":
            return str(s.get("task") or e.get("task") or "task")
        if self.kind == "command":
            return str(s.get("command") or e.get("command") or "command")
        if self.kind == "test":
            return str(s.get("nodeid") or e.get("nodeid") or "test")
        return str(s.get("name") or e.get("name") or self.kind)

    def field(self, name: str) -> Any:
        """A field of the end event, else of the start event."""
        if self.end is not None and name in self.end:
            return self.end[name]
        return self.start.get(name)
