"""The writer's processor chain: small functions over one event dict, structlog style.

Each processor takes ``(logger, method_name, event_dict)`` and returns the dict
(or, for the renderer, bytes). Order in the pipeline::

    add_envelope -> redact -> validate -> render (clipping oversized values)

Keys starting with ``_dm_`` are instructions from the API to the chain (the span
context, whether to validate) and never reach the file.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import fastjsonschema
import orjson

from ._clock import now_ts
from ._context import SpanContext, current_span
from ._frames import call_site
from ._redact import (
    redact_argv,
    redact_headers,
    redact_mapping,
    redact_query,
    redact_sql_params,
    redact_url,
    scrub,
)
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

TRUNCATED = "…[truncated {} chars]"
MAX_STRING = 16 * 1024
MAX_ITEMS = 500
MAX_DEPTH = 20

EventDict = MutableMapping[str, Any]


class Envelope:
    """Adds ``v ts event svc host pid seq trace span parent`` in contract order."""

    __slots__ = ("host", "next_seq", "pid", "svc")

    def __init__(self, svc: str, host: str, pid: int, next_seq: Any) -> None:
        self.svc, self.host, self.pid, self.next_seq = svc, host, pid, next_seq

    def __call__(self, logger: object, method: str, ed: EventDict) -> EventDict:
        ctx: SpanContext | None = ed.pop("_dm_ctx", None) or current_span.get()
        out: EventDict = {
            "v": 1,
            "ts": now_ts(),
            "event": ed.pop("event"),
            "svc": self.svc,
            "host": self.host,
            "pid": self.pid,
            "seq": self.next_seq(),
        }
        if ctx is not None:
            out["trace"] = ctx.trace
            out["span"] = ctx.span
            if ctx.parent is not None:
                out["parent"] = ctx.parent
            out["_dm_secrets"] = ctx.secrets
        out.update(ed)
        return out


_REDACTED_FIELDS = ("headers", "form", "fields", "params", "query", "url", "msg", "message", "args")
_FIELDS_OF_KIND = {
    "sql": ("params",),
    "log": ("msg", "fields"),
    "exception": ("message",),
    "request.start": ("headers", "query", "form"),
    "request.end": ("headers",),
    "command.start": ("params", "argv"),
    "http.start": ("url",),
    "task.start": ("args",),
    "span.start": ("fields",),
    "span.end": ("fields",),
    "metric": (),
    "runtime": (),
    "progress": ("message",),
}


def redact(logger: object, method: str, ed: EventDict) -> EventDict:
    """Redact secrets by key in the fields that carry them, and scrub remembered values."""
    secrets: set[str] | None = ed.pop("_dm_secrets", None)
    kind = ed["event"]
    for key in _FIELDS_OF_KIND.get(kind, _REDACTED_FIELDS):
        value = ed.get(key)
        if value is None:
            continue
        if key == "headers" and isinstance(value, dict):
            ed[key] = redact_headers(value, secrets)
        elif key == "params":
            if kind == "sql":
                if value:
                    ed[key] = redact_sql_params(str(ed.get("sql", "")), value, secrets)
            else:
                ed[key] = redact_mapping(value, secrets)
        elif key == "query" and isinstance(value, str):
            ed[key] = redact_query(value, secrets)
        elif key == "url" and isinstance(value, str):
            ed[key] = redact_url(value, secrets)
        elif key == "argv" and isinstance(value, list | tuple):
            ed[key] = redact_argv(value, secrets)
        elif isinstance(value, str):
            if secrets:
                ed[key] = scrub(value, secrets)
        else:
            ed[key] = redact_mapping(value, secrets)
    if kind == "panel":
        content = ed.get("content")
        if isinstance(content, dict | list):
            ed["content"] = redact_mapping(content, secrets)
        elif isinstance(content, str) and secrets:
            ed["content"] = scrub(content, secrets)
    return ed


def _clip(value: Any, limit: int, items: int, depth: int) -> Any:
    if isinstance(value, str):
        if len(value) > limit:
            return value[:limit] + TRUNCATED.format(len(value) - limit)
        return value
    if isinstance(value, dict):
        if depth <= 0:
            return "…[too deep]"
        out = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= items:
                out["…"] = TRUNCATED.format(len(value) - items)
                break
            out[str(k)[:200] if not isinstance(k, str) or len(k) > 200 else k] = _clip(
                v, limit, items, depth - 1
            )
        return out
    if isinstance(value, list | tuple):
        if depth <= 0:
            return "…[too deep]"
        clipped = [_clip(v, limit, items, depth - 1) for v in value[:items]]
        if len(value) > items:
            clipped.append(TRUNCATED.format(len(value) - items))
        return clipped
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)
    return value


def _invalid(ed: EventDict, kind: str, errors: list[str], data: Any) -> EventDict:
    keep = ("v", "ts", "svc", "host", "pid", "seq", "trace", "span", "parent")
    out = {k: ed[k] for k in keep if k in ed}
    out["event"] = "dm.invalid"
    out["kind"] = str(kind)[:100]
    out["errors"] = errors
    site = call_site(3)
    if site is not None:
        out["call"] = site
    if isinstance(data, dict):
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
        forced = ed.pop("_dm_validate", False)
        kind = ed["event"]
        if not (forced or self.validate_all or kind not in HOT_KINDS):
            return ed
        try:
            validator_for(kind, envelope=self.validate_all)(ed)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _invalid(ed, kind, [exc.message], ed)
        except Exception as exc:  # a value the validator cannot even inspect
            return _invalid(ed, kind, [f"{type(exc).__name__}: {exc}"], ed)
        return ed


validate = Validate


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


class Render:
    """orjson to one line of bytes, never longer than ``max_line`` bytes."""

    __slots__ = ("max_line",)

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line

    def __call__(self, logger: object, method: str, ed: EventDict) -> bytes:
        try:
            line = orjson.dumps(ed, default=_default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            line = b""  # too deep, an int over 64 bits, ...: clipping below fixes most
        if 0 < len(line) <= MAX_STRING:
            return line
        # Rare path: a long or odd value somewhere. Clip visibly, then harder.
        clipped = {k: _clip(v, MAX_STRING, MAX_ITEMS, MAX_DEPTH) for k, v in ed.items()}
        try:
            line = orjson.dumps(clipped, default=_default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return orjson.dumps(
                _invalid(ed, ed.get("event", "?"), [f"not JSON-serialisable: {exc}"], ""),
                option=_OPTIONS,
            )
        if len(line) <= self.max_line:
            return line
        clipped = {k: _clip(v, 1024, 50, 8) for k, v in ed.items()}
        line = orjson.dumps(clipped, default=_default, option=_OPTIONS)
        if len(line) <= self.max_line:
            return line
        return orjson.dumps(
            _invalid(ed, ed.get("event", "?"), [f"line of {len(line)} bytes over the maximum"], ""),
            option=_OPTIONS,
        )


render = Render
