"""Lines of bytes to the typed events the model takes, with the checks it relies on.

The fast path is one msgspec decode per line: the envelope (``v``, an RFC 3339
``ts`` with its offset, ``svc``, ``host``, ``pid``, ids of the right length) and
the fields the model reads are type-checked in C, every other field is skipped
unbuilt. That ids are lowercase hex, which no type says, the model checks once
per span, when it first meets it. A line that fails is handed to
:func:`~dm_explore.ingest.parse.parse_line`, which says why, or, for a kind
without a class of its own, accepts it as an :class:`~dm_explore.ingest.events.Other`.
"""

from __future__ import annotations

import msgspec

from ..model.problems import Problem
from .events import TAGS, Event, Other, decode_event
from .parse import parse_line

__all__ = ["decode_batch"]

_Errors = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)
_NEW = "new"  # a line not met before in the batch
_REMEMBERED = 256  # refused lines up to this long are explained once per batch


def decode_batch(
    raws: list[bytes], path: str = "", first: int = 0
) -> tuple[list[Event | None], list[Problem]]:
    """Every line of ``raws`` decoded: the events (None for a blank or bad line), the problems.

    ``raws[i]`` is line ``first + i + 1`` of file ``path``, as the problems say.
    Blank lines are neither events nor problems.
    """
    decode = decode_event
    try:  # the usual batch, every line good: one comprehension
        return [decode(raw) for raw in raws], []
    except _Errors:
        pass  # a blank or bad line somewhere: line by line, to say which and why
    events: list[Event | None] = []
    problems: list[Problem] = []
    add = events.append
    # Why a refused line was refused, by its bytes: hostile files repeat one bad line
    # millions of times (a decompression bomb), and it is explained once per batch.
    refused: dict[bytes, str | None] = {b"": None, b"\n": None, b"\r\n": None}
    known = refused.get
    for i, raw in enumerate(raws):
        reason = known(raw, _NEW)
        if reason is not _NEW:
            if reason is not None:
                problems.append(Problem(path, first + i + 1, "line", reason))
            add(None)
            continue
        try:
            add(decode(raw))
        except _Errors as exc:
            other, reason = _explain(raw, exc)
            if other is None and len(raw) <= _REMEMBERED:
                refused[raw] = reason
            if reason is not None:
                problems.append(Problem(path, first + i + 1, "line", reason))
            add(other)
    return events, problems


def _explain(raw: bytes, exc: Exception) -> tuple[Event | None, str | None]:
    """A line the typed decoder refused: why, or an :class:`Other` if it is fine after all."""
    data = parse_line(raw)
    if isinstance(data, Problem):
        return None, data.reason if raw.strip() else None
    if data["event"] in TAGS:  # parse_line found nothing wrong, but the decoder did
        return None, f"{data['event']}: {exc}"
    return Other(data), None
