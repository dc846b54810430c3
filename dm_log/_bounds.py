"""Bounds on what one event may hold, applied before validation, redaction and rendering.

Every value is bounded as it is first walked (by the redaction pass, see
``_redact``): strings to :data:`MAX_STRING` characters, containers to
:data:`MAX_ITEMS` items and :data:`MAX_DEPTH` levels, and the whole event to
:data:`MAX_NODES` container items, so a 100 MB table costs the time and memory of
its first few thousand cells. What was cut is marked visibly (``…[truncated N]``).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping
from itertools import islice
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_NODES",
    "MAX_STRING",
    "TRUNCATED",
    "clip",
    "clip_text",
    "cut_mark",
    "plain",
    "printable",
]

TRUNCATED = "…[truncated {}]"
MAX_STRING = 16 * 1024
MAX_ITEMS = 500
MAX_DEPTH = 20
MAX_NODES = 20_000
_SURROGATES = re.compile("[\ud800-\udfff]")
_NATIVE = (datetime.datetime, datetime.date, datetime.time, uuid.UUID)


def cut_mark(items: list[Any], left_out: int) -> Any:
    """The item that says ``left_out`` items were cut, shaped like the items before it:
    a one-cell row after rows (a table stays a table), a mapping after mappings."""
    mark = TRUNCATED.format(left_out)
    last = items[-1] if items else None
    if isinstance(last, list):
        return [mark]
    if isinstance(last, dict):
        return {"…": mark}
    return mark


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with how many were left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + TRUNCATED.format(f"{len(text) - limit} chars")


def printable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes of argv, a file name) as U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def plain(value: Any) -> Any:
    """A value orjson writes as the user meant, for anything not a plain JSON type.

    Subclasses of ``str``/``int``/``float``/``dict``/``list`` become the base type,
    sets become lists (bounded), bytes are decoded with replacement characters,
    dates, times and UUIDs are kept, anything else becomes its ``str()``.
    """
    try:
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, _NATIVE):
            return value
        if isinstance(value, Mapping):
            return dict(islice(value.items(), MAX_ITEMS))
        if isinstance(value, list | tuple):
            return list(value[:MAX_ITEMS])
        if isinstance(value, set | frozenset):
            items: list[Any] = list(islice(value, MAX_ITEMS))
            if len(value) > MAX_ITEMS:
                items.append(TRUNCATED.format(len(value) - MAX_ITEMS))
            return items
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value[: MAX_STRING * 4]).decode("utf-8", "replace")
        return str(value)
    except Exception:  # a broken __str__, __iter__ or __len__ must not break the caller
        return f"<unprintable {type(value).__name__}>"


def clip(value: Any, limit: int, items: int, depth: int) -> Any:
    """A copy of ``value`` at most ``limit`` characters per string, ``items`` per container,
    ``depth`` levels deep, with surrogates replaced and keys made strings.

    The renderer's harder second cut, for a line still over the maximum.
    """
    if isinstance(value, str):
        return printable(clip_text(value, limit))
    if isinstance(value, dict):
        if depth <= 0:
            return "…[too deep]"
        out = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= items:
                out["…"] = TRUNCATED.format(len(value) - items)
                break
            out[printable(clip_text(str(k), 200))] = clip(v, limit, items, depth - 1)
        return out
    if isinstance(value, list | tuple):
        if depth <= 0:
            return "…[too deep]"
        clipped = [clip(v, limit, items, depth - 1) for v in value[:items]]
        if len(value) > items:
            clipped.append(cut_mark(clipped, len(value) - items))
        return clipped
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)
    return value
