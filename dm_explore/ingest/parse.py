"""One line of bytes to one event dict, or the :class:`Problem` that says why it cannot be one.

The reader's fast path is :mod:`~dm_explore.ingest.decode`; this is the slow,
explaining path it falls back on, and what ``dm-explore tail`` uses. The rules
are the same: the envelope (``v``, ``ts``, ``event``, ``svc``, ``host``,
``pid``, ids in lowercase hex of the right length, :mod:`dm_log.contract`), and,
for a kind the model reads, its fields' types as :mod:`dm_explore.ingest.events`
declares them. Full schema validation is ``dm-explore check``'s job.
"""

from __future__ import annotations

from typing import Any

import orjson

from dm_log.contract import SCHEMA_VERSION, is_span_id, is_trace_id, parse_time

from ..model.problems import Problem
from .events import TAGS, typed_decode_problem

__all__ = ["parse_line"]


def parse_line(raw: bytes, path: str = "", line: int = 0) -> dict[str, Any] | Problem:
    """The event of a usable line; for anything else, the :class:`Problem` (kind ``line``).

    ``path`` and ``line`` say where the line is, for the problem.
    """
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Problem(path, line, "line", f"not JSON: {str(exc).split(':')[0]}")
    if type(event) is not dict:
        return Problem(path, line, "line", f"not a JSON object but {type(event).__name__}")
    reason = _envelope_problem(event) or _ids_problem(event)
    if reason is None and event["event"] in TAGS:
        reason = typed_decode_problem(event)
    return Problem(path, line, "line", reason) if reason is not None else event


def _envelope_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with the envelope, if anything."""
    try:
        v, ts, kind = event["v"], event["ts"], event["event"]
        svc, host, pid = event["svc"], event["host"], event["pid"]
    except KeyError as exc:
        return f"envelope: {exc.args[0]} is missing"
    if v != SCHEMA_VERSION or type(v) is not int:
        if type(v) is int and v > SCHEMA_VERSION:
            return f"schema version {v} is newer than this explorer's {SCHEMA_VERSION}"
        return "envelope: v must be 1"
    if parse_time(ts) is None:
        return "envelope: ts must be an RFC 3339 time with its offset (dm_log writes Z)"
    if type(kind) is not str or not kind:
        return "envelope: event must be a non-empty string"
    if type(svc) is not str or type(host) is not str:
        return "envelope: svc and host must be strings"
    if type(pid) is not int:
        return "envelope: pid must be an integer"
    return None


def _ids_problem(event: dict[str, Any]) -> str | None:
    kind: str = event["event"]
    if "span" not in event:
        if kind[-4:] == ".end" or (kind[-6:] == ".start" and kind != "process.start"):
            return f"{kind}: a span event needs trace and span"
        return None
    if not (is_span_id(event["span"]) and is_trace_id(event.get("trace"))):
        return "envelope: trace/span must be 32/16 lowercase hex"
    parent = event.get("parent")
    if parent is not None and not is_span_id(parent):
        return "envelope: parent must be 16 lowercase hex"
    return None
