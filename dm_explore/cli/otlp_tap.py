"""What ``ship`` needs from reading that the model does not say: which spans moved.

:class:`Tap` wraps a :class:`~dm_explore.ingest.FolderReader`'s applier: after
each batch is applied it notes the spans that started and ended in it, each as
its :attr:`~dm_explore.model.Span.ref` (``<trace>-<span>``), so that two traces
sharing a span id stay apart.
"""

from __future__ import annotations

from typing import Any

from ..ingest import FolderReader
from ..ingest import events as ev

__all__ = ["Tap"]


class Tap:
    """Spans (their refs) started and ended since :meth:`take` last ran."""

    def __init__(self, reader: FolderReader) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        applier = reader.applier
        inner = applier.apply_batch

        def apply_batch(
            file_id: int, events: list[ev.Event | None], raws: list[bytes], first: int = 0
        ) -> list[Any]:
            refused = inner(file_id, events, raws, first)
            self._note(events)
            return refused

        applier.apply_batch = apply_batch  # type: ignore[method-assign]

    def _note(self, events: list[ev.Event | None]) -> None:
        started, ended = self.started, self.ended
        end_type, span_type, other = ev.End, ev.SpanEvent, ev.Other
        for e in events:
            if e is None:
                continue
            if isinstance(e, span_type):
                (ended if isinstance(e, end_type) else started).append(f"{e.trace}-{e.span}")
            elif isinstance(e, other) and e.span and e.trace:
                kind = e.KIND
                if kind.endswith(".end"):
                    ended.append(f"{e.trace}-{e.span}")
                elif kind.endswith(".start"):
                    started.append(f"{e.trace}-{e.span}")

    def take(self) -> tuple[list[str], list[str]]:
        """The spans started and ended since the last call, in file order."""
        started, ended = self.started, self.ended
        self.started, self.ended = [], []
        return started, ended
