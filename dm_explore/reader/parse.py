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

__all__ = ["SCHEMA_VERSION", "parse_line"]

SCHEMA_VERSION = 1
_TS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")
_NUM = (int, float)

# Fields the model reads, by kind: name -> accepted types.
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
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
_REQUIRED: dict[str, tuple[str, ...]] = {
    "sql": ("sql",),
    "log": ("msg",),
    "exception": ("type", "fingerprint"),
    "panel": ("panel", "type"),
    "metric": ("name", "value"),
}


_ID16 = re.compile(r"[0-9a-f]{16}")
_ID32 = re.compile(r"[0-9a-f]{32}")
_good_ids: set[str] = set()  # ids already checked: spans and traces repeat on many lines


def _is_hex(value: object, length: int) -> bool:
    if type(value) is not str:
        return False
    if value in _good_ids:
        return len(value) == length
    if (_ID16 if length == 16 else _ID32).fullmatch(value) is None:
        return False
    if len(_good_ids) > 500_000:
        _good_ids.clear()
    _good_ids.add(value)
    return True


# The envelope exactly as dm_log writes it, in its key order. A line that starts like
# this needs none of the envelope checks below (one C-level match instead of a dozen
# Python-level ones); any other line, from another writer or damaged, takes them all.
_CANONICAL = re.compile(
    rb'\{"v":1,"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z",'
    rb'"event":"[a-z][a-z0-9_.]*","svc":"[^"\\\x00-\x1f]+",'
    rb'"host":"[^"\\\x00-\x1f]+","pid":[0-9]{1,18}(?:,"seq":[0-9]{1,18})?'
    rb'(?:,"trace":"[0-9a-f]{32}","span":"[0-9a-f]{16}"(?:,"parent":"[0-9a-f]{16}")?)?[,}]'
)


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(event, None)`` for a usable line, ``(None, reason)`` for anything else."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, f"not JSON: {str(exc).split(':')[0]}"
    if type(event) is not dict:
        return None, f"not a JSON object but {type(event).__name__}"
    canonical = _CANONICAL.match(raw) is not None
    kind = event.get("event")
    if not (
        canonical
        and event["v"] == 1
        and type(kind) is str
        and type(event["pid"]) is int
        and type(event["ts"]) is str
        and type(event["svc"]) is str
        and type(event["host"]) is str
    ):  # a repeated key can override the prefix
        reason = _envelope_problem(event)
        if reason is not None:
            return None, reason
        kind = event["event"]
    span = event.get("span")
    if span is not None:
        if not _is_hex(span, 16) or not _is_hex(event.get("trace"), 32):
            return None, "envelope: trace/span must be 32/16 lowercase hex"
        parent = event.get("parent")
        if parent is not None and not _is_hex(parent, 16):
            return None, "envelope: parent must be 16 lowercase hex"
    elif "span" in event:
        return None, "envelope: span must be 16 lowercase hex"
    elif kind[-4:] == ".end" or (kind[-6:] == ".start" and kind != "process.start"):
        return None, f"{kind}: a span event needs trace and span"
    return _check_fields(event, kind)


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
    if type(ts) is not str or _TS.fullmatch(ts) is None:
        return "envelope: ts must be an ISO-8601 UTC time ending in Z"
    if type(kind) is not str or not kind:
        return "envelope: event must be a non-empty string"
    if type(svc) is not str or type(host) is not str:
        return "envelope: svc and host must be strings"
    if type(pid) is not int:
        return "envelope: pid must be an integer"
    return None


def _check_fields(event: dict[str, Any], kind: str) -> tuple[dict[str, Any] | None, str | None]:
    """The types of the kind's own fields the model reads."""
    fields = _FIELDS.get(kind)
    if fields is not None:
        # JSON decodes to exact built-in types, so `type() in` is enough (and keeps bool out).
        for name, types in fields.items():
            value = event.get(name)
            if value is not None and type(value) not in types:
                return None, f"{kind}: {name} has the wrong type ({type(value).__name__})"
        for name in _REQUIRED.get(kind, ()):
            if name not in event:
                return None, f"{kind}: {name} is missing"
    return event, None
