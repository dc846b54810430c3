"""The pytest plugin, driven the way users drive it: pytest in a subprocess on a sample project."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.ci_docs.sample import RESULTS, run_sample
from tests.conftest import assert_all_valid

pytestmark = pytest.mark.django


def _tests(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """nodeid -> its ``test.end`` event."""
    return {e["nodeid"]: e for e in events if e["event"] == "test.end"}


def _under(events: list[dict[str, Any]], span: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("span") == span and e["event"] == kind]


def test_one_span_per_test_with_requests_sql_and_errors_under_it(
    tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    folder = tmp_path / "run"
    result = run_sample("--dm-log-dir", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr  # one test fails on purpose
    assert f"debug-monitor: recorded 6 tests into {folder}" in result.stdout
    assert "were recorded: add" not in result.stdout  # the sample installs the integration
    events = assert_all_valid(folder, event_validator)
    assert {e["svc"] for e in events} == {"pytest"}
    ends = _tests(events)
    assert {nodeid: e["result"] for nodeid, e in ends.items()} == RESULTS
    assert ends["tests/test_shop.py::test_items_total_is_wrong"]["outcome"] == "error"
    assert "assert 3 == 4" in ends["tests/test_shop.py::test_items_total_is_wrong"]["message"]
    assert "fixture could not start" in ends["tests/test_shop.py::test_setup_error"]["message"]
    assert ends["tests/test_shop.py::test_skipped"]["message"].endswith("not today")

    # Requests made through Django's test client, sync and async, are children of the test.
    for nodeid, path in [
        ("tests/test_shop.py::test_items_page", "/items/"),
        ("tests/test_shop.py::test_async_client", "/items/"),
        ("tests/test_shop.py::test_boom_is_a_500", "/boom/"),
    ]:
        test = ends[nodeid]
        requests = [
            e for e in events if e["event"] == "request.start" and e.get("parent") == test["span"]
        ]
        assert [r["path"] for r in requests] == [path], nodeid
        assert requests[0]["trace"] == test["trace"]
        request_span = requests[0]["span"]
        if path == "/items/":  # 1 query for the items + 1 per item: the N+1 lands in the request
            selects = [s["sql"] for s in _under(events, request_span, "sql")]
            assert len(selects) == 4 and all(s.startswith("SELECT") for s in selects)
            assert [g["msg"] for g in _under(events, request_span, "log")] == ["listed 3 items"]
        else:
            errors = _under(events, request_span, "exception")
            assert errors and errors[0]["type"] == "KeyError" and errors[0]["mechanism"] == "django"

    # The failure itself is recorded in the failing test's span, as is a setup error.
    failing = ends["tests/test_shop.py::test_items_total_is_wrong"]
    (failure,) = _under(events, failing["span"], "exception")
    assert failure["type"] == "AssertionError" and failure["mechanism"] == "pytest"
    assert failure["frames"][-1]["func"] == "test_items_total_is_wrong"
    setup = ends["tests/test_shop.py::test_setup_error"]
    assert [e["message"] for e in _under(events, setup["span"], "exception")] == [
        "fixture could not start"
    ]
    # Every test is its own trace.
    assert len({e["trace"] for e in ends.values()}) == len(RESULTS)


def test_xdist_writes_one_file_per_worker(
    tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    folder = tmp_path / "run"
    result = run_sample("-n", "2", env={"DM_LOG_DIR": str(folder)})
    assert result.returncode == 1, result.stdout + result.stderr
    files = sorted(folder.glob("*.jsonl"))
    assert len(files) == 2, files  # the two workers; the controller runs no test
    events = assert_all_valid(folder, event_validator)
    assert {nodeid: e["result"] for nodeid, e in _tests(events).items()} == RESULTS
    workers = Counter((e["pid"], e["worker"]) for e in events if e["event"] == "test.start")
    assert {w for _, w in workers} == {"gw0", "gw1"}
    assert len({pid for pid, _ in workers}) == 2
    assert all(e["svc"] == "pytest" for e in events)
    for path in files:  # each worker's file stands alone: its own process.start first
        assert path.read_text().startswith('{"v":1,') and '"process.start"' in path.read_text()


def test_inert_without_a_folder(tmp_path: Path) -> None:
    result = run_sample("-k", "items_page", env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "debug-monitor" not in result.stdout
    assert not list(tmp_path.rglob("*.jsonl"))


def test_a_project_without_the_integration_is_told_what_went_unrecorded(
    tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    folder = tmp_path / "run"
    result = run_sample("--ds", "shop.settings_plain", "--dm-log-dir", str(folder))
    assert f"debug-monitor: recorded 6 tests into {folder}" in result.stdout
    assert (
        "debug-monitor: no SQL, templates, cache calls or logs were recorded: "
        "add 'dm_log.django' to INSTALLED_APPS" in result.stdout
    ), result.stdout
    assert (
        "debug-monitor: no requests made through Django's test client were recorded: "
        "add 'dm_log.django.DebugMonitorMiddleware' to MIDDLEWARE" in result.stdout
    ), result.stdout
    events = assert_all_valid(folder, event_validator)
    kinds = {e["event"] for e in events}
    assert "test.end" in kinds and not kinds & {"sql", "request.start", "log"}


def test_a_subclass_of_the_middleware_counts_as_the_middleware(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    result = run_sample(
        "--ds", "shop.settings_subclass", "-k", "items_page", "--dm-log-dir", str(folder)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "debug-monitor: recorded 1 test into" in result.stdout
    assert "were recorded: add" not in result.stdout
