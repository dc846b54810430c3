"""The current span, carried in a context variable, W3C ``traceparent`` headers, and ids.

Trace and span ids come from a generator private to this module, seeded from
``os.urandom`` at import and again in every forked child: seeding the global
``random`` module (a test fixture's ``random.seed(1234)``) cannot make two
processes or two runs draw the same ids, and a forked child never repeats its
parent's sequence.
"""

from __future__ import annotations

import os
import random
import re
from contextvars import ContextVar

__all__ = [
    "SpanContext",
    "current_span",
    "format_traceparent",
    "new_span_id",
    "new_trace_id",
    "parse_traceparent",
]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$")


class SpanContext:
    """Where an event belongs: its trace, its span, and the secrets seen in that span.

    ``secrets`` holds values redacted from this span's own input (an Authorization
    token, a cookie, a password field) so that the same value is scrubbed anywhere
    else it turns up: a log message, an SQL parameter. Child spans share the set.

    ``rendered`` is for the writer: the ids as JSON, with the values they were made from.
    """

    __slots__ = ("parent", "rendered", "secrets", "span", "trace")

    def __init__(self, trace: str, span: str, parent: str | None, secrets: set[str] | None) -> None:
        self.trace = trace
        self.span = span
        self.parent = parent
        self.secrets = secrets
        self.rendered: tuple[str, str, str | None, bytes] | None = None


current_span: ContextVar[SpanContext | None] = ContextVar("dm_log_span", default=None)


_ids = random.Random(os.urandom(32))
_bits = _ids.getrandbits  # one C call per id: atomic under the GIL, no lock to re-enter


def _reseed() -> None:
    _ids.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def new_trace_id() -> str:
    """32 lowercase hex digits, never all zero, from the private generator."""
    return f"{_bits(128) | 1:032x}"


def new_span_id() -> str:
    """16 lowercase hex digits, never all zero, from the private generator."""
    return f"{_bits(64) | 1:016x}"


def parse_traceparent(value: object) -> tuple[str, str] | None:
    """``(trace_id, parent_span_id)`` from a W3C header value, or None if it is not one."""
    if not isinstance(value, str | bytes):
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    m = _TRACEPARENT.match(value.strip().lower())
    if m is None or m.group(1) == "ff":
        return None
    trace, span = m.group(2), m.group(3)
    if trace == "0" * 32 or span == "0" * 16:
        return None
    return trace, span


def format_traceparent(trace: str, span: str) -> str:
    return f"00-{trace}-{span}-01"
