"""Compact records the model keeps: spans, and the point events hanging off them."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

__all__ = [
    "ENVELOPE",
    "ENVELOPE_KEYS",
    "MAX_DEPTH",
    "LogRec",
    "ProcessKey",
    "Span",
    "SqlRec",
    "fields_of",
    "number",
    "shared",
    "site_of",
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


_sites: dict[bytes, tuple[str, int, str] | None] = {}


def site_of(text: bytes) -> tuple[str, int, str] | None:
    """A call site's JSON text as ``(file, line, func)``, one copy per distinct site."""
    found = _sites.get(text, False)
    if found is not False:
        return found  # type: ignore[return-value]
    value = orjson.loads(text) if text else None
    site = None
    if type(value) is dict:
        file, line, func = value.get("file", ""), value.get("line") or 0, value.get("func", "")
        site = shared((str(file), line if type(line) is int else 0, str(func)))
    if len(_sites) > 100_000:
        _sites.clear()
    _sites[text] = site
    return site


class SqlRec(msgspec.Struct, gc=False):
    """One ``sql`` event, kept small: the statement text and the call site are shared."""

    ts: float
    ms: float
    sql: str
    params: str  # the parameters as compact JSON, "" for none: equal text, equal params
    site: tuple[str, int, str] | None
    alias: str | None
    vendor: str | None
    many: bool
    error: str | None

    def site_text(self) -> str:
        """``file:line in func`` of the application code that ran the statement."""
        if self.site is None:
            return ""
        file, line, func = self.site
        return f"{file}:{line} in {func}"


class LogRec(msgspec.Struct, gc=False):
    """One ``log`` event."""

    ts: float
    level: str
    msg: str
    logger: str
    fields: dict[str, Any] | None
    site: str  # "file:line", or ""


class Span:
    """A unit of work: a request, an outgoing call, a task, a command, a test, a custom span.

    Created by its ``.start`` event, or earlier by any event that names it (then
    ``kind`` is ``"?"`` until the start arrives). What lists, filters and
    statuses need is kept in compact fields; the ``.start`` and ``.end`` lines
    themselves are kept as bytes, and :attr:`start` and :attr:`end` decode
    their fields (envelope removed) when a view asks.
    """

    __slots__ = (
        "children",
        "end_outcome",
        "end_raw",
        "end_ts",
        "errors",
        "exceptions",
        "file_id",
        "heartbeat_ts",
        "interval",
        "killed",
        "kind",
        "logs",
        "method",
        "ms",
        "panels",
        "parent",
        "process",
        "progress",
        "queries",
        "queries_ms",
        "result",
        "route",
        "seq",
        "span_id",
        "sql",
        "sql_ms",
        "start_raw",
        "start_ts",
        "status",
        "target",
        "trace",
        "view",
    )

    def __init__(self, span_id: str, trace: str, process: ProcessKey, file_id: int) -> None:
        self.span_id = span_id
        self.trace = trace
        self.parent: str | None = None
        self.kind = "?"
        self.process = process
        self.file_id = file_id
        self.start_raw: bytes | None = None  # the .start line
        self.end_raw: bytes | None = None  # the .end line
        self.start_ts: float | None = None
        self.end_ts: float | None = None
        self.ms: float | None = None
        self.method: str | None = None  # request and http
        self.target: str | None = None  # path, url, task, command, test id or span name
        self.status: int | None = None  # the HTTP status of a request or call
        self.result: str | None = None  # a command's status, a task's state, a test's result
        self.end_outcome: str | None = None
        self.route: str | None = None
        self.view: str | None = None
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

    # -- the lines, decoded on demand -------------------------------------------------

    @property
    def start(self) -> dict[str, Any]:
        """The fields of the ``.start`` event (``{}`` until it arrives)."""
        return fields_of(self.start_raw) if self.start_raw is not None else {}

    @property
    def end(self) -> dict[str, Any] | None:
        """The fields of the ``.end`` event, or None while the span has not ended."""
        return fields_of(self.end_raw) if self.end_raw is not None else None

    def field(self, name: str) -> Any:
        """A field of the end event, else of the start event."""
        end = self.end
        if end is not None and name in end:
            return end[name]
        return self.start.get(name)

    # -- derived, read by views -----------------------------------------------------

    @property
    def svc(self) -> str:
        return self.process[0]

    @property
    def ended(self) -> bool:
        return self.end_ts is not None

    @property
    def in_flight(self) -> bool:
        """Started, not ended, and its process not known to be gone."""
        return self.end_ts is None and not self.killed

    @property
    def outcome(self) -> str:
        """``ok``, ``error``, ``in flight``, ``killed`` or ``unknown``."""
        if self.end_ts is not None:
            return self.end_outcome or "ok"
        return (
            "killed" if self.killed else ("in flight" if self.start_ts is not None else "unknown")
        )

    @property
    def has_error(self) -> bool:
        return self.errors > 0 or self.outcome in ("error", "killed") or (self.status or 0) >= 500

    @property
    def name(self) -> str:
        """What a person calls this span: ``GET /path``, a task name, a command, a test id."""
        kind, target = self.kind, self.target
        if kind == "request" or kind == "http":
            return f"{self.method or '?'} {target or '?'}"
        return target or kind


def fields_of(raw: bytes) -> dict[str, Any]:
    """The fields of one line, envelope removed (``{}`` for a line that no longer decodes)."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    if type(event) is not dict:
        return {}
    return {k: v for k, v in event.items() if k not in ENVELOPE}
