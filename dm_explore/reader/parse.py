"""One line of bytes to one event dict, with the cheap checks the model relies on.

Full schema validation is ``dm-explore check``'s job; at ingest only what would
mislead the model is refused: a broken envelope (``v``, ``ts``, ``event``,
``svc``, ``host``, ``pid``, ids that are not lowercase hex of the right length)
and wrongly typed fields the model reads.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ..model.timeparse import epoch_seconds

__all__ = ["SCHEMA_VERSION", "parse_line"]

SCHEMA_VERSION = 1
_NUM = (int, float)

# Fields the model reads, by kind: name -> accepted types.
_FIELD_TYPES: dict[str, dict[str, tuple[type, ...]]] = {
    "request.start": {"method": (str,), "path": (str,), "headers": (dict,), "query": (str,)},
    "request.end": {
        "ms": _NUM,
        "status": (int,),
        "route": (str,),
        "view": (str,),
        "headers": (dict,),
    },
    "http.start": {"method": (str,), "url": (str,)},
    "http.end": {"ms": _NUM, "status": (int, type(None))},
    "task.start": {"task": (str,), "task_id": (str,), "args": (str,)},
    "task.end": {"ms": _NUM, "state": (str,)},
    "command.start": {"command": (str,), "params": (dict,), "interval": _NUM},
    "command.heartbeat": {"interval": _NUM},
    "command.end": {"ms": _NUM, "status": (str,)},
    "test.start": {"nodeid": (str,)},
    "test.end": {"ms": _NUM, "result": (str,)},
    "span.start": {"name": (str,), "fields": (dict,)},
    "span.end": {"ms": _NUM, "name": (str,)},
    "sql": {"sql": (str,), "ms": _NUM, "params": (list, dict, type(None)), "site": (dict,)},
    "log": {"level": (str,), "msg": (str,), "logger": (str,)},
    "exception": {"type": (str,), "message": (str,), "frames": (list,), "fingerprint": (str,)},
    "panel": {"panel": (str,), "op": (str,), "type": (str,)},
    "metric": {"name": (str,), "value": _NUM, "tags": (dict,)},
    "runtime": {"rss": _NUM, "cpu": _NUM, "threads": _NUM},
    "progress": {"done": _NUM, "total": (int, float, type(None)), "message": (str,)},
    "dm.dropped": {"count": (int,), "reason": (str,)},
    "dm.invalid": {"kind": (str,), "errors": (list,)},
    "dm.capped": {"limit": (int,), "action": (str,)},
}
_FIELDS_BY_KIND: dict[str, tuple[tuple[str, tuple[type, ...]], ...]] = {
    kind: tuple(fields.items()) for kind, fields in _FIELD_TYPES.items()
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "sql": ("sql",),
    "log": ("msg",),
    "exception": ("type", "fingerprint"),
    "panel": ("panel", "type"),
    "metric": ("name", "value"),
}


_ID16 = re.compile(r"[0-9a-f]{16}")
_ID32 = re.compile(r"[0-9a-f]{32}")
# Ids already checked: spans and traces repeat on many lines, so most checks are one
# set lookup. Bounded: cleared when large (the ids are checked again, nothing is lost).
_good16: set[str] = set()
_good32: set[str] = set()
_GOOD_LIMIT = 400_000


def _is_hex(value: object, length: int) -> bool:
    if type(value) is not str:
        return False
    good = _good16 if length == 16 else _good32
    if value in good:
        return True
    if (_ID16 if length == 16 else _ID32).fullmatch(value) is None:
        return False
    if len(good) > _GOOD_LIMIT:
        good.clear()
    good.add(value)
    return True


_loads = orjson.loads
_DecodeError = orjson.JSONDecodeError


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(event, None)`` for a usable line, ``(None, reason)`` for anything else."""
    try:
        event = _loads(raw)
    except _DecodeError as exc:
        return None, f"not JSON: {str(exc).split(':')[0]}"
    if type(event) is not dict:
        return None, f"not a JSON object but {type(event).__name__}"
    get = event.get
    kind = get("event")
    v = get("v")
    ts = get("ts")
    pid = get("pid")
    if not (
        v == 1
        and type(v) is int
        and type(kind) is str
        and kind
        and type(pid) is int
        and type(ts) is str
        and epoch_seconds(ts) is not None
        and type(get("svc")) is str
        and type(get("host")) is str
    ):
        return None, _envelope_problem(event) or "envelope: invalid"
    span = get("span")
    if span is not None:
        trace = get("trace")
        parent = get("parent")
        try:  # set lookups first; an unhashable value (a list, a dict) is simply wrong
            ids_ok = (span in _good16 or _is_hex(span, 16)) and (
                trace in _good32 or _is_hex(trace, 32)
            )
            parent_ok = parent is None or parent in _good16 or _is_hex(parent, 16)
        except TypeError:
            ids_ok = parent_ok = False
        if not ids_ok:
            return None, "envelope: trace/span must be 32/16 lowercase hex"
        if not parent_ok:
            return None, "envelope: parent must be 16 lowercase hex"
    elif "span" in event:
        return None, "envelope: span must be 16 lowercase hex"
    elif kind[-4:] == ".end" or (kind[-6:] == ".start" and kind != "process.start"):
        return None, f"{kind}: a span event needs trace and span"
    fields = _FIELDS_BY_KIND.get(kind)
    if fields is not None:
        # JSON decodes to exact built-in types, so `type() in` is enough (and keeps bool out).
        for name, types in fields:
            value = get(name)
            if value is not None and type(value) not in types:
                return None, f"{kind}: {name} has the wrong type ({type(value).__name__})"
        for name in _REQUIRED.get(kind, ()):
            if name not in event:
                return None, f"{kind}: {name} is missing"
    return event, None


def _envelope_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with the envelope of a line not in dm_log's own form, if anything."""
    try:
        v, ts, kind = event["v"], event["ts"], event["event"]
        svc, host, pid = event["svc"], event["host"], event["pid"]
    except KeyError as exc:
        return f"envelope: {exc.args[0]} is missing"
    if v != SCHEMA_VERSION or type(v) is not int:
        if type(v) is int and v > SCHEMA_VERSION:
            return f"schema version {v} is newer than this explorer's {SCHEMA_VERSION}"
        return "envelope: v must be 1"
    if type(ts) is not str or epoch_seconds(ts) is None:
        return "envelope: ts must be an RFC 3339 time with its offset (dm_log writes Z)"
    if type(kind) is not str or not kind:
        return "envelope: event must be a non-empty string"
    if type(svc) is not str or type(host) is not str:
        return "envelope: svc and host must be strings"
    if type(pid) is not int:
        return "envelope: pid must be an integer"
    return None
