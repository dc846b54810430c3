"""Typed events: what the model is fed, one class per kind it reads.

The reader decodes a line straight into one of these (msgspec, in C): the
envelope and the fields the model reads are type-checked as they are decoded,
every other field is skipped without being built. The line itself travels with
the event, so whatever the model does not keep can be decoded again on demand
(see :attr:`dm_explore.model.Span.start`).

Rare kinds read whole (:class:`DictEvent`: ``exception``, ``panel``, ``runtime``,
``profile``, ``process.start``, the writer's ``dm.*`` reports) are checked the same way, and
their handlers parse the line into a dict. Kinds it does not know (``x.*``,
custom span kinds) arrive as :class:`Other`, which carries the parsed line.

A field typed ``Any`` is one the model reads defensively, whatever its type;
every other field has the type the contract gives it, or null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Union

import msgspec

from dm_log.contract import Timestamp

__all__ = [
    "EVENT_TYPES",
    "SPAN_EVENT_TYPES",
    "TAGS",
    "DictEvent",
    "Event",
    "Other",
    "Site",
    "SpanEvent",
    "TypedEvent",
    "decode_event",
    "typed_decode_problem",
]


Id16 = Annotated[str, msgspec.Meta(min_length=16, max_length=16)]
Id32 = Annotated[str, msgspec.Meta(min_length=32, max_length=32)]


class TypedEvent(msgspec.Struct, kw_only=True, gc=False, tag_field="event"):
    """The envelope every line carries. ``span`` is UNSET when the line names no span.

    Ids are checked for their length here, and for lowercase hex by the model
    (:func:`dm_explore.model.problems.check_ids`).
    """

    KIND: ClassVar[str] = ""
    v: Literal[1]
    ts: Timestamp
    svc: str
    host: str
    pid: int
    trace: Id32 | None = None
    span: Id16 | msgspec.UnsetType = msgspec.UNSET
    parent: Id16 | None = None


class SpanEvent(TypedEvent, kw_only=True):
    """A ``.start`` or ``.end``: the span's ids are required."""

    trace: Id32
    span: Id16


class End(SpanEvent, kw_only=True):
    ms: float | None = None
    outcome: str | None = None


class RequestStart(SpanEvent, tag="request.start"):
    KIND = "request"
    method: str | None = None
    path: str | None = None
    headers: dict[str, Any] | None = None
    query: str | None = None
    route: str | None = None
    view: str | None = None


class RequestEnd(End, tag="request.end"):
    KIND = "request"
    status: int | None = None
    route: str | None = None
    view: str | None = None
    headers: dict[str, Any] | None = None
    client_error: str | None = None  # the exception answered with a 4xx: not an error


class HttpStart(SpanEvent, tag="http.start"):
    KIND = "http"
    method: str | None = None
    url: str | None = None


class HttpEnd(End, tag="http.end"):
    KIND = "http"
    status: int | None = None


class TaskStart(SpanEvent, tag="task.start"):
    KIND = "task"
    NAME_FIELD: ClassVar[str] = "task"
    task: str | None = None
    task_id: str | None = None
    args: str | None = None


class TaskEnd(End, tag="task.end"):
    KIND = "task"
    NAME_FIELD: ClassVar[str] = "task"
    RESULT_FIELD: ClassVar[str] = "state"
    task: Any = None
    state: str | None = None


class CommandStart(SpanEvent, tag="command.start"):
    KIND = "command"
    NAME_FIELD: ClassVar[str] = "command"
    command: str | None = None
    params: dict[str, Any] | None = None
    interval: float | None = None


class CommandEnd(End, tag="command.end"):
    KIND = "command"
    NAME_FIELD: ClassVar[str] = "command"
    RESULT_FIELD: ClassVar[str] = "status"
    command: Any = None
    status: str | None = None


class CommandHeartbeat(TypedEvent, tag="command.heartbeat"):
    KIND = "command.heartbeat"
    interval: float | None = None


class TestStart(SpanEvent, tag="test.start"):
    KIND = "test"
    NAME_FIELD: ClassVar[str] = "nodeid"
    nodeid: str | None = None


class TestEnd(End, tag="test.end"):
    KIND = "test"
    NAME_FIELD: ClassVar[str] = "nodeid"
    RESULT_FIELD: ClassVar[str] = "result"
    nodeid: Any = None
    result: str | None = None


class SpanStart(SpanEvent, tag="span.start"):
    KIND = "span"
    NAME_FIELD: ClassVar[str] = "name"
    name: str | None = None
    fields: dict[str, Any] | None = None


class SpanEnd(End, tag="span.end"):
    KIND = "span"
    NAME_FIELD: ClassVar[str] = "name"
    RESULT_FIELD: ClassVar[str] = ""
    name: str | None = None


class TemplateNode(msgspec.Struct, frozen=True, gc=False):
    """The template node being rendered when a call was made."""

    name: str = ""
    line: int = 0


class Site(msgspec.Struct, frozen=True, gc=False):
    """A call site: the application's own code, or a library's (``in_app`` false)."""

    file: str = ""
    line: int = 0
    func: str = ""
    in_app: bool | None = None
    template: TemplateNode | None = None


class Sql(TypedEvent, tag="sql"):
    KIND = "sql"
    sql: str
    ms: float | None = None
    params: tuple[Any, ...] | dict[str, Any] | None = None
    site: Site | None = None
    alias: str | None = None
    vendor: str | None = None
    many: bool | None = None
    error: str | None = None
    plan: str | None = None


class TemplateStart(SpanEvent, tag="template.start"):
    KIND = "template"
    NAME_FIELD: ClassVar[str] = "name"
    name: str | None = None


class TemplateEnd(End, tag="template.end"):
    KIND = "template"
    NAME_FIELD: ClassVar[str] = "name"
    RESULT_FIELD: ClassVar[str] = ""
    name: str | None = None


class Cache(TypedEvent, tag="cache"):
    KIND = "cache"
    op: str
    key: str | None = None
    keys: list[Any] | None = None
    hit: bool | None = None
    hits: int | None = None
    backend: str | None = None
    ms: float | None = None
    error: str | None = None
    site: Site | None = None


class Log(TypedEvent, tag="log"):
    KIND = "log"
    msg: str
    level: str | None = None
    logger: str | None = None
    fields: Any = None
    site: Any = None


class Metric(TypedEvent, tag="metric"):
    KIND = "metric"
    name: str
    value: float
    unit: Any = None
    tags: dict[str, Any] | None = None


class Progress(TypedEvent, tag="progress"):
    KIND = "progress"
    done: int | float | None = None
    total: int | float | None = None
    message: str | None = None


class DictEvent(TypedEvent, kw_only=True):
    """A rare kind read whole: its handler takes the line parsed into a dict."""


class ExceptionEvent(DictEvent, tag="exception"):
    KIND = "exception"
    type: str
    fingerprint: str
    message: str | None = None
    frames: list[Any] | None = None


class Panel(DictEvent, tag="panel"):
    KIND = "panel"
    panel: str
    type: str
    op: str | None = None


class Runtime(DictEvent, tag="runtime"):
    KIND = "runtime"
    rss: float | None = None
    cpu: float | None = None
    threads: float | None = None


class Profile(DictEvent, tag="profile"):
    KIND = "profile"
    interval: float
    stacks: dict[str, int]
    samples: int | None = None
    ms: float | None = None


class ProcessStart(DictEvent, tag="process.start"):
    KIND = "process.start"


class Dropped(DictEvent, tag="dm.dropped"):
    KIND = "dm.dropped"
    count: int | None = None
    reason: str | None = None


class Capped(DictEvent, tag="dm.capped"):
    KIND = "dm.capped"
    limit: int | None = None
    action: str | None = None


class Invalid(DictEvent, tag="dm.invalid"):
    KIND = "dm.invalid"
    kind: str | None = None
    errors: list[Any] | None = None


class Other:
    """A kind without a class of its own: the envelope, and the whole line as a dict."""

    __slots__ = ("KIND", "data", "host", "parent", "pid", "span", "svc", "trace", "ts")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.KIND: str = data["event"]
        self.ts: datetime = msgspec.convert(data["ts"], Timestamp)
        self.svc: str = data["svc"]
        self.host: str = data["host"]
        self.pid: int = data["pid"]
        span = data.get("span")
        self.span: Any = msgspec.UNSET if span is None else span
        self.trace: str | None = data.get("trace")
        self.parent: str | None = data.get("parent")


EVENT_TYPES: tuple[type[TypedEvent], ...] = (
    RequestStart,
    RequestEnd,
    HttpStart,
    HttpEnd,
    TaskStart,
    TaskEnd,
    CommandStart,
    CommandEnd,
    CommandHeartbeat,
    TestStart,
    TestEnd,
    SpanStart,
    SpanEnd,
    TemplateStart,
    TemplateEnd,
    Sql,
    Cache,
    Log,
    Metric,
    Progress,
    ExceptionEvent,
    Panel,
    Runtime,
    Profile,
    ProcessStart,
    Dropped,
    Capped,
    Invalid,
)

SPAN_EVENT_TYPES = tuple(kind for kind in EVENT_TYPES if issubclass(kind, SpanEvent))

Event = TypedEvent | Other

TAGS: frozenset[str] = frozenset(t.__struct_config__.tag for t in EVENT_TYPES)  # type: ignore[misc]
_UNION: Any = Union[EVENT_TYPES]  # noqa: UP007 (a runtime union of the tuple)

decode_event = msgspec.json.Decoder(_UNION).decode
"""One line to its typed event; raises ``msgspec.DecodeError`` or ``msgspec.ValidationError``."""


def typed_decode_problem(data: dict[str, Any]) -> str | None:
    """Why a parsed line of a known kind is not one the typed decoder takes, or None."""
    try:
        msgspec.convert(data, _UNION)
    except msgspec.ValidationError as exc:
        return f"{data.get('event')}: {exc}"
    return None
