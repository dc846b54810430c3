"""The report: on the fixed fixture folder, and on a real recording of the sample project."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dm_explore.report import build_report
from dm_explore.report_render import render_markdown, render_text
from tests.ci_docs import fixture
from tests.ci_docs.sample import run_sample
from tests.ci_docs.spans import spans_of


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    fixture.write_fixture(tmp_path / "logs")
    return tmp_path / "logs"


def test_counts_repeats_n_plus_one_and_errors(folder: Path) -> None:
    report = build_report(spans_of(folder))
    assert report["failed"] is False  # no threshold given: never fails
    assert report["summary"] == {"tests": 2, "failed_tests": 1, "requests": 6, "tasks": 2,
                                 "queries": 12, "exceptions": 4, "unfinished_spans": 1}  # fmt: skip
    page = next(r for r in report["requests"] if r["name"] == "GET /courses/42/")
    assert (page["queries"], page["max_repeats"], page["sql_ms"]) == (5, 5, 7.5)
    (suspect,) = report["n_plus_one"]
    assert suspect["count"] == 5 and suspect["site"] == "/srv/web/courses/views.py:31"
    assert suspect["request"] == "GET /courses/42/" and suspect["svc"] == "web"
    test_checkout = next(r for r in report["requests"] if r["svc"] == "pytest")
    assert test_checkout["repeated"][0] == {
        "sql": 'SELECT "shop_price"."usd" FROM "shop_price"',
        "count": 3,
        "identical": True,
    }
    assert [r["name"] for r in report["slowest_requests"][:2]] == [
        "GET /courses/42/", "POST /checkout/"]  # fmt: skip
    assert report["slowest_queries"][0]["ms"] == 25.0
    assert [(e["count"], e["type"]) for e in report["errors"]] == [
        (2, "KeyError"), (1, "AssertionError"), (1, "ValueError")]  # fmt: skip
    (failing,) = report["failing_tests"]
    assert failing["nodeid"] == "tests/test_shop.py::test_checkout"
    assert failing["requests"] == [{"name": "POST /checkout/", "status": 200, "svc": "pytest"}]
    assert [e["type"] for e in failing["errors"]] == ["AssertionError"]
    assert failing["queries"] == 3


def test_thresholds(folder: Path) -> None:
    spans = spans_of(folder)
    assert not build_report(spans, max_queries=5, max_duplicates=5)["failed"]
    crossed = build_report(spans, max_queries=4)["thresholds"]["crossed"]
    assert crossed == ["GET /courses/42/ [web]: 5 queries > 4"]
    crossed = build_report(spans, max_duplicates=4)["thresholds"]["crossed"]
    assert crossed == ["GET /courses/42/ [web]: one statement ran 5 times > 4"]
    assert build_report(spans, fail_on_error=True)["thresholds"]["crossed"] == [
        "4 exceptions recorded (3 distinct)"]  # fmt: skip


def test_renderings_name_what_a_reader_looks_for(folder: Path) -> None:
    report = build_report(spans_of(folder), max_queries=4)
    markdown = render_markdown(report)
    assert markdown.startswith("## debug-monitor report\n\n:x: FAILED: 2 tests (1 failing)")
    assert "- **`tests/test_shop.py::test_checkout`** (failed)" in markdown
    assert "  - request `POST /checkout/` -> 200 [pytest]" in markdown
    assert "| 5 | GET /courses/42/ [web] | /srv/web/courses/views.py:31 |" in markdown
    assert "| 2 | `KeyError` | 'usd' | web | 8c1f0e2d3b4a5968 |" in markdown
    text = render_text(report)
    assert text.splitlines()[1] == "  threshold crossed: GET /courses/42/ [web]: 5 queries > 4"
    assert "    exception AssertionError: assert 'paid' == 'declined'" in text
    orjson.loads(orjson.dumps(report))  # the JSON format is one document


@pytest.mark.django
def test_report_on_a_real_pytest_django_recording(tmp_path: Path) -> None:
    run_sample("--dm-log-dir", str(tmp_path / "run"))
    report = build_report(spans_of(tmp_path / "run"), max_queries=3, fail_on_error=True)
    by_id = {t["nodeid"].rsplit("::", 1)[1]: t for t in report["tests"]}
    assert [t["nodeid"] for t in report["failing_tests"]] == [
        "tests/test_shop.py::test_items_total_is_wrong",
        "tests/test_shop.py::test_setup_error",
    ]
    wrong = by_id["test_items_total_is_wrong"]
    assert wrong["requests"] == [{"name": "GET /items/", "status": 200, "svc": "pytest"}]
    assert [e["type"] for e in wrong["errors"]] == ["AssertionError"]
    items = [r for r in report["requests"] if r["name"] == "GET /items/"]
    assert len(items) == 3 and all(r["queries"] == 4 for r in items)
    assert all(s["count"] == 3 and s["site"].endswith("views.py:12") for s in report["n_plus_one"])
    assert len(report["n_plus_one"]) == 3
    crossed = report["thresholds"]["crossed"]
    assert crossed.count("GET /items/ [pytest]: 4 queries > 3") == 3
    assert any(e["type"] == "KeyError" for e in report["errors"])
