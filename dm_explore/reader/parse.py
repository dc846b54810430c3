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


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(event, None)`` for a usable line, ``(None, reason)`` for anything else."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, f"not JSON: {str(exc).split(':')[0]}"
    if type(event) is not dict:
        return None, f"not a JSON object but {type(event).__name__}"
    try:
        v, ts, kind = event["v"], event["ts"], event["event"]
        svc, host, pid = event["svc"], event["host"], event["pid"]
    except KeyError as exc:
        return None, f"envelope: {exc.args[0]} is missing"
    if v != SCHEMA_VERSION or type(v) is not int:
        if type(v) is int and v > SCHEMA_VERSION:
            return None, f"schema version {v} is newer than this explorer's {SCHEMA_VERSION}"
        return None, "envelope: v must be 1"
    if type(ts) is not str or _TS.fullmatch(ts) is None:
        return None, "envelope: ts must be an ISO-8601 UTC time ending in Z"
    if type(kind) is not str or not kind:
        return None, "envelope: event must be a non-empty string"
    if type(svc) is not str or type(host) is not str:
        return None, "envelope: svc and host must be strings"
    if type(pid) is not int:
        return None, "envelope: pid must be an integer"
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
    fields = _FIELDS.get(kind)
    if fields is not None:
        for name, types in fields.items():
            value = event.get(name)
            if (
                value is not None
                and type(value) not in types
                and (not isinstance(value, types) or type(value) is bool)
            ):
                return None, f"{kind}: {name} has the wrong type ({type(value).__name__})"
        for name in _REQUIRED.get(kind, ()):
            if name not in event:
                return None, f"{kind}: {name} is missing"
    return event, None
