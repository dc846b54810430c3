"""Refusals: what could not be read or used, where, and why.

Every refusal, whoever makes it (finding a path, tailing a file, decoding a
line, applying an event), is one :class:`Problem`; the model keeps a file's in
:attr:`~dm_explore.model.FileInfo.problems`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from dm_log.contract import HEX_DIGITS

__all__ = ["InvalidEvent", "Problem", "ProblemKind", "check_ids"]

ProblemKind = Literal["path", "file", "line", "event"]


class Problem(NamedTuple):
    """Something refused: a path, a file as a whole, one line, or one event.

    ``line`` is the 1-based line number, 0 for a path or a file as a whole.
    ``kind``: ``path`` (not a regular file, a symlink loop: never read), ``file``
    (cannot be opened or read, truncated, compressed data broken), ``line`` (too
    long, not JSON, an envelope or field of the wrong shape), ``event`` (a
    decoded event the model refused: ids, a shape it could not apply).
    """

    path: str
    line: int
    kind: ProblemKind
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class InvalidEvent(ValueError):
    """An event the model refuses, for the reason given; nothing of it was applied."""


def check_ids(span: str, trace: str | None, parent: str | None) -> None:
    """Raise :class:`InvalidEvent` unless span, trace and parent are lowercase hex.

    Their lengths were checked as the line was decoded.
    """
    if span.rstrip(HEX_DIGITS) or trace is None or trace.rstrip(HEX_DIGITS):
        raise InvalidEvent("envelope: trace/span must be 32/16 lowercase hex")
    if parent is not None and parent.rstrip(HEX_DIGITS):
        raise InvalidEvent("envelope: parent must be 16 lowercase hex")
