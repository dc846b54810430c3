"""One trace: the spans of a request chain, across services and hosts."""

from __future__ import annotations

from .records import Span

__all__ = ["Trace"]


class Trace:
    """The spans of one request chain, across services and hosts."""

    __slots__ = ("orphans", "roots", "spans", "trace_id")

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.spans: list[Span] = []  # in arrival order
        self.roots: list[Span] = []  # spans whose parent is absent (root or still waiting)
        self.orphans: dict[str, list[Span]] | None = None  # parent id -> waiting children

    @property
    def first_ts(self) -> float | None:
        """When the earliest span started."""
        return min((s.start_ts for s in self.spans if s.start_ts is not None), default=None)

    @property
    def last_ts(self) -> float | None:
        """When the last span ended (or started, if none ended after it)."""
        times = [t for s in self.spans for t in (s.start_ts, s.end_ts) if t is not None]
        return max(times, default=None)

    @property
    def services(self) -> set[str]:
        """The services the trace's spans ran in."""
        return {span.process[0] for span in self.spans}

    def root(self) -> Span | None:
        """The earliest span with no parent in the trace."""
        real = [s for s in self.roots if s.parent is None] or self.roots
        return min(real, key=lambda s: (s.start_ts or float("inf"), s.seq)) if real else None
