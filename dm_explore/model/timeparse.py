"""Contract timestamps (``2026-11-23T05:25:37.123456Z``) to epoch seconds, fast."""

from __future__ import annotations

import calendar
import time
from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["Timestamp", "epoch_seconds", "format_ts", "parse_ts"]

_seconds: dict[str, float] = {}


def parse_ts(ts: str) -> float:
    """Epoch seconds of a contract timestamp; the whole-second part is cached."""
    head = ts[:19]
    base = _seconds.get(head)
    if base is None:
        try:
            base = float(calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S")))
        except ValueError:
            base = 0.0
        if len(_seconds) > 100_000:
            _seconds.clear()
        _seconds[head] = base
    frac = ts[19:-1]
    if frac:
        try:
            return base + float(frac)
        except ValueError:
            return base
    return base


def format_ts(epoch: float, *, date: bool = False) -> str:
    """``HH:MM:SS.mmm`` (UTC), with the date in front if asked."""
    whole = int(epoch)
    ms = int((epoch - whole) * 1000)
    fmt = "%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S"
    return f"{time.strftime(fmt, time.gmtime(whole))}.{ms:03d}"


Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
"""An RFC 3339 time with its offset, as the typed decoder reads ``ts`` (dm_log writes ``Z``)."""


def epoch_seconds(ts: str) -> float | None:
    """Epoch seconds of an RFC 3339 time with an offset, or None if ``ts`` is not one.

    The same rule the typed decoder applies to ``ts``; ``dm-explore check`` also
    insists on the contract's ``Z``.
    """
    try:
        return msgspec.convert(ts, Timestamp).timestamp()
    except (msgspec.ValidationError, TypeError, ValueError, OverflowError):
        return None
