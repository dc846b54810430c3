"""A small, fixed folder of events from three services and a test run.

The outputs printed in ``docs/jq.md`` are this folder's; the report and export
tests read it too. Everything is deterministic: ids, timestamps, durations.

- trace ``4bf9…4736``: ``GET /courses/42/`` on web (N+1: the same SELECT five
  times from one call site) calls api ``GET /api/enrollments/`` (one slow
  query), which queues the Celery task ``courses.tasks.recount`` on worker;
- traces ``…0001`` and ``…0002``: ``POST /checkout/`` fails twice with the same
  ``KeyError`` (one fingerprint), with an error log;
- trace ``…0003``: api ``GET /api/grades/`` raises a ``ValueError``, status 500;
- trace ``…0004``: worker starts ``courses.tasks.send_digest`` and is killed: no end;
- api reports 17 events it could not write (``dm.dropped``);
- a pytest run: ``test_detail`` passes, ``test_checkout`` fails, with the
  request it made under it and the exception that failed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

TRACE_PAGE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_CHECKOUT_1 = "0af7651916cd43dd8448eb211c800001"
TRACE_CHECKOUT_2 = "0af7651916cd43dd8448eb211c800002"
TRACE_GRADES = "0af7651916cd43dd8448eb211c800003"
TRACE_KILLED = "0af7651916cd43dd8448eb211c800004"
TRACE_TEST_OK = "5e0c63257de34c92bf9efcd03927a001"
TRACE_TEST_FAIL = "5e0c63257de34c92bf9efcd03927a002"

_SELECT_ENROLL = (
    'SELECT "courses_enrollment"."id" FROM "courses_enrollment" WHERE "student_id" = %s'
)
_COUNT_ENROLL = 'SELECT COUNT(*) FROM "courses_enrollment" WHERE "course_id" = %s'
_SITE_WEB = {"file": "/srv/web/courses/views.py", "line": 31, "func": "detail"}
_FRAMES_KEYERROR = [
    {"file": "/srv/web/shop/views.py", "line": 48, "func": "checkout", "module": "shop.views",
     "in_app": True, "src": 'price = prices["usd"]'},
]  # fmt: skip
_FRAMES_VALUEERROR = [
    {"file": "/srv/api/grades/api.py", "line": 12, "func": "grades", "module": "grades.api",
     "in_app": True, "src": "score = int(row)"},
]  # fmt: skip


class _File:
    """One process's file: the envelope filled in, ``seq`` and time counting up."""

    def __init__(self, svc: str, pid: int, start: str) -> None:
        self.svc, self.pid, self.seq, self.minute = svc, pid, 0, start
        self.second = 0.0
        self.lines: list[dict[str, Any]] = []
        self.add("process.start", argv=[svc], python="3.11.7", cwd=f"/srv/{svc}",
                 dm_version="0.1.0", cap_bytes=268435456, segment=0)  # fmt: skip

    def add(self, kind: str, at: float | None = None, **fields: Any) -> None:
        if at is not None:
            self.second = at
        ts = f"2026-11-23T09:{self.minute}:{self.second:09.6f}Z"
        self.lines.append({"v": 1, "ts": ts, "event": kind, "svc": self.svc, "host": "devbox",
                           "pid": self.pid, "seq": self.seq, **fields})  # fmt: skip
        self.seq += 1
        self.second += 0.001

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.svc}.devbox.{self.pid}.20261123T0915{self.pid % 60:02d}.jsonl"
        path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in self.lines))
        return path


def _web() -> _File:
    f = _File("web", 4121, "15")
    t, s = {"trace": TRACE_PAGE}, "00f067aa0ba902b7"
    f.add(
        "request.start",
        at=2.0,
        **t,
        span=s,
        method="GET",
        path="/courses/42/",
        headers={"Accept": "text/html"},
        scheme="http",
        protocol="http",
        **{"async": False},
    )
    for student in range(5):
        f.add(
            "sql",
            **t,
            span=s,
            sql=_SELECT_ENROLL,
            params=[student],
            ms=1.5,
            alias="default",
            vendor="sqlite",
            many=False,
            site=_SITE_WEB,
        )
    f.add(
        "http.start",
        **t,
        span="b7ad6b7169203331",
        parent=s,
        method="GET",
        url="http://api:8001/api/enrollments/?course=42",
        lib="requests",
    )
    f.add(
        "http.end",
        at=2.09,
        **t,
        span="b7ad6b7169203331",
        parent=s,
        ms=80.0,
        outcome="ok",
        status=200,
        bytes=812,
    )
    f.add("log", **t, span=s, level="warning", msg="enrollment cache miss", logger="courses.views")
    f.add(
        "request.end",
        at=2.18,
        **t,
        span=s,
        ms=180.8,
        outcome="ok",
        status=200,
        route="courses/<int:pk>/",
        view="courses.views.detail",
        queries=5,
        sql_ms=7.5,
    )
    for n, (trace, span) in enumerate(
        [(TRACE_CHECKOUT_1, "1111111111111111"), (TRACE_CHECKOUT_2, "2222222222222222")]
    ):
        f.add(
            "request.start",
            at=10.0 + n,
            trace=trace,
            span=span,
            method="POST",
            path="/checkout/",
            scheme="http",
            protocol="http",
        )
        f.add(
            "sql",
            trace=trace,
            span=span,
            sql='SELECT "shop_price"."usd" FROM "shop_price"',
            ms=0.8,
            alias="default",
            vendor="sqlite",
            many=False,
            site={"file": "/srv/web/shop/views.py", "line": 47, "func": "checkout"},
        )
        f.add(
            "exception",
            trace=trace,
            span=span,
            type="KeyError",
            message="'usd'",
            frames=_FRAMES_KEYERROR,
            fingerprint="8c1f0e2d3b4a5968",
            handled=False,
            mechanism="django",
            cause=None,
        )
        f.add(
            "log",
            trace=trace,
            span=span,
            level="error",
            msg="Internal Server Error: /checkout/",
            logger="django.request",
        )
        f.add(
            "request.end",
            at=10.095 + n,
            trace=trace,
            span=span,
            ms=95.0 - 35 * n,
            outcome="error",
            status=500,
            route="checkout/",
            view="shop.views.checkout",
            queries=1,
            sql_ms=0.8,
        )
    return f  # fmt: skip


def _api() -> _File:
    f = _File("api", 5012, "15")
    t, s = {"trace": TRACE_PAGE}, "e457b5a2e4d86bd1"
    f.add(
        "request.start",
        at=2.01,
        **t,
        span=s,
        parent="b7ad6b7169203331",
        method="GET",
        path="/api/enrollments/",
        query="course=42",
        scheme="http",
        protocol="http",
    )
    f.add(
        "sql",
        **t,
        span=s,
        sql=_COUNT_ENROLL,
        params=[42],
        ms=25.0,
        alias="default",
        vendor="postgresql",
        many=False,
        site={"file": "/srv/api/courses/api.py", "line": 20, "func": "enrollments"},
    )
    f.add(
        "request.end",
        at=2.052,
        **t,
        span=s,
        parent="b7ad6b7169203331",
        ms=41.2,
        outcome="ok",
        status=200,
        route="api/enrollments/",
        view="courses.api.enrollments",
        queries=1,
        sql_ms=25.0,
    )
    g = {"trace": TRACE_GRADES}
    f.add(
        "request.start",
        at=20.0,
        **g,
        span="3333333333333333",
        method="GET",
        path="/api/grades/",
        scheme="http",
        protocol="http",
    )
    f.add(
        "exception",
        **g,
        span="3333333333333333",
        type="ValueError",
        message="invalid literal for int() with base 10: 'A+'",
        frames=_FRAMES_VALUEERROR,
        fingerprint="d1e2f3a4b5c6d7e8",
        handled=False,
        mechanism="django",
        cause=None,
    )
    f.add(
        "request.end",
        at=20.012,
        **g,
        span="3333333333333333",
        ms=12.0,
        outcome="error",
        status=500,
        route="api/grades/",
        view="grades.api.grades",
        queries=0,
        sql_ms=0.0,
    )
    f.add("dm.dropped", at=40.0, count=17, reason="ENOSPC: No space left on device",
          since="2026-11-23T09:15:35.000000Z")  # fmt: skip
    return f  # fmt: skip


def _worker() -> _File:
    f = _File("worker", 6001, "15")
    t = {"trace": TRACE_PAGE, "span": "5fb397be34d26b51", "parent": "e457b5a2e4d86bd1"}
    f.add(
        "task.start",
        at=2.06,
        **t,
        task="courses.tasks.recount",
        task_id="9e1c7e0a-2b1f-4d1b-a1f0-0b3c1d7d2f10",
        args="(42,) {}",
        retries=0,
        queue="celery",
    )
    f.add(
        "sql",
        **t,
        sql='UPDATE "courses_course" SET "seats" = %s WHERE "id" = %s',
        params=[12, 42],
        ms=3.0,
        alias="default",
        vendor="postgresql",
        many=False,
        site={"file": "/srv/api/courses/tasks.py", "line": 9, "func": "recount"},
    )
    f.add(
        "task.end",
        at=2.0725,
        **t,
        ms=12.5,
        outcome="ok",
        task="courses.tasks.recount",
        state="SUCCESS",
        retries=0,
    )
    digest = {"trace": TRACE_KILLED, "span": "6666666666666666"}
    f.add("task.start", at=30.0, **digest, task="courses.tasks.send_digest",
          task_id="0c2d1e3f-0000-4000-8000-000000000004", args="() {}", retries=0,
          queue="celery")  # fmt: skip
    f.add("log", **digest, level="info", msg="sending 1200 digests", logger="courses.tasks")
    # No task.end: the worker was killed mid-task.
    return f  # fmt: skip


def _pytest() -> _File:
    f = _File("pytest", 7001, "16")
    ok, bad = "c1d2e3f4a5b6c7d8", "c1d2e3f4a5b6c7d9"
    f.add(
        "test.start",
        at=0.0,
        trace=TRACE_TEST_OK,
        span=ok,
        nodeid="tests/test_courses.py::test_detail",
    )
    f.add(
        "test.end",
        at=0.035,
        trace=TRACE_TEST_OK,
        span=ok,
        ms=35.1,
        outcome="ok",
        nodeid="tests/test_courses.py::test_detail",
        result="passed",
    )
    t = {"trace": TRACE_TEST_FAIL}
    f.add("test.start", at=1.0, **t, span=bad, nodeid="tests/test_shop.py::test_checkout")
    f.add(
        "request.start",
        **t,
        span="4444444444444444",
        parent=bad,
        method="POST",
        path="/checkout/",
        scheme="http",
        protocol="http",
    )
    for _ in range(3):
        f.add(
            "sql",
            **t,
            span="4444444444444444",
            parent=bad,
            sql='SELECT "shop_price"."usd" FROM "shop_price"',
            ms=0.5,
            alias="default",
            vendor="sqlite",
            many=False,
            site={"file": "/srv/web/shop/views.py", "line": 47, "func": "checkout"},
        )
    f.add(
        "request.end",
        **t,
        span="4444444444444444",
        parent=bad,
        ms=9.0,
        outcome="ok",
        status=200,
        route="checkout/",
        view="shop.views.checkout",
        queries=3,
        sql_ms=1.5,
    )
    f.add(
        "exception",
        **t,
        span=bad,
        type="AssertionError",
        message="assert 'paid' == 'declined'",
        frames=[
            {
                "file": "/srv/web/tests/test_shop.py",
                "line": 30,
                "func": "test_checkout",
                "module": "tests.test_shop",
                "in_app": True,
                "src": "assert status == 'declined'",
            }
        ],
        fingerprint="aa11bb22cc33dd44",
        handled=False,
        mechanism="pytest",
        cause=None,
    )
    f.add(
        "test.end",
        at=1.02,
        **t,
        span=bad,
        ms=20.4,
        outcome="error",
        nodeid="tests/test_shop.py::test_checkout",
        result="failed",
        message="AssertionError: assert 'paid' == 'declined'",
    )
    return f  # fmt: skip


def write_fixture(folder: Path) -> list[Path]:
    """Write the four files into ``folder`` (created if needed); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [f.write(folder) for f in (_web(), _api(), _worker(), _pytest())]
