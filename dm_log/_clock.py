"""Timestamps as the contract writes them: ``2026-11-23T05:25:37.123456Z``."""

from __future__ import annotations

import time

__all__ = ["file_stamp", "now_ts"]

_cache: tuple[int, str] = (-1, "")


def now_ts(t: float | None = None) -> str:
    """UTC ISO-8601 with microseconds and ``Z``; the seconds prefix is formatted once a second."""
    global _cache
    if t is None:
        t = time.time()
    sec = int(t)
    us = int((t - sec) * 1_000_000)
    cached_sec, prefix = _cache
    if sec != cached_sec:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _cache = (sec, prefix)
    return f"{prefix}.{us:06d}Z"


def file_stamp(t: float | None = None) -> str:
    """A compact UTC stamp for file names: ``20261123T052537``."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if t is None else t))
