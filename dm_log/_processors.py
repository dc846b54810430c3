"""The writer's processor chain: small functions over one event dict, structlog style.

Each processor takes ``(logger, method_name, event_dict)`` and returns the dict
(or, for the renderer, bytes). Order in the pipeline::

    redact (bounding every value first) -> Envelope -> Validate -> Render

Bounding comes first, so validation and redaction never see more than an event's
first few thousand values, whatever the caller passed.

Keys starting with ``_dm_`` are instructions from the API to the chain (the span
context, whether to validate) or from one processor to the next (the envelope's stamp)
and never reach the file.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from time import time as _time
from typing import Any

import fastjsonschema
import orjson

from ._bounds import MAX_STRING, clip, plain, printable
from ._clock import now_ts
from ._context import SpanContext, current_span
from ._frames import api_caller
from ._redact import redact_event
from ._schema import validator_for

__all__ = [
    "HOT_KINDS",
    "Envelope",
    "redact",
    "render",
    "validate",
]

# Kinds our own instrumentation builds on the hot path: validated only when
# DM_VALIDATE=1. Every other kind (panel, metric, span, progress, x.*) comes
# from user input and is always validated.
HOT_KINDS = frozenset(
    {
        "request.start", "request.end", "http.start", "http.end", "task.start", "task.end",
        "command.start", "command.heartbeat", "command.end", "test.start", "test.end",
        "sql", "log", "exception", "runtime", "process.start", "template.start", "template.end",
        "cache",
        "dm.dropped", "dm.invalid", "dm.capped",
    }
)  # fmt: skip

EventDict = MutableMapping[str, Any]


# The envelope's names besides ``event``: an event whose own fields reuse one is
# merged as a dict (its value replaces the envelope's in place), never written twice.
_ENVELOPE_NAMES = frozenset({"v", "ts", "svc", "host", "pid", "seq", "trace", "span", "parent"})
# The same, with ``event`` and the instruction to validate: fields given with either
# take the dict's way.
_RESERVED_NAMES = _ENVELOPE_NAMES | {"event", "_dm_validate"}

# What :class:`Envelope` leaves under ``_dm_env``: the envelope, the second's prefix
# (text, bytes), the microseconds, the sequence number, the span context, the kind.
Stamp = tuple["Envelope", tuple[str, bytes], int, int, "SpanContext | None", Any]


class Envelope:
    """Stamps the event with ``v ts event svc host pid seq trace span parent``.

    The stamp (the time, the sequence number and the span context, taken here) is
    kept under ``_dm_env``: :func:`merge` makes the enveloped dict, in contract order,
    for :class:`Validate` when it checks the event, and :class:`Render` writes the
    same line without making it, from bytes prepared once a second, per kind and per
    span. The timestamp is :func:`now_ts`'s, with the same once-a-second prefix.
    """

    __slots__ = ("_heads", "_second", "host", "next_seq", "pid", "svc")

    def __init__(self, svc: str, host: str, pid: int, next_seq: Any) -> None:
        self.svc, self.host, self.pid, self.next_seq = svc, host, pid, next_seq
        # (second, (its "YYYY-MM-DDTHH:MM:SS" text, as bytes)): one attribute, so a thread
        # never pairs one second with another's prefix
        self._second: tuple[int, tuple[str, bytes]] = (-1, ("", b""))
        self._heads: dict[Any, bytes] = {}

    def __call__(self, logger: object, method: str, ed: EventDict) -> EventDict:
        ctx: SpanContext | None = ed.pop("_dm_ctx", None) or current_span.get()
        ed["_dm_env"] = self.stamp(ctx, ed["event"])
        return ed

    def stamp(self, ctx: SpanContext | None, kind: Any) -> Stamp:
        """The time, the next sequence number and ``ctx``, taken now, for an event of ``kind``."""
        t = _time()
        sec = int(t)
        second = self._second
        if second[0] != sec:
            prefix = now_ts(t)[:19]
            second = self._second = (sec, (prefix, prefix.encode()))
        return (self, second[1], int((t - sec) * 1_000_000), self.next_seq(), ctx, kind)

    def head(self, kind: Any) -> bytes:
        """``Z","event":<kind>,"svc":…,"pid":…,"seq":`` as JSON bytes (kept per kind)."""
        found = self._heads.get(kind)
        if found is None:
            found = b'Z","event":%s,"svc":%s,"host":%s,"pid":%s,"seq":' % (
                orjson.dumps(kind), orjson.dumps(self.svc), orjson.dumps(self.host),
                orjson.dumps(self.pid),
            )  # fmt: skip
            if len(self._heads) < 64:
                self._heads[kind] = found
        return found


def merge(ed: EventDict, stamp: Stamp) -> EventDict:
    """The event with its envelope first, in contract order (``ed`` without ``_dm_env``)."""
    envelope, prefix, us, seq, ctx, kind = stamp
    out: EventDict = {
        "v": 1,
        "ts": f"{prefix[0]}.{us:06d}Z",
        "event": kind,  # the update below keeps it in this place
        "svc": envelope.svc,
        "host": envelope.host,
        "pid": envelope.pid,
        "seq": seq,
    }
    if ctx is not None:
        out["trace"] = ctx.trace
        out["span"] = ctx.span
        if ctx.parent is not None:
            out["parent"] = ctx.parent
    out.update(ed)
    return out


def _span_json(ctx: SpanContext) -> bytes:
    """``,"trace":…,"span":…[,"parent":…]`` for ``ctx``, kept on it while its ids stay."""
    trace, span, parent = ctx.trace, ctx.span, ctx.parent
    kept = ctx.rendered
    if kept is not None and kept[0] is trace and kept[1] is span and kept[2] is parent:
        return kept[3]
    text = b',"trace":%s,"span":%s' % (orjson.dumps(trace), orjson.dumps(span))
    if parent is not None:
        text += b',"parent":%s' % orjson.dumps(parent)
    ctx.rendered = (trace, span, parent, text)
    return text


def redact(logger: object, method: str, ed: EventDict) -> EventDict:
    """Bound every field, redact secrets by key, by shape and by value (see ``_redact``).

    Runs before :class:`Envelope`, on the fields the caller gave, with the secrets
    remembered by the event's span.
    """
    ctx: SpanContext | None = ed.get("_dm_ctx") or current_span.get()
    return redact_event(ed, ctx.secrets if ctx is not None else None, ed.get("event"))  # type: ignore[arg-type]


def _invalid(ed: EventDict, kind: str, errors: list[str], data: Any) -> EventDict:
    keep = ("v", "ts", "svc", "host", "pid", "seq", "trace", "span", "parent")
    out = {k: ed[k] for k in keep if k in ed}
    out["event"] = "dm.invalid"
    out["kind"] = printable(str(kind)[:100])
    out["errors"] = [printable(str(e)[:2000]) for e in errors]
    site = api_caller(2)  # the line that called dm_log, never a frame of dm_log
    if site is not None:
        out["call"] = site
    if isinstance(data, dict):
        title = data.get("panel")
        if kind == "panel" and type(title) is str and title:
            out["panel"] = printable(title[:200])  # a reader shows the refusal in its place
        data = {k: v for k, v in data.items() if k not in keep and k != "event"}
    try:
        text = repr(data)
    except Exception:
        text = "<unrepresentable>"
    out["data"] = text[:2000]
    return out


class Validate:
    """Checks the event against its kind's schema under the validation policy.

    An invalid event becomes a ``dm.invalid`` event naming the kind, the errors
    and the caller's file and line: never silently dropped.
    """

    __slots__ = ("validate_all",)

    def __init__(self, validate_all: bool) -> None:
        self.validate_all = validate_all

    def __call__(self, logger: object, method: str, ed: EventDict) -> EventDict:
        forced = ed.pop("_dm_validate", False) if "_dm_validate" in ed else False
        kind = ed["event"]
        if not (forced or self.validate_all or kind not in HOT_KINDS):
            return ed
        stamp = ed.pop("_dm_env", None)
        if stamp is not None:
            ed = merge(ed, stamp)
        if type(kind) is not str:
            return _invalid(ed, kind, ["the event kind must be a string"], ed)
        try:
            check = validator_for(kind, envelope=self.validate_all)
        except Exception:  # ValidatorBusy (from a signal handler), schema unreadable
            return ed
        try:
            check(ed)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _invalid(ed, kind, [exc.message], ed)
        except Exception as exc:  # a value the validator cannot even inspect
            return _invalid(ed, kind, [f"{type(exc).__name__}: {exc}"], ed)
        return ed


validate = Validate


def _default(value: Any) -> Any:
    return plain(value)


_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
# Tried first: the same line for an event whose keys are all text (every event the
# redaction pass has walked), without OPT_NON_STR_KEYS's slower path for every mapping.
_STR_KEYS = orjson.OPT_APPEND_NEWLINE


def _dumps(ed: Any) -> bytes:
    """The line again, after orjson refused it: lone surrogates (undecodable bytes) as U+FFFD."""
    return orjson.dumps(clip(ed, MAX_STRING, 10_000, 64), default=_default, option=_OPTIONS)


class Render:
    """orjson to one line of bytes, never longer than ``max_line`` bytes.

    Values arrive bounded (see ``_bounds``); a line still over ``max_line`` is
    cut harder, and failing that replaced by a ``dm.invalid`` report.
    """

    __slots__ = ("max_line",)

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line

    def __call__(self, logger: object, method: str, ed: EventDict) -> bytes:
        stamp = ed.pop("_dm_env", None)
        if stamp is not None:
            line = _stamped_line(ed, stamp)
            if line is not None and len(line) <= self.max_line:
                return line
            ed = merge(ed, stamp)
        try:
            line = orjson.dumps(ed, default=_default, option=_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            try:  # a key that is not text (a number, a date) written as text
                line = orjson.dumps(ed, default=_default, option=_OPTIONS)
            except (TypeError, orjson.JSONEncodeError):
                line = b""
        if not line:
            try:
                line = _dumps(ed)
            except (TypeError, orjson.JSONEncodeError) as exc:
                return orjson.dumps(
                    _invalid(ed, ed.get("event", "?"), [f"not JSON-serialisable: {exc}"], ""),
                    default=_default,
                    option=_OPTIONS,
                )
        if len(line) <= self.max_line:
            return line
        clipped = {k: clip(v, 1024, 50, 8) for k, v in ed.items()}
        line = orjson.dumps(clipped, default=_default, option=_OPTIONS)
        if len(line) <= self.max_line:
            return line
        return orjson.dumps(
            _invalid(ed, ed.get("event", "?"), [f"line of {len(line)} bytes over the maximum"], ""),
            default=_default,
            option=_OPTIONS,
        )


render = Render


def _stamped_line(ed: EventDict, stamp: Stamp) -> bytes | None:
    """The line of ``merge(ed, stamp)``, made without that dict; None when it must be made:
    a field named like the envelope, or a value the first try of :class:`Render` refuses."""
    envelope, prefix, us, seq, ctx, kind = stamp
    if not _ENVELOPE_NAMES.isdisjoint(ed):
        return None
    try:
        ed.pop("event", None)  # written from the stamp, in its place
        body = orjson.dumps(ed, default=_default, option=_STR_KEYS)
        head = envelope._heads.get(kind) or envelope.head(kind)
        if ctx is None:
            span = b""
        else:
            kept = ctx.rendered
            if kept is not None and kept[0] is ctx.trace and kept[1] is ctx.span:
                span = kept[3] if kept[2] is ctx.parent else _span_json(ctx)
            else:
                span = _span_json(ctx)
    except (TypeError, KeyError, orjson.JSONEncodeError):
        return None
    if len(body) == 3:  # b"{}\n": no field of its own
        return b'{"v":1,"ts":"%s.%06d%s%d%s}\n' % (prefix[1], us, head, seq, span)
    return b'{"v":1,"ts":"%s.%06d%s%d%s,%s' % (prefix[1], us, head, seq, span, body[1:])
