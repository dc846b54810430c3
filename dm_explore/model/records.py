"""Compact records the model keeps: spans, and the point events hanging off them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import msgspec
import orjson

from dm_log.contract import ENVELOPE

TASK_FLOW_STATES = frozenset({"RETRY", "IGNORED", "REJECTED"})  # a task's flow control

__all__ = [
    "MAX_DEPTH",
    "TASK_FLOW_STATES",
    "CacheRec",
    "LogRec",
    "ProcessKey",
    "Span",
    "SpanKey",
    "SqlRec",
    "fields_of",
    "number",
    "subtree",
]

ProcessKey = tuple[str, str, int]  # (svc, host, pid)
SpanKey = tuple[str, str]  # (trace id, span id): what names a span; a span id alone may repeat
MAX_DEPTH = 256  # parent links followed at most; hostile files may loop
_NO_PANELS: Mapping[str, list[dict[str, Any]]] = MappingProxyType({})


def number(value: Any) -> float | None:
    """``value`` as a float if it is a JSON number (not a bool), else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class SqlRec(msgspec.Struct, gc=False):
    """One ``sql`` event, kept small: the statement text and the call site are shared."""

    at: datetime  # when, as decoded; :attr:`ts` in epoch seconds
    ms: float
    sql: str
    args: Any  # the parameters as decoded: a tuple (a JSON array), a dict or None
    site: tuple[str, int, str] | None
    alias: str | None
    vendor: str | None
    many: bool
    error: str | None
    template: tuple[str, int] | None = None  # (name, line) of the template node rendering
    in_app: bool | None = None  # False: no project frame; site is a library's function
    plan: str | None = None  # the database's EXPLAIN, when the writer ran one

    @property
    def ts(self) -> float:
        """When, in epoch seconds."""
        return self.at.timestamp()

    @property
    def params(self) -> str:
        """The parameters as compact JSON, ``""`` for none: equal text, equal params."""
        args = self.args
        return orjson.dumps(args, option=orjson.OPT_NON_STR_KEYS).decode() if args else ""

    def site_text(self) -> str:
        """``file:line in func`` of the application code that ran the statement."""
        if self.site is None:
            return ""
        file, line, func = self.site
        return f"{file}:{line} in {func}"

    def template_text(self) -> str:
        """``name:line`` of the template node that ran the statement, or ``""``."""
        return "" if self.template is None else f"{self.template[0]}:{self.template[1]}"

    def place_text(self) -> str:
        """Where the statement came from, for a list: the template node if one was
        rendering, then the call site; a library's site is marked ``(library)``."""
        site = self.site_text()
        if site and self.in_app is False:
            site += " (library)"
        template = self.template_text()
        return f"{template} <- {site}" if template and site else (template or site)


class CacheRec(msgspec.Struct, gc=False):
    """One ``cache`` call."""

    at: datetime  # when, as decoded
    op: str
    key: str | None
    keys: list[Any] | None
    hit: bool | None  # reads: found or not
    hits: int | None  # get_many: how many keys were found
    backend: str | None
    ms: float
    error: str | None
    site: tuple[str, int, str] | None

    @property
    def ts(self) -> float:
        """When, in epoch seconds."""
        return self.at.timestamp()

    @property
    def misses(self) -> int:
        """Keys looked for and not found (0 for a write)."""
        if self.hit is False:
            return 1
        if self.hits is not None and self.keys is not None:
            return max(len(self.keys) - self.hits, 0)
        return 0

    @property
    def found(self) -> int:
        """Keys looked for and found."""
        return 1 if self.hit is True else (self.hits or 0)


class LogRec(msgspec.Struct, gc=False):
    """One ``log`` event."""

    at: datetime  # when, as decoded; :attr:`ts` in epoch seconds
    level: str
    msg: str
    logger: str
    fields: dict[str, Any] | None
    site: str  # "file:line", or ""

    @property
    def ts(self) -> float:
        """When, in epoch seconds."""
        return self.at.timestamp()


class Span:
    """A unit of work: a request, an outgoing call, a task, a command, a test, a custom span.

    Created by its ``.start`` event, or earlier by any event that names it (then
    ``kind`` is ``"?"`` until the start arrives). What lists, filters and
    statuses need is kept in compact fields; the ``.start`` and ``.end`` lines
    themselves are kept as bytes, and :attr:`start` and :attr:`end` decode
    their fields (envelope removed) when a view asks.
    """

    __slots__ = (
        "__dict__",  # holds the rarer fields below once one is set
        "children",
        "end_outcome",
        "end_raw",
        "end_ts",
        "file_id",
        "kind",
        "logs",
        "method",
        "ms",
        "parent",
        "process",
        "route",
        "seq",
        "span_id",
        "sql",
        "start_raw",
        "start_ts",
        "status",
        "target",
        "trace",
        "view",
    )

    # Fields most spans never set: class-level defaults, so a new span pays nothing for them.
    result: str | None = None  # a command's status, a task's state, a test's result
    exceptions: Sequence[dict[str, Any]] = ()
    panels: Mapping[str, list[dict[str, Any]]] = _NO_PANELS
    progress: dict[str, Any] | None = None
    errors = 0
    killed = False
    heartbeat_ts: float | None = None
    interval: float | None = None
    cache: Sequence[CacheRec] = ()
    profiles: Sequence[dict[str, Any]] = ()  # ``profile`` events, envelope removed
    client_error: str | None = None  # a request Django answered with a 4xx from this exception

    def __init__(
        self,
        span_id: str,
        trace: str,
        parent: str | None,
        process: ProcessKey,
        file_id: int,
        seq: int = 0,
    ) -> None:
        self.span_id = span_id
        self.trace = trace
        self.parent = parent
        self.kind = "?"
        self.process = process
        self.file_id = file_id
        self.seq = seq  # arrival order, for stable sorting
        self.start_raw: bytes | None = None  # the .start line
        self.end_raw: bytes | None = None  # the .end line
        self.start_ts: float | None = None
        self.end_ts: float | None = None
        self.ms: float | None = None
        self.method: str | None = None  # request and http
        self.target: str | None = None  # path, url, task, command, test id or span name
        self.status: int | None = None  # the HTTP status of a request or call
        self.end_outcome: str | None = None
        self.route: str | None = None
        self.view: str | None = None
        # Empty until the first one arrives (most spans have few of these): one shared
        # empty tuple, replaced by a list by whoever adds the first (add_child; the sql
        # and log handlers inline it). Exceptions and panels likewise, from the class.
        self.children: Sequence[Span] = ()
        self.sql: Sequence[SqlRec] = ()
        self.logs: Sequence[LogRec] = ()

    # -- growing -------------------------------------------------------------------

    def add_child(self, child: Span) -> None:
        if self.children:
            self.children.append(child)  # type: ignore[attr-defined]
        else:
            self.children = [child]

    def add_exception(self, event: dict[str, Any]) -> None:
        if self.exceptions:
            self.exceptions.append(event)  # type: ignore[attr-defined]
        else:
            self.exceptions = [event]

    def own_panels(self) -> dict[str, list[dict[str, Any]]]:
        """The span's panels, as a dict that may be changed."""
        if self.panels is _NO_PANELS:
            self.panels = {}
        return self.panels  # type: ignore[return-value]

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
    def sql_ms(self) -> float:
        """Time of this span's own statements."""
        return sum(r.ms for r in self.sql)

    @property
    def queries(self) -> int:
        """SQL statements in this span and its same-process descendants (a request's total)."""
        if not self.children:
            return len(self.sql)
        return sum(len(s.sql) for s in subtree(self))

    @property
    def queries_ms(self) -> float:
        """Time of the statements :attr:`queries` counts."""
        return sum(r.ms for s in subtree(self) for r in s.sql)

    @property
    def svc(self) -> str:
        return self.process[0]

    @property
    def key(self) -> SpanKey:
        """``(trace id, span id)``: unique, where a span id alone may repeat across traces."""
        return (self.trace, self.span_id)

    @property
    def ref(self) -> str:
        """The :attr:`key` as one string, ``<trace>-<span>``, for messages and table rows."""
        return f"{self.trace}-{self.span_id}"

    @property
    def ended(self) -> bool:
        return self.end_ts is not None

    @property
    def in_flight(self) -> bool:
        """Started, not ended, and its process not known to be gone."""
        return self.end_ts is None and not self.killed

    @property
    def outcome(self) -> str:
        """``ok``, ``error``, ``retry``, ``cancelled``, ``in flight``, ``killed`` or ``unknown``.

        A task attempt that asked to be run again (Celery's ``RETRY``) is a ``retry``,
        one that stopped on purpose (``IGNORED``, ``REJECTED``) ``cancelled``: flow
        control, not failures, whatever outcome an older writer gave them.
        """
        if self.end_ts is not None:
            outcome = self.end_outcome or "ok"
            if outcome == "error" and self.kind == "task" and self.result in TASK_FLOW_STATES:
                return "retry" if self.result == "RETRY" else "cancelled"
            return outcome
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


def subtree(span: Span, *, same_process: bool = True) -> Iterator[Span]:
    """``span`` and its descendants, depth-first; with ``same_process``, only those of its process.

    A child in another process (a call to another service) is left out with all of
    its descendants, even ones that run in this process again. Each span comes once,
    even when hostile files link spans into a cycle (A's parent B, B's parent A).
    """
    stack, seen = [span], {span.span_id}
    while stack:  # iterative: a deep chain of spans must not hit the recursion limit
        current = stack.pop()
        yield current
        for child in reversed(current.children):
            if child.span_id not in seen and (not same_process or child.process == span.process):
                seen.add(child.span_id)
                stack.append(child)


def fields_of(raw: bytes) -> dict[str, Any]:
    """The fields of one line, envelope removed (``{}`` for a line that no longer decodes)."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    if type(event) is not dict:
        return {}
    return {k: v for k, v in event.items() if k not in ENVELOPE}
