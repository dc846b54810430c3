"""What ``ship`` needs from reading that the model does not say: which spans moved.

:class:`Tap` wraps a :class:`~dm_explore.ingest.FolderReader`'s applier: after
each batch is applied it notes the spans that started and ended in it, each as
its :attr:`~dm_explore.model.Span.ref` (``<trace>-<span>``), so that two traces
sharing a span id stay apart; and the lines that are sent as log records or metric
points (``log``, ``exception``, ``metric``, ``runtime``), by line number.
"""

from __future__ import annotations

from typing import Any

from ..ingest import FolderReader
from ..ingest import events as ev

__all__ = ["POINT_KINDS", "Tap"]

POINT_KINDS = frozenset(("log", "exception", "metric", "runtime"))


class Tap:
    """Spans (their refs) started and ended, and log and metric lines, since :meth:`take`."""

    def __init__(self, reader: FolderReader) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        self.points: list[tuple[int, str, bytes]] = []  # (line number, kind, line)
        applier = reader.applier
        inner = applier.apply_batch

        def apply_batch(
            file_id: int, events: list[ev.Event | None], raws: list[bytes], first: int = 0
        ) -> list[Any]:
            refused = inner(file_id, events, raws, first)
            self._note(events, raws, first)
            return refused

        applier.apply_batch = apply_batch  # type: ignore[method-assign]

    def _note(self, events: list[ev.Event | None], raws: list[bytes], first: int) -> None:
        started, ended, points = self.started, self.ended, self.points
        end_type, span_type, other = ev.End, ev.SpanEvent, ev.Other
        point_kinds = POINT_KINDS
        for i, e in enumerate(events):
            if e is None:
                continue
            if e.KIND in point_kinds:
                points.append((first + i + 1, e.KIND, raws[i]))
            elif isinstance(e, span_type):
                (ended if isinstance(e, end_type) else started).append(f"{e.trace}-{e.span}")
            elif isinstance(e, other) and e.span and e.trace:
                kind = e.KIND
                if kind.endswith(".end"):
                    ended.append(f"{e.trace}-{e.span}")
                elif kind.endswith(".start"):
                    started.append(f"{e.trace}-{e.span}")

    def take(self) -> tuple[list[str], list[str], list[tuple[int, str, bytes]]]:
        """The spans started and ended, and the log and metric lines, since the last call."""
        started, ended, points = self.started, self.ended, self.points
        self.started, self.ended, self.points = [], [], []
        return started, ended, points
