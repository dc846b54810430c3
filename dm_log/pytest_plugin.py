"""pytest plugin: a ``test`` span per test, with everything the test records under it.

Loaded automatically through the ``pytest11`` entry point and inert unless
``--dm-log-dir DIR`` is given or ``DM_LOG_DIR`` is set.

Each test is the root of its own trace: ``test.start`` (``nodeid``, and under
pytest-xdist the ``worker`` id) when its setup begins, ``test.end`` (``ms``
covering setup, call and teardown, ``result`` and, for a failure, ``message``)
after its teardown. The span is the current span while fixtures and the test
body run, so requests made through Django's test client (sync or async), SQL,
log records and exceptions recorded meanwhile hang under it, provided the
project's settings install the Django integration (``"dm_log.django"`` in
``INSTALLED_APPS`` for SQL, templates, cache and logs, its middleware for
requests); when they do not, the run's summary says what went unrecorded and
which setting adds it. The exception that failed a test is recorded too, with
``mechanism`` ``pytest``.

Fixtures shared between tests (scope ``class``, ``module``, ``package`` or
``session``) are set up in whichever test needs them first and torn down in
whichever comes last, so their work is recorded apart from both: the setup as
the root of its own trace, a ``span`` named ``fixture <name>`` with ``fields``
``fixture``, ``scope``, ``phase`` ``setup``, ``node`` (the class, module or
package the value is for; none for the session) and ``worker``, ending with
outcome ``error`` and the error when the setup raised (a skip is no error);
the teardown, for a fixture that has one, as ``fixture <name> teardown`` with
``phase`` ``teardown``. pytest-django's ``django_db_setup`` (creating the test
database and migrating it) is one. Every shared fixture is a trace of its own,
even one that another one's setup asks for while it runs (pytest-django's
``_django_setup_unittest`` asks for the database that way), so its statements
and findings are under its own name. The test that happened to trigger them
holds none of their SQL or logs.

The service name is ``pytest`` unless ``DM_SERVICE`` says otherwise. Under
pytest-xdist each worker is its own process and so writes its own file; the
controller runs no test and writes nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

import dm_log

__all__ = ["pytest_addoption", "pytest_configure"]

_MAX_MESSAGE = 2000
_APP = "dm_log.django"
_MIDDLEWARE = "dm_log.django.DebugMonitorMiddleware"


@dataclass(slots=True)
class _TestState:
    """What the reports of one test said so far."""

    result: str = "passed"
    message: str = ""


@dataclass(slots=True, eq=False)
class _FixtureSpan:
    """An open span of a shared fixture's setup or teardown, and what that code raised."""

    span: dm_log.Span
    name: str
    errors: list[BaseException] = field(default_factory=list)


@dataclass(slots=True)
class _FixtureSpans:
    """The spans of shared fixtures' teardowns begun, by the ``id`` of the fixture definition."""

    teardowns: dict[int, _FixtureSpan] = field(default_factory=dict)


_STATE_KEY = pytest.StashKey[_TestState]()
_COUNT_KEY = pytest.StashKey[list[int]]()
_FIXTURES_KEY = pytest.StashKey[_FixtureSpans]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("debug-monitor")
    group.addoption(
        "--dm-log-dir",
        default=None,
        metavar="DIR",
        help="record a debug-monitor trace of the test run into DIR (or set DM_LOG_DIR)",
    )


def _worker_id(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput.get("workerid")) if isinstance(workerinput, dict) else None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_COUNT_KEY] = [0]
    config.stash[_FIXTURES_KEY] = _FixtureSpans()
    folder = config.getoption("--dm-log-dir", default=None)
    service = os.environ.get("DM_SERVICE") or "pytest"
    if folder:
        dm_log.configure(log_dir=folder, service=service)
    elif dm_log.enabled() and not os.environ.get("DM_SERVICE"):
        # xdist workers run as ``python -c``: name them after the run, not the interpreter.
        dm_log.configure(service=service)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    if not dm_log.enabled():
        yield
        return
    fields: dict[str, Any] = {"nodeid": item.nodeid}
    worker = _worker_id(item.config)
    if worker is not None:
        fields["worker"] = worker
    span = dm_log.start_span("test", **fields)
    state = item.stash[_STATE_KEY] = _TestState()
    try:
        yield
    finally:
        end: dict[str, Any] = {"nodeid": item.nodeid, "result": state.result}
        if state.message:
            end["message"] = state.message
        span.end(outcome="error" if state.result in ("failed", "error") else "ok", **end)
        item.config.stash[_COUNT_KEY][0] += 1


def _fixture_span(
    fixturedef: pytest.FixtureDef[Any], config: pytest.Config, node: str, phase: str
) -> _FixtureSpan:
    """Open the span of a shared fixture's setup or teardown, the root of a new trace;
    ``node`` is the id of the class, module or package the fixture's value is for."""
    fields: dict[str, Any] = {
        "fixture": fixturedef.argname,
        "scope": fixturedef.scope,
        "phase": phase,
    }
    if node:
        fields["node"] = node
    worker = _worker_id(config)
    if worker is not None:
        fields["worker"] = worker
    name = f"fixture {fixturedef.argname}{' teardown' if phase == 'teardown' else ''}"[:200]
    return _FixtureSpan(dm_log.start_span("span", root=True, name=name, fields=fields), name)


def _end_fixture_span(opened: _FixtureSpan) -> None:
    """End the span with the first error, if any: outcome ``error``, unless it is a skip."""
    error = opened.errors[0] if opened.errors else None
    if error is None or isinstance(error, pytest.skip.Exception):
        opened.span.end(name=opened.name, outcome="ok")
    else:
        opened.span.end(name=opened.name, error=error)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """Run the setup of a fixture shared between tests in its own span; mark its teardown."""
    spans = request.config.stash.get(_FIXTURES_KEY, None)
    if spans is None or fixturedef.scope == "function" or not dm_log.enabled():
        return (yield)
    node = str(getattr(request.node, "nodeid", ""))
    opened = _fixture_span(fixturedef, request.config, node, "setup")
    try:
        result = yield
    except BaseException as exc:
        opened.errors.append(exc)
        raise
    finally:
        _end_fixture_span(opened)
    _watch_teardown(fixturedef, request.config, spans, node)
    return result


def _watch_teardown(
    fixturedef: pytest.FixtureDef[Any], config: pytest.Config, spans: _FixtureSpans, node: str
) -> None:
    """Have the fixture's teardown, if it has one, run in a span of its own.

    pytest runs a fixture's finalizers last added first, then calls
    ``pytest_fixture_post_finalizer``: a finalizer added once the setup is done
    runs just before the fixture's own teardown, and opens the span that hook
    ends. It wraps the teardown's finalizers to see what they raise, where this
    pytest keeps them as a list (otherwise the span ends ``ok`` whatever they raise).
    """
    own = getattr(fixturedef, "_finalizers", None)
    if isinstance(own, list) and not own:
        return  # a fixture without teardown: nothing to time

    def begin_teardown() -> None:
        if not dm_log.enabled() or id(fixturedef) in spans.teardowns:
            return
        opened = _fixture_span(fixturedef, config, node, "teardown")
        spans.teardowns[id(fixturedef)] = opened
        if isinstance(own, list):
            own[:] = [_noting_errors(fin, opened.errors) for fin in own]

    fixturedef.addfinalizer(begin_teardown)


def _noting_errors(fin: Callable[[], object], errors: list[BaseException]) -> Callable[[], object]:
    def run() -> object:
        try:
            return fin()
        except BaseException as exc:
            errors.append(exc)
            raise

    return run


def pytest_fixture_post_finalizer(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> None:
    """End the span of a shared fixture's teardown, which has just run."""
    spans = request.config.stash.get(_FIXTURES_KEY, None)
    opened = spans.teardowns.pop(id(fixturedef), None) if spans is not None else None
    if opened is not None:
        _end_fixture_span(opened)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    state = item.stash.get(_STATE_KEY, None)
    if state is None:
        return
    report: pytest.TestReport = outcome.get_result()
    if hasattr(report, "wasxfail"):
        state.result = "xfailed" if report.skipped else "xpassed"
    elif report.failed:
        # A failing teardown after a failing call keeps "failed": the call is the news.
        if state.result != "failed":
            state.result = "failed" if report.when == "call" else "error"
        if not state.message:
            state.message = _message(report)
        if call.excinfo is not None:
            dm_log.capture_exception(call.excinfo.value, handled=False, mechanism="pytest")
    elif report.skipped and state.result == "passed":
        state.result = "skipped"
        state.message = _message(report)


def _message(report: pytest.TestReport) -> str:
    """The short form of a report's failure or skip reason, ending with the error line."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (file, line, reason)
        return str(longrepr[2])[:_MAX_MESSAGE]
    crash = getattr(getattr(longrepr, "reprcrash", None), "message", None)
    text = str(crash) if crash else str(longrepr)
    return text[-_MAX_MESSAGE:]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line naming the folder, so the run's output says where its trace went."""
    if not dm_log.enabled():
        return
    folder = config.getoption("--dm-log-dir", default=None) or os.environ.get("DM_LOG_DIR")
    if not folder:
        return
    count = config.stash.get(_COUNT_KEY, [0])[0]
    what = f"{count} test{'' if count == 1 else 's'}" if count else "the tests"
    terminalreporter.write_line(
        f"debug-monitor: recorded {what} into {folder} (open it with: dm-explore {folder})"
    )
    for line in _django_unrecorded():
        terminalreporter.write_line(f"debug-monitor: {line}", yellow=True)


def _django_unrecorded() -> list[str]:
    """What a configured Django project left unrecorded, each with the setting that records it.

    Empty when Django was not used, is not configured, or installs the integration.
    """
    if "django.apps" not in sys.modules:
        return []
    try:
        from django.apps import apps
        from django.conf import settings

        if not settings.configured or not apps.ready:
            return []
        lines = []
        if not apps.is_installed(_APP):
            lines.append(
                f"no SQL, templates, cache calls or logs were recorded: add {_APP!r} "
                "to INSTALLED_APPS"
            )
        if not _has_middleware(list(getattr(settings, "MIDDLEWARE", None) or [])):
            lines.append(
                "no requests made through Django's test client were recorded: "
                f"add {_MIDDLEWARE!r} to MIDDLEWARE"
            )
        return lines
    except Exception:  # a summary line is never worth failing the run's output
        return []


def _has_middleware(paths: list[str]) -> bool:
    """Whether MIDDLEWARE names the debug-monitor middleware or a subclass of it."""
    if _MIDDLEWARE in paths:
        return True
    from django.utils.module_loading import import_string

    from dm_log.django.middleware import DebugMonitorMiddleware

    for path in paths:
        try:
            found = import_string(path)
        except Exception:
            continue
        if isinstance(found, type) and issubclass(found, DebugMonitorMiddleware):
            return True
    return False
