"""A recorded test run: one row per test span, as the Tests view lists them.

A test's *result* is what the pytest plugin wrote on its ``test.end``
(``passed``, ``failed``, ``error``, ``skipped``, ``xfailed``, ``xpassed``);
before its end it is ``running``, or ``killed`` once its process is known to be
gone. A *failure* is ``failed``, ``error`` or ``killed``.

Its statements and requests are counted over everything under it, in every
process it reached (:func:`~dm_explore.model.records.subtree` across
processes), as ``dm-explore report`` counts them: the statements of a request
made through Django's test client are the test's too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Model
from .records import Span, subtree

__all__ = ["FAILURES", "Suite", "SuiteRow", "suite_counts", "suite_result", "suite_rows"]

FAILURES = frozenset({"failed", "error", "killed"})


@dataclass(slots=True, frozen=True)
class SuiteRow:
    """One test as listed: what it is, how it ended, what ran under it."""

    ref: str  # the span's ``<trace>-<span>``
    trace: str
    nodeid: str
    result: str
    ms: float | None  # None until it ended
    sql: int  # statements under it, in every process
    requests: int  # request spans under it
    worker: str | None  # the pytest-xdist worker (``gw0``), if any
    host: str
    start_ts: float | None
    message: str  # a failure's reason (the ``test.end`` message), else ""
    failed: bool


@dataclass(slots=True, frozen=True)
class Suite:
    """The rows listed, and what every test held by the model ended as."""

    rows: list[SuiteRow]
    total: int  # tests held, listed or not
    results: dict[str, int]  # result -> how many tests


def suite_result(span: Span) -> str:
    """The test's result: its ``result`` field once ended, else ``running`` or ``killed``."""
    if span.end_ts is not None:
        if span.result:
            return span.result
        return "failed" if span.end_outcome == "error" else "passed"
    return "killed" if span.killed else "running"


def suite_counts(span: Span) -> tuple[int, int]:
    """``(statements, requests)`` under the test, in every process it reached."""
    sql = requests = 0
    for below in subtree(span, same_process=False):
        sql += len(below.sql)
        if below.kind == "request":
            requests += 1
    return sql, requests


def _row(span: Span) -> SuiteRow:
    result = suite_result(span)
    sql, requests = suite_counts(span)
    start = span.start
    failed = result in FAILURES
    message = (span.end or {}).get("message") if failed else None  # decoded for failures only
    worker = start.get("worker")
    return SuiteRow(
        ref=span.ref,
        trace=span.trace,
        nodeid=span.target or str(start.get("nodeid") or "?"),
        result=result,
        ms=span.ms if span.end_ts is not None else None,
        sql=sql,
        requests=requests,
        worker=worker if isinstance(worker, str) else None,
        host=span.process[1],
        start_ts=span.start_ts if span.start_ts is not None else span.end_ts,
        message=message if isinstance(message, str) else "",
        failed=failed,
    )


def suite_rows(model: Model, limit: int | None = None) -> Suite:
    """The tests of ``model``, failures first, then newest first (start time, then arrival).

    With ``limit``, only the first ``limit`` rows in that order are built (every
    failure first, then the newest); :attr:`Suite.total` and :attr:`Suite.results`
    count every test.
    """
    results: dict[str, int] = {}
    failed: list[Span] = []
    others: list[Span] = []
    for span in model.tests.values():
        result = suite_result(span)
        results[result] = results.get(result, 0) + 1
        (failed if result in FAILURES else others).append(span)

    def newest(span: Span) -> tuple[float, int]:
        return (span.start_ts or span.end_ts or 0.0, span.seq)

    failed.sort(key=newest, reverse=True)
    others.sort(key=newest, reverse=True)
    ordered = failed + others
    if limit is not None:
        ordered = ordered[:limit]
    return Suite([_row(span) for span in ordered], len(failed) + len(others), results)
