"""A process whose signal handlers log while the writer is busy.

    DM_LOG_DIR=... python signal_writer.py first-use
    DM_LOG_DIR=... python signal_writer.py storm SECONDS

``first-use``: a 0.3 ms ``SIGALRM`` timer whose handler writes an event of the kind
being used for the first time (and a ``log``) while the main thread uses every
kind for the first time, so the handler lands inside the first compile of that
kind's validator. Prints ``{"kinds": N, "inside_compile": M, "handler_events": K}``.

``storm``: a 0.5 ms timer whose handler writes a panel, while the main thread
writes as fast as it can for SECONDS against a small cap. Prints the counts.

A watchdog (``faulthandler.dump_traceback_later``) dumps every stack and exits
with status 1 if the process hangs: a deadlock fails fast.
"""

from __future__ import annotations

import faulthandler
import json
import signal
import sys
import time
from typing import Any

faulthandler.dump_traceback_later(60, exit=True)

import dm_log  # noqa: E402

state: dict[str, Any] = {"kind": "x.idle", "inside_compile": 0, "handler_events": 0}


def _inside_compile() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "validator_for":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


SPANS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "request": ({"method": "GET", "path": "/"}, {"status": 200}),
    "http": ({"method": "GET", "url": "http://127.0.0.1/"}, {"status": 200}),
    "task": ({"task": "app.tasks.send"}, {}),
    "command": ({"command": "migrate"}, {"status": "FINISHED"}),
    "test": ({"nodeid": "tests/test_a.py::test_a"}, {"result": "passed"}),
    "span": ({"name": "first-use"}, {"name": "first-use"}),
}


def use(kind: str, detail: str) -> None:
    """One event of ``kind``, written through the public API."""
    if kind in SPANS:
        start, end = SPANS[kind]
        dm_log.start_span(kind, **start, detail=detail).end(**end)
    elif kind == "panel":
        dm_log.panel("Signals", "text", detail)
    elif kind == "metric":
        dm_log.metric("signals.n", 1, detail=detail)
    elif kind == "progress":
        with dm_log.span("progress"):
            dm_log.progress(1, 2, detail)
    elif kind == "exception":
        try:
            raise RuntimeError(detail)
        except RuntimeError as exc:
            dm_log.capture_exception(exc)
    elif kind == "log":
        dm_log.record("log", level="info", msg=detail, logger="signals")
    elif kind == "sql":
        dm_log.record("sql", sql="SELECT %s", params=[detail], ms=0.1)
    elif kind == "runtime":
        dm_log.record("runtime", rss=1, cpu=0.1, threads=1, gc=[0, 0, 0], fds=3)
    else:
        dm_log.record(kind, detail=detail)


KINDS = [
    "request", "http", "task", "command", "test", "span", "panel", "metric", "progress",
    "exception", "log", "sql", "runtime", "x.signals",
]  # fmt: skip


def first_use() -> None:
    def handler(signum: int, frame: Any) -> None:
        if _inside_compile():
            state["inside_compile"] += 1
        use(state["kind"], "from the handler")
        dm_log.record("log", level="warning", msg="shutting down", logger="signals")
        state["handler_events"] += 2

    signal.signal(signal.SIGALRM, handler)
    signal.signal(signal.SIGTERM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
    for kind in KINDS:
        state["kind"] = kind
        use(kind, "from the main thread")
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    print(json.dumps({"kinds": len(KINDS), **{k: state[k] for k in state if k != "kind"}}))


def storm(seconds: float) -> None:
    def handler(signum: int, frame: Any) -> None:
        dm_log.panel("Storm", "text", "tick " + "x" * 200)
        state["handler_events"] += 1

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
    written = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with dm_log.span("storm"):
            dm_log.record("x.storm", i=written, pad="y" * 300)
        written += 1
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    print(json.dumps({"main_events": written, "handler_events": state["handler_events"]}))


if __name__ == "__main__":
    if sys.argv[1] == "first-use":
        first_use()
    else:
        storm(float(sys.argv[2]))
