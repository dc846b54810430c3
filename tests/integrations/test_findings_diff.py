"""Findings, endpoints and ``dm-explore diff`` on two real runs of the example services.

BASE is the demo as shipped; HEAD is a copy of its site with two changes a pull
request could make: the course detail view looks every course up again, one
query each (an N+1), and records a ``KeyError`` it catches (a new error). Both
run web (runserver) -> api (uvicorn) -> Celery worker, with the same page loads.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import demo  # type: ignore[import-not-found]
import pytest

from tests.integrations.conftest import SITE, wait_for

pytestmark = [pytest.mark.django, pytest.mark.xdist_group("findings-diff")]

PAGES = 3
DETAIL = "api GET api/courses/<int:pk>/"
# What HEAD adds to the course detail view: one query per course, and a caught error.
HEAD_PATCH = """
def course_detail(request: HttpRequest, pk: int) -> JsonResponse:
    codes = [Course.objects.get(pk=c.pk).code for c in Course.objects.order_by("id")]
    try:
        {}["price"]
    except KeyError as exc:
        dm_log.capture_exception(exc)
    course = Course.objects.get(pk=pk)
    enrollments = list(course.enrollments.order_by("id")[:20])
    report_enrollment(course, enrollments)
    return JsonResponse({"id": course.id, "title": course.title, "enrolled": len(codes)})
"""


def _patched_site(folder: Path) -> Path:
    site = folder / "demo_site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    views = site / "courses" / "views.py"
    text = views.read_text()
    start = text.index("def course_detail(")
    end = text.index("@csrf_exempt", start)
    views.write_text(text[:start] + HEAD_PATCH.lstrip() + "\n\n" + text[end:])
    return site


def _task_ends(folder: Path) -> int:
    return sum(p.read_bytes().count(b'"event":"task.end"') for p in folder.glob("*.jsonl"))


def _record(folder: Path, work: Path, broker_url: str | None, site: Path) -> Path:
    """Start the services from ``site``, load the page PAGES times, wait for the tasks."""
    saved = demo.SITE
    demo.SITE = site
    try:
        running = demo.start_services(
            folder, work=work, broker_url=broker_url, extra_env={"DM_VALIDATE": "1"}
        )
        try:
            for _ in range(PAGES):
                with urllib.request.urlopen(running.web_url + "/", timeout=60) as response:
                    assert response.status == 200
            # Each page queues notify (1 run), flaky (2 attempts) and, for odd ids, broken.
            wait_for(lambda: _task_ends(folder) >= 3 * PAGES, timeout=60)
            last = -1
            while (now := _task_ends(folder)) != last:  # settled: no task still running
                last = now
                time.sleep(1.5)
        finally:
            running.stop()
    finally:
        demo.SITE = saved
    return folder


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, broker_url: str | None
) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("diff")
    base = _record(root / "base", root / "base-work", broker_url, SITE)
    head = _record(root / "head", root / "head-work", broker_url, _patched_site(root))
    yield base, head


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


# Timings are not what these tests are about: no statement is "slow" on a loaded machine.
QUIET = ("--slow-query-ms", "100000")


def _diff(base: Path, head: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    result = _cli("diff", str(base), str(head), "--format", "json", *QUIET, *flags)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_diff_without_thresholds_reports_and_exits_0(runs: tuple[Path, Path]) -> None:
    base, head = runs
    code, diff = _diff(base, head)
    assert code == 0 and diff["failed"] is False and diff["crossed"] == []
    assert set(diff) >= {"endpoints", "tests", "new_findings", "fixed_findings", "new_errors",
                         "crossed", "failed"}  # fmt: skip
    detail = next(e for e in diff["endpoints"] if e["key"] == DETAIL)
    assert detail["change"] == "worse"
    assert detail["base"]["requests"] == detail["head"]["requests"] == 3 * PAGES
    assert detail["base"]["queries_per_request"] == 2
    assert detail["head"]["queries_per_request"] == 2 + 1 + 5  # all courses, then one each
    assert (detail["base"]["n_plus_one"], detail["head"]["n_plus_one"]) == (0, 1)
    assert set(detail["head"]) >= {"queries_per_request", "p50_ms", "p95_ms", "requests"}
    # The page and the other api endpoints did the same work in both runs.
    unchanged = {e["key"]: e for e in diff["endpoints"]}
    for key in ("web GET /", "api GET api/courses/", "api POST api/enroll/"):
        entry = unchanged[key]
        assert entry["base"]["queries_per_request"] == entry["head"]["queries_per_request"], key
    (new,) = diff["new_findings"]
    assert (new["kind"], new["svc"], new["where"]) == (
        "n_plus_one",
        "api",
        "GET api/courses/<int:pk>/",
    )
    assert new["units"] == 3 * PAGES and new["min_per_unit"] == new["max_per_unit"] == 5
    assert diff["fixed_findings"] == []
    (error,) = diff["new_errors"]
    assert (error["type"], error["message"]) == ("KeyError", "'price'")


def test_thresholds_make_diff_exit_1(runs: tuple[Path, Path]) -> None:
    base, head = runs
    code, diff = _diff(base, head, "--max-query-increase", "0")
    assert code == 1 and diff["failed"]
    detail = next(e for e in diff["endpoints"] if e["key"] == DETAIL)
    assert detail["crossed"] == [f"{DETAIL}: queries per request 2 -> 8 (+6 > 0)"]
    assert diff["crossed"] == detail["crossed"]
    assert _diff(base, head, "--max-query-increase", "6")[0] == 0
    code, diff = _diff(base, head, "--fail-on-new-errors")
    assert code == 1 and diff["crossed"] == ["new error: KeyError: 'price'"]
    code, diff = _diff(base, head, "--fail-on-new-findings")
    assert code == 1 and len(diff["crossed"]) == 1 and "n_plus_one api" in diff["crossed"][0]
    # A run against itself crosses nothing, whatever the gates (a slowdown of 1x included).
    strict = ("--max-query-increase", "0", "--fail-on-new-errors", "--fail-on-new-findings")
    code, diff = _diff(head, head, *strict, "--max-slowdown", "1")
    assert code == 0 and not diff["new_findings"] and not diff["new_errors"]
    # The other way round, the N+1 and the error are gone (times differ: not gated here).
    code, diff = _diff(head, base, *strict)
    assert code == 0, diff["crossed"]
    assert [f["where"] for f in diff["fixed_findings"]] == ["GET api/courses/<int:pk>/"]
    assert next(e for e in diff["endpoints"] if e["key"] == DETAIL)["change"] == "better"


def test_diff_usage_errors_exit_2(runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, _head = runs
    missing = _cli("diff", str(base), str(tmp_path / "nope"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert "not a folder" in missing.stderr
    assert _cli("diff", str(base)).returncode == 2
    assert _cli("diff", str(base), str(base), "--max-slowdown", "0.5").returncode == 2


def test_markdown_lists_what_got_worse_first(runs: tuple[Path, Path]) -> None:
    base, head = runs
    result = _cli("diff", str(base), str(head), "--format", "markdown", *QUIET,
                  "--max-query-increase", "0")  # fmt: skip
    assert result.returncode == 1
    text = result.stdout
    assert text.startswith("## debug-monitor diff\n\n:x: **FAILED**")
    worse = text.index("### Worse")
    assert "`api GET api/courses/<int:pk>/`" in text[worse : text.index("###", worse + 4)]
    assert "| 2 → 8 |" in text
    assert text.index("### New findings") > worse and "### New errors" in text
    plain = _cli("diff", str(base), str(head), *QUIET)
    assert plain.returncode == 0 and plain.stdout.startswith("OK: endpoints")
    assert f"  {DETAIL}: runs 9, queries/run 2 → 8" in plain.stdout


def test_report_groups_findings_and_retries_are_not_errors(runs: tuple[Path, Path]) -> None:
    _base, head = runs
    result = _cli("report", str(head), "--format", "json", *QUIET)
    report = json.loads(result.stdout)
    course_list = [f for f in report["findings"]
                   if f["kind"] == "n_plus_one" and f["where"] == "GET api/courses/"]  # fmt: skip
    assert len(course_list) == 1 and course_list[0]["units"] == PAGES  # one row, not one per page
    example = course_list[0]["example_trace"]
    assert _cli("tree", str(head), example).returncode == 0
    text = _cli("report", str(head), *QUIET).stdout
    assert text.count("N+1 queries: GET api/courses/ [api]") == 1
    types = {e["type"] for e in report["errors"]}
    assert "KeyError" in types and "ValueError" in types
    assert not types & {"celery.exceptions.Retry", "celery.exceptions.Ignore"}
    assert report["summary"]["retried_tasks"] >= PAGES
    summary = json.loads(_cli("summary", str(head), "--json", *QUIET).stdout)
    assert summary["findings"] == len(report["findings"])
    assert summary["top_findings"][0]["fingerprint"] == report["findings"][0]["fingerprint"]


def test_endpoints_command(runs: tuple[Path, Path]) -> None:
    _base, head = runs
    result = _cli("endpoints", str(head), "--json", *QUIET)
    assert result.returncode == 0, result.stderr
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    detail = rows[DETAIL]
    assert (detail["count"], detail["errors"], detail["queries_median"]) == (3 * PAGES, 0, 8)
    assert detail["n_plus_one"] == 1 and detail["p50_ms"] <= detail["p95_ms"] <= detail["max_ms"]
    boom = rows["api GET api/boom/"]
    assert (boom["count"], boom["errors"], boom["error_rate"]) == (PAGES, PAGES, 1.0)
    flaky = rows["worker task courses.flaky"]
    assert flaky["retries"] == PAGES and flaky["errors"] == 0 and flaky["count"] == 2 * PAGES
    assert rows["web GET /"]["errors"] == 0  # the 500 it received is the api's
    text = _cli("endpoints", str(head), "--sort", "queries_median", *QUIET).stdout.splitlines()
    assert text[0].split()[0] == "count" and "import_courses" in text[1]


def test_the_ci_doc_diff_step_on_gzipped_artifacts(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """docs/ci.md's compare step, as written, on the two runs compressed like artifacts."""
    base, head = runs
    text = (Path(__file__).resolve().parents[2] / "docs" / "ci.md").read_text()
    (line,) = [x.strip() for x in text.splitlines() if x.strip().startswith("dm-explore diff")]
    argv = shlex.split(line.split(">")[0])
    artifacts = {}
    for name, folder in (("base-logs/dm-logs-1-1", base), ("head", head)):
        artifacts[name] = tmp_path / name
        shutil.copytree(folder, artifacts[name])
        subprocess.run(["gzip", "-r", str(artifacts[name])], check=True, timeout=60)
    args = [
        str(artifacts["base-logs/dm-logs-1-1"]) if a == "base-logs/dm-logs-*" else a
        for a in argv[2:]
    ]
    args = [str(artifacts["head"]) if a == "$DM_LOG_DIR" else a for a in args]
    result = _cli("diff", *args, *QUIET)
    assert result.returncode == 1, result.stderr  # more queries per request, a new error
    assert result.stdout.startswith("## debug-monitor diff\n\n:x: **FAILED**")
    assert f"- {DETAIL}: queries per request 2 -> 8 (+6 > 0)" in result.stdout
    assert "- new error: KeyError: 'price'" in result.stdout
