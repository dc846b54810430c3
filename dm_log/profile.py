"""Sampling profiles of a unit of work as a ``profile`` event (folded stacks).

Built on pyinstrument (``pip install 'debug-monitor[profile]'``), a sampling
profiler whose cost stays small and even, unlike ``cProfile``'s, which slows
every call and so distorts what it measures::

    profiler = dm_log.profile.start()
    ...  # the work
    dm_log.profile.finish(profiler)  # a ``profile`` event in the current span

The event carries ``interval`` (seconds between samples), ``samples`` (their
total), ``ms`` (the wall time profiled) and ``stacks``: folded stacks, the
format of flame-graph tools, ``{"module:func;module:func": samples}`` from the
outermost frame to the innermost. Without pyinstrument, :func:`start` returns
None and nothing is written.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Any

import dm_log

__all__ = ["DEFAULT_INTERVAL", "available", "finish", "folded", "start"]

DEFAULT_INTERVAL = 0.001
_MAX_STACKS = 2000
_MAX_DEPTH = 128


def available() -> bool:
    """True when pyinstrument can be imported."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return False
    return True


def start(interval: float = DEFAULT_INTERVAL, *, async_mode: str = "disabled") -> Any:
    """A started pyinstrument ``Profiler``, or None (not installed, or one already running)."""
    try:
        from pyinstrument import Profiler

        profiler = Profiler(interval=interval, async_mode=async_mode)  # type: ignore[arg-type]
        profiler.start()
        return profiler
    except Exception:
        return None


def finish(profiler: Any, **fields: Any) -> None:
    """Stop ``profiler`` and write its samples as a ``profile`` event; never raises."""
    if profiler is None:
        return
    try:
        session = profiler.stop()
        interval = float(profiler.interval)
        stacks = folded(session.frame_records, interval)
        if not stacks:
            return
        dm_log.record(
            "profile",
            interval=interval,
            samples=sum(stacks.values()),
            ms=round(float(session.duration) * 1000.0, 3),
            stacks=stacks,
            **fields,
        )
    except Exception:
        pass


_modules: dict[str, str] = {}
_roots: tuple[str, ...] = ()


def _module(path: str) -> str:
    """``package.module`` for a source file, from the longest ``sys.path`` entry holding it."""
    found = _modules.get(path)
    if found is not None:
        return found
    global _roots
    if not _roots:
        _roots = tuple(
            sorted({os.path.abspath(p) + os.sep for p in sys.path if p}, key=len, reverse=True)
        )
    name = path
    if not path.startswith("<"):
        for root in _roots:
            if path.startswith(root):
                name = path[len(root) :]
                break
        name = name.removesuffix(".py").replace(os.sep, ".").removesuffix(".__init__")
    if len(_modules) < 20000:
        _modules[path] = name
    return name


def folded(records: list[tuple[list[str], float]], interval: float) -> dict[str, int]:
    """pyinstrument frame records as folded stacks with sample counts, the largest first."""
    counts: Counter[str] = Counter()
    for call_stack, seconds in records:
        parts = []
        for identifier in call_stack[-_MAX_DEPTH:]:
            func, _, rest = identifier.partition("\x00")
            path = rest.partition("\x00")[0]
            if path == "<thread>":
                continue
            parts.append(f"{_module(path)}:{func}")
        if parts:
            counts[";".join(parts)] += max(1, round(seconds / interval))
    return dict(counts.most_common(_MAX_STACKS))
