"""What OTLP sending needs from reading that the model does not keep.

:class:`Tap` wraps a :class:`~dm_explore.ingest.FolderReader`'s applier: after
each batch is applied it notes the spans that started and ended in it, and keeps
the ``cache`` and ``profile`` events of each span (kinds the model does not
read), so they can be sent as span events.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import msgspec

from ..ingest import ALL_TRACES, FolderReader
from ..ingest import events as ev
from ..model import Model
from ..outputs.otlp import EXTRA_KINDS

__all__ = ["Tap", "load_with_extras"]


class Tap:
    """Spans started and ended since :meth:`take` last ran, and each span's extra events."""

    def __init__(self, reader: FolderReader) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        self.extra: dict[str, list[dict[str, Any]]] = {}
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
        started, ended, extra = self.started, self.ended, self.extra
        end_type, span_type, other = ev.End, ev.SpanEvent, ev.Other
        unset = msgspec.UNSET
        for e in events:
            if e is None:
                continue
            if isinstance(e, span_type):
                (ended if isinstance(e, end_type) else started).append(e.span)
            elif isinstance(e, other) and e.span is not unset:
                kind = e.KIND
                if kind in EXTRA_KINDS:
                    extra.setdefault(e.span, []).append(e.data)
                elif kind.endswith(".end"):
                    ended.append(e.span)
                elif kind.endswith(".start"):
                    started.append(e.span)

    def take(self) -> tuple[list[str], list[str]]:
        """The spans started and ended since the last call, in file order."""
        started, ended = self.started, self.ended
        self.started, self.ended = [], []
        return started, ended


def load_with_extras(folder: Path) -> tuple[Model, dict[str, list[dict[str, Any]]]]:
    """The folder read once, as :func:`~dm_explore.ingest.load_folder` does, with each
    span's ``cache`` and ``profile`` events beside the model."""
    reader = FolderReader(folder, Model(max_traces=ALL_TRACES))
    tap = Tap(reader)
    collecting = gc.isenabled()
    gc.disable()
    try:
        reader.read()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    return reader.model, tap.extra
