"""The pytest plugin, driven the way users drive it: pytest in a subprocess on a sample project."""

from __future__ import annotations

import json
import subprocess
import sys
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


# The sample's fixture_tests/ share fixtures wider than a test (see its conftest.py).
SHARED = "fixture_tests/test_shared.py::"


def _sql_by_trace(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        if e["event"] == "sql":
            out.setdefault(e["trace"], []).append(e["sql"])
    return out


def _fixture_spans(events: list[dict[str, Any]]) -> dict[str, tuple[dict, dict]]:
    """``fixture …`` span name -> (its start, its end); each name once in these runs."""
    starts = {e["span"]: e for e in events if e["event"] == "span.start"}
    return {
        e["name"]: (starts[e["span"]], e)
        for e in events
        if e["event"] == "span.end" and e["name"].startswith("fixture ")
    }


def test_shared_fixtures_are_recorded_in_traces_of_their_own_not_in_the_first_test(
    tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    folder = tmp_path / "run"
    result = run_sample("fixture_tests", "-k", "first or second", "--dm-log-dir", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    events = assert_all_valid(folder, event_validator)
    tests = _tests(events)
    assert set(tests) == {SHARED + "test_first", SHARED + "test_second"}
    fixtures = _fixture_spans(events)
    sql = _sql_by_trace(events)

    # pytest-django's database setup, the session fixture catalogue's N+1 and the module
    # fixture stock_audit's teardown: each the root of its own trace, holding its SQL.
    setup_start, setup_end = fixtures["fixture django_db_setup"]
    assert "parent" not in setup_start and setup_end["outcome"] == "ok"
    assert setup_start["fields"] == {
        "fixture": "django_db_setup", "scope": "session", "phase": "setup"
    }  # fmt: skip
    assert any(s.startswith('CREATE TABLE "shop_item"') for s in sql[setup_start["trace"]])
    catalogue, _ = fixtures["fixture catalogue"]
    assert "parent" not in catalogue  # asked for the database while it ran: two traces
    assert catalogue["trace"] != setup_start["trace"]
    assert setup_start["ts"] > catalogue["ts"]
    assert [s.split(" WHERE ")[0] for s in sql[catalogue["trace"]]] == [
        'SELECT "shop_category"."id", "shop_category"."name" FROM "shop_category"'
    ] * 5
    audit, audit_end = fixtures["fixture stock_audit teardown"]
    assert audit["fields"] == {"fixture": "stock_audit", "scope": "module", "phase": "teardown",
                               "node": "fixture_tests/test_shared.py"}  # fmt: skip
    assert "parent" not in audit and audit_end["outcome"] == "ok"
    assert [s.split(" FROM ")[0] for s in sql[audit["trace"]]] == ['SELECT COUNT(*) AS "__count"']
    assert "fixture catalogue teardown" not in fixtures  # nothing to tear down: no span

    # The tests hold their own statements only: the first as few as the second.
    fixture_traces = {start["trace"] for start, _ in fixtures.values()}
    assert not fixture_traces & {t["trace"] for t in tests.values()}
    first = sql.get(tests[SHARED + "test_first"]["trace"], [])
    second = sql.get(tests[SHARED + "test_second"]["trace"], [])
    assert first == second  # the db fixture's transaction and its closing constraint check
    assert not any("shop_" in s or "sqlite_master" in s for s in first)

    # The report counts two tests, passes --fail-on-error, and gives the fixtures their findings.
    report = _report(folder, "--fail-on-error")
    assert report["failed"] is False and report["summary"]["tests"] == 2
    assert all(t["queries"] == len(first) for t in report["tests"])
    by_where = {(f["kind"], f["where"]): f for f in report["findings"]}
    n_plus_one = by_where[("n_plus_one", "fixture catalogue")]
    assert n_plus_one["max_per_unit"] == 5 and n_plus_one["example_trace"] == catalogue["trace"]
    assert not any(f["where"].startswith(SHARED) for f in report["findings"])

    # Under xdist each worker sets the database up for its own first test: the same
    # tests, compared with the serial run, run the same queries.
    parallel = tmp_path / "parallel"
    run_sample("fixture_tests", "-k", "first or second", "-n", "2", "--dm-log-dir", str(parallel))
    diff = _cli_json("diff", str(folder), str(parallel), "--max-query-increase", "0",
                     "--fail-on-new-findings")  # fmt: skip
    assert diff["failed"] is False, diff["crossed"]
    figures = ("queries_per_request", "queries_max", "n_plus_one", "duplicates")
    for test in diff["tests"]:  # times are the machine's: compared in tests/explore
        assert [test["base"][f] for f in figures] == [test["head"][f] for f in figures], test
    assert len(diff["tests"]) == 2 and diff["new_findings"] == []
    setups = [
        e["fields"]
        for e in assert_all_valid(parallel, event_validator)
        if e["event"] == "span.start" and e["name"] == "fixture django_db_setup"
    ]
    assert sorted(f["worker"] for f in setups) == ["gw0", "gw1"]


def test_a_shared_fixture_that_fails_ends_its_span_with_the_error(
    tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    folder = tmp_path / "run"
    result = run_sample("fixture_tests", "-k", "payments or cache", "--dm-log-dir", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    events = assert_all_valid(folder, event_validator)
    assert {n: e["result"] for n, e in _tests(events).items()} == {
        SHARED + "test_needs_payments": "error", SHARED + "test_leaves_a_cache": "error"
    }  # fmt: skip
    fixtures = _fixture_spans(events)
    _, setup = fixtures["fixture payment_service"]
    assert setup["outcome"] == "error"
    assert setup["error"] == "ConnectionError: payment service down"
    _, opened = fixtures["fixture leaky_cache"]
    assert opened["outcome"] == "ok" and "error" not in opened
    _, teardown = fixtures["fixture leaky_cache teardown"]
    assert teardown["outcome"] == "error"
    assert teardown["error"] == "RuntimeError: cache would not close"
    # The exception is the erroring test's, as for a fixture of its own.
    failed = _tests(events)[SHARED + "test_needs_payments"]
    assert [e["message"] for e in _under(events, failed["span"], "exception")] == [
        "payment service down"
    ]
    assert _report(folder, "--fail-on-error")["failed"] is True


def _cli_json(*args: str) -> dict[str, Any]:
    """``dm-explore ARGS --format json`` in a subprocess, as CI runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args, "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _report(folder: Path, *args: str) -> dict[str, Any]:
    return _cli_json("report", str(folder), *args)
