"""The spans of pytest fixtures shared between tests, and the time they took inside a test.

The pytest plugin records the setup and the teardown of a fixture wider than a
test (``class``, ``module``, ``package``, ``session`` scope) as the root of a
trace of its own: a ``span`` whose ``fields`` name the ``fixture``. It runs in
whichever test needed it first (or came last, for a teardown), in that test's
process and while that test's span is open, and that test's duration includes
it. :func:`shared_fixture_ms` gives that time per test, so that a test's own
time can be compared between runs that ordered the tests differently. A shared
fixture that another one's setup asked for runs inside that one's time, and is
counted once.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable

from .records import ProcessKey, Span, SpanKey

__all__ = ["is_shared_fixture", "shared_fixture_ms"]


def is_shared_fixture(span: Span) -> bool:
    """Whether ``span`` is the setup or teardown of a shared fixture, as the plugin writes it."""
    if span.kind != "span" or span.parent is not None or span.start_raw is None:
        return False
    fields = span.start.get("fields")
    return isinstance(fields, dict) and isinstance(fields.get("fixture"), str)


def shared_fixture_ms(spans: Iterable[Span], tests: Iterable[Span]) -> dict[SpanKey, float]:
    """Per test of ``tests``: milliseconds of the shared fixtures among ``spans`` that ran
    inside it (same process, between its start and its end; one inside another counted
    once). Tests without any are left out."""
    by_process: dict[ProcessKey, list[tuple[float, float, float]]] = defaultdict(list)
    for span in spans:
        if span.start_ts is None or span.end_ts is None or not is_shared_fixture(span):
            continue
        by_process[span.process].append((span.start_ts, span.end_ts, span.ms or 0.0))
    for runs in by_process.values():
        runs.sort()
    out: dict[SpanKey, float] = {}
    for test in tests:
        inside = by_process.get(test.process)
        if not inside or test.start_ts is None or test.end_ts is None:
            continue
        total, counted_until = 0.0, test.start_ts
        for start, end, ms in inside[bisect_left(inside, (test.start_ts,)) :]:
            if start > test.end_ts:
                break
            if end <= test.end_ts and end > counted_until:  # not one that ran inside another
                total += ms
                counted_until = end
        if total:
            out[test.key] = total
    return out
