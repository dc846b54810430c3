"""pytest plugin: a ``test`` span per test, with everything the test records under it.

Loaded automatically through the ``pytest11`` entry point and inert unless
``--dm-log-dir DIR`` is given or ``DM_LOG_DIR`` is set. Under pytest-xdist each
worker is its own process and so writes its own file.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

import dm_log

_SPAN_KEY = pytest.StashKey[Any]()
_RESULT_KEY = pytest.StashKey[dict[str, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("debug-monitor")
    group.addoption(
        "--dm-log-dir",
        default=None,
        help="record a debug-monitor trace of the test run into this folder (or set DM_LOG_DIR)",
    )


def pytest_configure(config: pytest.Config) -> None:
    folder = config.getoption("--dm-log-dir", default=None)
    if folder:
        service = os.environ.get("DM_SERVICE") or "pytest"
        dm_log.configure(log_dir=folder, service=service)
    config.stash[_RESULT_KEY] = {}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    if not dm_log.enabled():
        yield
        return
    span = dm_log.start_span("test", nodeid=item.nodeid)
    item.stash[_SPAN_KEY] = {"result": "passed", "message": ""}
    try:
        yield
    finally:
        state = item.stash[_SPAN_KEY]
        result = state["result"]
        fields: dict[str, Any] = {"nodeid": item.nodeid, "result": result}
        if state["message"]:
            fields["message"] = state["message"]
        span.end(outcome="error" if result in ("failed", "error") else "ok", **fields)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    state = item.stash.get(_SPAN_KEY, None)
    if state is None:
        return
    report: pytest.TestReport = outcome.get_result()
    if hasattr(report, "wasxfail"):
        state["result"] = "xfailed" if report.skipped else "xpassed"
    elif report.failed:
        state["result"] = "failed" if report.when == "call" else "error"
        state["message"] = str(report.longrepr)[-2000:] if report.longrepr else ""
        if call.excinfo is not None and call.when == "call":
            dm_log.capture_exception(call.excinfo.value, handled=False, mechanism="pytest")
    elif report.skipped and state["result"] == "passed":
        state["result"] = "skipped"
