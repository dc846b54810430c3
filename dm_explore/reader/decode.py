"""Lines of bytes to the typed events the model takes, with the checks it relies on.

The fast path is one msgspec decode per line: the envelope (``v``, an RFC 3339
``ts`` with its offset, ``svc``, ``host``, ``pid``, ids of the right length) and
the fields the model reads are type-checked in C, every other field is skipped
unbuilt. Left to do here are what a type cannot say: ids in lowercase hex, and
the shape of an ``sql`` event's params and call site. A line that fails is handed
to :func:`~dm_explore.reader.parse.parse_line`, which says why, or, for a kind
without a class of its own, accepts it as an :class:`~dm_explore.model.events.Other`.
"""

from __future__ import annotations

import msgspec

from ..model.events import TAGS, Event, Other, Sql, decode_event
from .parse import parse_line

__all__ = ["decode_batch", "decode_line"]

_UNSET = msgspec.UNSET
_Errors = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)
_HEX = "0123456789abcdef"
_SHAPES = (b"[", b"{", b"n")  # params of an sql event: an array, an object or null
# Ids already seen well-formed: spans and traces repeat on many lines, so most checks
# are set lookups. Bounded: cleared when large (ids are then checked again).
_good: set[str] = set()
_GOOD_LIMIT = 500_000


def decode_line(raw: bytes) -> tuple[Event | None, str | None]:
    """``(event, None)`` for a usable line, ``(None, reason)`` for a bad one.

    A blank line is ``(None, None)``: neither an event nor a problem.
    """
    events, problems = decode_batch([raw])
    return events[0], problems[0][1] if problems else None


def decode_batch(raws: list[bytes]) -> tuple[list[Event | None], list[tuple[int, str]]]:
    """Every line of ``raws`` decoded: the events (None for a blank or bad line), the problems.

    ``problems`` holds ``(index, reason)``; blank lines are neither events nor problems.
    """
    events: list[Event | None] = []
    problems: list[tuple[int, str]] = []
    add = events.append
    good, decode, unset, sql = _good, decode_event, _UNSET, Sql
    for i, raw in enumerate(raws):
        if not raw:
            add(None)
            continue
        try:
            event: Event = decode(raw)
        except _Errors as exc:
            other, reason = _explain(raw, exc)
            if reason is not None:
                problems.append((i, reason))
            add(other)
            continue
        span = event.span
        if span is not unset and not (
            span in good and event.trace in good and (event.parent is None or event.parent in good)
        ):
            reason = _ids_problem(event)
            if reason is not None:
                problems.append((i, reason))
                add(None)
                continue
        if type(event) is sql:
            reason = _sql_problem(event)
            if reason is not None:
                problems.append((i, reason))
                add(None)
                continue
        add(event)
    return events, problems


def _ids_problem(event: Event) -> str | None:
    """What is wrong with the ids of a span event (lengths are already right), if anything."""
    ids = (
        (event.span, event.trace)
        if event.parent is None
        else (event.span, event.trace, event.parent)
    )
    for value in ids:
        if value.strip(_HEX):  # type: ignore[union-attr]
            if value is event.parent:
                return "envelope: parent must be 16 lowercase hex"
            return "envelope: trace/span must be 32/16 lowercase hex"
    if len(_good) > _GOOD_LIMIT:
        _good.clear()
    _good.update(ids)  # type: ignore[arg-type]
    return None


def _sql_problem(event: Sql) -> str | None:
    if bytes(event.params)[:1] not in _SHAPES:
        return "sql: params has the wrong type"
    site = bytes(event.site)
    if site[:1] != b"{" and site != b"null":
        return "sql: site has the wrong type"
    return None


def _explain(raw: bytes, exc: Exception) -> tuple[Event | None, str | None]:
    """A line the typed decoder refused: why, or an :class:`Other` if it is fine after all."""
    data, reason = parse_line(raw)
    if data is None:
        return None, reason if raw.strip() else None
    if data["event"] in TAGS:  # a known kind with a field the decoder found mistyped
        return None, f"{data['event']}: {exc}"
    return Other(data), None
