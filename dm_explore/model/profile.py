"""Sampled profiles: folded stacks read into a call tree and a top-functions table.

A ``profile`` event carries ``stacks``, folded stacks (``"mod:func;mod:func"``,
outermost frame first) mapped to a sample count, and ``interval``, the seconds
between samples. :func:`read_profile` turns one into a :class:`Profile`:
:attr:`Profile.root`, the call tree, and :meth:`Profile.top`, every function with
its *self* samples (it was the innermost frame) and its *total* samples (it was
anywhere on the stack, counted once per sample even when it recurses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import Span, number

__all__ = ["CallNode", "FunctionStats", "Profile", "read_profile", "span_profiles"]

MAX_STACKS = 20_000  # distinct stacks read of one profile; the rest counted as "(more)"
MAX_FRAMES = 512  # frames read of one stack


@dataclass(slots=True)
class CallNode:
    """One frame of the call tree: a function called along one path."""

    name: str
    total: int = 0  # samples in this frame or below it
    own: int = 0  # samples where this frame was the innermost
    children: dict[str, CallNode] = field(default_factory=dict)

    def sorted_children(self) -> list[CallNode]:
        """Children, most samples first (then by name, for a stable order)."""
        return sorted(self.children.values(), key=lambda n: (-n.total, n.name))


@dataclass(slots=True)
class FunctionStats:
    """One function across every stack it appears in."""

    name: str
    own: int = 0
    total: int = 0


@dataclass(slots=True)
class Profile:
    """One profile event, read."""

    interval: float  # seconds between samples
    samples: int  # the samples the stacks hold
    root: CallNode
    stacks: list[tuple[tuple[str, ...], int]]  # (frames outermost first, count), as written
    functions: dict[str, FunctionStats]
    ms: float | None = None  # the wall time the profiler covered, if the writer said

    def top(self, by: str = "own", limit: int = 50) -> list[FunctionStats]:
        """The functions with the most ``own`` (self) or ``total`` samples."""
        if by == "total":
            key = lambda f: (-f.total, -f.own, f.name)  # noqa: E731
        else:
            key = lambda f: (-f.own, -f.total, f.name)  # noqa: E731
        return sorted(self.functions.values(), key=key)[:limit]

    def ms_of(self, samples: int) -> float:
        """``samples`` as milliseconds of sampled time."""
        return samples * self.interval * 1000


def read_profile(event: dict[str, Any]) -> Profile | None:
    """The profile of one ``profile`` event (envelope removed), or None if it has no stacks.

    Counts that are not non-negative integers, and empty stacks, are skipped: the
    file is untrusted and the view must not fail on it.
    """
    stacks = event.get("stacks")
    if not isinstance(stacks, dict):
        return None
    interval = number(event.get("interval"))
    root = CallNode("(all)")
    functions: dict[str, FunctionStats] = {}
    kept: list[tuple[tuple[str, ...], int]] = []
    skipped = 0
    for folded, count in stacks.items():
        if type(count) is not int or count <= 0 or not isinstance(folded, str):
            continue
        if len(kept) >= MAX_STACKS:
            skipped += count
            continue
        frames = tuple(f for f in folded.split(";", MAX_FRAMES)[:MAX_FRAMES] if f)
        if not frames:
            continue
        kept.append((frames, count))
        node = root
        node.total += count
        for name in frames:
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = CallNode(name)
            child.total += count
            node = child
        node.own += count
        for name in set(frames):
            stats = functions.get(name)
            if stats is None:
                stats = functions[name] = FunctionStats(name)
            stats.total += count
        functions[frames[-1]].own += count
    if skipped:
        more = root.children.setdefault("(more)", CallNode("(more)"))
        more.total += skipped
        more.own += skipped
        root.total += skipped
    if not root.total:
        return None
    return Profile(
        interval=interval if interval is not None and interval > 0 else 0.001,
        samples=root.total,
        root=root,
        stacks=kept,
        functions=functions,
        ms=number(event.get("ms")),
    )


def span_profiles(span: Span) -> list[Profile]:
    """The readable profiles recorded on ``span``, in arrival order."""
    found = (read_profile(event) for event in span.profiles)
    return [p for p in found if p is not None]
