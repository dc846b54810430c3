"""The event contract's rules that writers and readers both need, stated once.

The JSON Schema in ``schema/`` is the statement of what a line may hold; this
module gives its loaded documents and compiled validators, and the few rules a
reader applies without running the schema: the envelope's keys in their
order, what an id looks like, and how an event's time is read and shown.

- **Envelope**: :data:`ENVELOPE_KEYS`, in the order a writer puts them.
- **Ids**: a trace id is 32, a span id 16 lowercase hex digits
  (:func:`is_trace_id`, :func:`is_span_id`, :func:`is_hex`).
- **Time**: ``ts`` is an RFC 3339 time with its UTC offset (``Z``, ``+02:00``,
  ``-05:30``); writers of this package write UTC with microseconds and ``Z``.
  :func:`parse_time` reads any offset to one instant, keeping the fraction;
  :func:`epoch_seconds`, :func:`unix_nanos` and :func:`format_time` are that
  instant in the units a view needs; :func:`format_time` shows local time unless
  :func:`display_utc` was set (``--utc``), and :func:`zone_name` names the zone shown.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec

from ._schema import ROOT_ID, kind_refs, schema_dir, schema_store, validator_for

__all__ = [
    "ENVELOPE",
    "ENVELOPE_KEYS",
    "HEX_DIGITS",
    "ROOT_ID",
    "SCHEMA_VERSION",
    "SPAN_ID_LENGTH",
    "TRACE_ID_LENGTH",
    "Timestamp",
    "display_utc",
    "epoch_seconds",
    "format_time",
    "is_hex",
    "is_span_id",
    "is_trace_id",
    "kind_refs",
    "parse_time",
    "schema_dir",
    "schema_store",
    "unix_nanos",
    "validator_for",
    "zone_name",
]

SCHEMA_VERSION = 1

ENVELOPE_KEYS = ("v", "ts", "event", "svc", "host", "pid", "seq", "trace", "span", "parent")
"""The envelope's keys, in the order a writer puts them; every other key is the kind's."""
ENVELOPE = frozenset(ENVELOPE_KEYS)

# -- ids ---------------------------------------------------------------------------

TRACE_ID_LENGTH = 32
SPAN_ID_LENGTH = 16
HEX_DIGITS = "0123456789abcdef"
"""An id is these characters only: ``not text.rstrip(HEX_DIGITS)``.

``rstrip`` takes every character of a good id in one pass from the right;
``strip`` would take them all from the left, then look again from the right.
"""


def is_hex(value: object, length: int) -> bool:
    """``value`` is a string of exactly ``length`` lowercase hex digits."""
    return type(value) is str and len(value) == length and not value.rstrip(HEX_DIGITS)


def is_trace_id(value: object) -> bool:
    return is_hex(value, TRACE_ID_LENGTH)


def is_span_id(value: object) -> bool:
    return is_hex(value, SPAN_ID_LENGTH)


# -- time --------------------------------------------------------------------------

Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
"""An RFC 3339 time with its offset, as a typed decoder (msgspec) reads ``ts``."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def parse_time(text: Any) -> datetime | None:
    """The instant of an RFC 3339 time with an offset, or None if ``text`` is not one.

    Any offset is accepted and kept (``07:25:37.5+02:00`` is ``05:25:37.5Z``); the
    fraction is kept to the microsecond. A typed decode of ``ts`` as
    :data:`Timestamp` applies this same rule.
    """
    if type(text) is not str:
        return None
    try:
        return msgspec.convert(text, Timestamp)
    except (msgspec.ValidationError, TypeError, ValueError, OverflowError):
        return None


def epoch_seconds(text: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (see :func:`parse_time`), or None."""
    moment = parse_time(text)
    return None if moment is None else moment.timestamp()


def unix_nanos(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime, exact (no float on the way)."""
    return (moment - _EPOCH) // _MICROSECOND * 1000


_display_utc = False  # the zone :func:`format_time` shows by default: local, or UTC


def display_utc(utc: bool | None = None) -> bool:
    """Whether times are shown in UTC rather than the local zone; ``utc`` sets it first.

    The process-wide default of :func:`format_time`: local time, as a person reads
    a clock; ``dm-explore --utc`` sets UTC. JSON outputs are UTC whatever this says.
    """
    global _display_utc
    if utc is not None:
        _display_utc = utc
    return _display_utc


def zone_name(utc: bool | None = None) -> str:
    """The zone :func:`format_time` shows: ``UTC``, or the local zone (``CET``, ``+0530``)."""
    if _display_utc if utc is None else utc:
        return "UTC"
    name = time.strftime("%Z", time.localtime())
    return name if name and not name.startswith(("+", "-")) else time.strftime("%z")


def format_time(
    epoch: float, *, date: bool = False, utc: bool | None = None, iso: bool = False
) -> str:
    """``HH:MM:SS.mmm`` (the date in front if asked), rounded to the millisecond.

    In the local zone, or in UTC with ``utc=True``; ``utc=None`` follows
    :func:`display_utc`. ``iso`` gives RFC 3339 with the zone's offset
    (``2026-11-23T09:15:02.000Z`` in UTC, ``...+01:00`` in local time), for JSON.
    """
    millis = round(epoch * 1000)
    whole, ms = divmod(millis, 1000)
    in_utc = _display_utc if utc is None else utc
    moment = time.gmtime(whole) if in_utc else time.localtime(whole)
    if iso:
        offset = "Z" if in_utc else time.strftime("%z", moment)
        offset = offset if offset == "Z" else f"{offset[:3]}:{offset[3:]}"
        return f"{time.strftime('%Y-%m-%dT%H:%M:%S', moment)}.{ms:03d}{offset}"
    fmt = "%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S"
    return f"{time.strftime(fmt, moment)}.{ms:03d}"
