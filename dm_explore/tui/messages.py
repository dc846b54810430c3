"""What screens ask of the app: messages, so a screen needs no handle on the app itself."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from textual.message import Message

__all__ = ["ModelLock", "OpenSpan", "OpenTrace"]

ModelLock = Callable[[], AbstractContextManager[None]]
"""Held while a screen reads the model (the reading thread stands aside meanwhile)."""


class OpenSpan(Message):
    """Show one span's detail: ``span_id`` is its ref (``<trace>-<span>``) or its id."""

    def __init__(self, span_id: str) -> None:
        super().__init__()
        self.span_id = span_id


class OpenTrace(Message):
    """Show a trace as a tree, the cursor on ``span_id`` if given."""

    def __init__(self, trace_id: str, span_id: str | None = None) -> None:
        super().__init__()
        self.trace_id = trace_id
        self.span_id = span_id
