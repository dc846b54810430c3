"""The report, read from the model: on the fixed fixture folder, through the CLI, on a real run."""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

import dm_log
from dm_explore.cli import main
from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.model import trace_rows
from dm_explore.outputs.render import render_markdown, render_text
from dm_explore.outputs.report import build_report
from tests.ci_docs import fixture
from tests.ci_docs.sample import run_sample

ROOT = Path(__file__).resolve().parents[2]
CI_DOC = ROOT / "docs" / "ci.md"
_PRICE = 'SELECT "shop_price"."usd" FROM "shop_price"'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    fixture.write_fixture(tmp_path / "logs")
    return tmp_path / "logs"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m dm_explore.cli ARGS`` as CI runs it."""
    return subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args], capture_output=True, text=True,
        timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def _json_report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """``dm-explore report ARGS --format json`` in this process: exit status and document."""
    code = main(["report", *args, "--format", "json"])
    return code, orjson.loads(capsys.readouterr().out)


def test_counts_duplicates_n_plus_one_and_errors(folder: Path) -> None:
    report = build_report(load_folder(folder, max_traces=ALL_TRACES).model)
    assert report["failed"] is False  # no threshold given: never fails
    assert report["summary"] == {"tests": 2, "failed_tests": 1, "requests": 6, "tasks": 2,
                                 "queries": 12, "exceptions": 4, "cache_calls": 0,
                                 "cache_hits": 0, "cache_misses": 0, "unfinished_spans": 1,
                                 "findings": 2, "retried_tasks": 0, "invalid_lines": 0,
                                 "refused_events": 0, "refused_by_kind": {}}  # fmt: skip
    assert [(f["kind"], f["svc"], f["where"], f["units"], f["max_per_unit"])
            for f in report["findings"]] == [
        ("n_plus_one", "web", "GET courses/<int:pk>/", 1, 5),
        ("duplicate_query", "pytest", "POST checkout/", 1, 3)]  # fmt: skip
    assert report["findings"][0]["example_trace"] == fixture.TRACE_PAGE
    page = next(r for r in report["requests"] if r["name"] == "GET /courses/42/")
    # Five SELECTs with five different parameters: an N+1 suspect, not a duplicate.
    assert (page["queries"], page["max_duplicates"], page["sql_ms"]) == (5, 0, 7.5)
    (suspect,) = report["n_plus_one"]
    assert (suspect["count"], suspect["distinct_params"]) == (5, 5)
    assert suspect["sites"] == ["/srv/web/courses/views.py:31 in detail"]
    assert (suspect["request"], suspect["svc"]) == ("GET /courses/42/", "web")
    # The test's request ran the same statement with the same (no) parameters three times.
    test_checkout = next(r for r in report["requests"] if r["svc"] == "pytest")
    (duplicate,) = test_checkout["duplicates"]
    assert (duplicate["sql"], duplicate["count"]) == (_PRICE, 3)
    assert test_checkout["max_duplicates"] == 3
    assert [r["name"] for r in report["slowest_requests"][:2]] == [
        "GET /courses/42/", "POST /checkout/"]  # fmt: skip
    assert report["slowest_queries"][0]["ms"] == 25.0
    assert report["slowest_queries"][0]["site"] == "/srv/api/courses/api.py:20 in enrollments"
    assert [(e["count"], e["type"]) for e in report["errors"]] == [
        (2, "KeyError"), (1, "AssertionError"), (1, "ValueError")]  # fmt: skip
    (failing,) = report["failing_tests"]
    assert failing["nodeid"] == "tests/test_shop.py::test_checkout"
    assert failing["requests"] == [{"name": "POST /checkout/", "status": 200, "svc": "pytest"}]
    assert [e["type"] for e in failing["errors"]] == ["AssertionError"]
    assert failing["queries"] == 3
    recount = next(r for r in report["requests"] if r["kind"] == "task" and r["ms"])
    assert (recount["name"], recount["status"], recount["queries"]) == (
        "courses.tasks.recount", "SUCCESS", 1)  # fmt: skip
    killed = next(r for r in report["requests"] if r["kind"] == "task" and r["ms"] is None)
    assert killed["outcome"] in ("in flight", "killed")


def test_thresholds(folder: Path) -> None:
    model = load_folder(folder, max_traces=ALL_TRACES).model
    assert not build_report(model, max_queries=5, max_duplicates=3)["failed"]
    crossed = build_report(model, max_queries=4)["thresholds"]["crossed"]
    assert crossed == ["GET /courses/42/ [web]: 5 queries > 4"]
    crossed = build_report(model, max_duplicates=2)["thresholds"]["crossed"]
    assert crossed == [
        "POST /checkout/ [pytest]: one statement ran 3 times with the same parameters > 2"
    ]
    assert build_report(model, fail_on_error=True)["thresholds"]["crossed"] == [
        "4 exceptions recorded (3 distinct)"]  # fmt: skip


def test_n_plus_one_threshold_is_the_models(folder: Path) -> None:
    assert (
        build_report(load_folder(folder, n_plus_one=6, max_traces=ALL_TRACES).model)["n_plus_one"]
        == []
    )
    assert (
        len(
            build_report(load_folder(folder, n_plus_one=5, max_traces=ALL_TRACES).model)[
                "n_plus_one"
            ]
        )
        == 1
    )


def test_renderings_name_what_a_reader_looks_for(folder: Path) -> None:
    report = build_report(load_folder(folder, max_traces=ALL_TRACES).model, max_queries=4)
    markdown = render_markdown(report)
    assert markdown.startswith("## debug-monitor report\n\n:x: FAILED: 2 tests (1 failing)")
    assert "- **`tests/test_shop.py::test_checkout`** (failed)" in markdown
    assert "  - request `POST /checkout/` -> 200 [pytest]" in markdown
    assert (
        "| N+1 queries | GET courses/<int:pk>/ [web] | 1 | 5x | "
        "/srv/web/courses/views.py:31 in detail |" in markdown
    )
    assert (
        "| duplicate query | POST checkout/ [pytest] | 1 | 3x | "
        f"/srv/web/shop/views.py:47 in checkout | `{_PRICE}` |" in markdown
    )
    assert "| 2 | `KeyError` | 'usd' | web | 8c1f0e2d3b4a5968 |" in markdown
    text = render_text(report)
    assert text.splitlines()[1] == "  threshold crossed: GET /courses/42/ [web]: 5 queries > 4"
    assert "    exception AssertionError: assert 'paid' == 'declined'" in text


def test_untrusted_text_cannot_break_the_terminal_or_the_table(tmp_path: Path) -> None:
    line = {"v": 1, "ts": "2026-11-23T09:15:00.000000Z", "event": "exception", "svc": "web",
            "host": "h", "pid": 1, "type": "Evil\x1b]0;pwned\x07", "message": "a|b\nc",
            "fingerprint": "f" * 16}  # fmt: skip
    (tmp_path / "web.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    report = build_report(load_folder(tmp_path, max_traces=ALL_TRACES).model)
    for rendered in (render_text(report), render_markdown(report)):
        assert "\x1b" not in rendered and "\x07" not in rendered
    assert "| 1 | `Evil\\x1b]0;pwned\\x07` | a\\|b\\x0ac | web |" in render_markdown(report)


def test_cli_exit_status_is_the_gate(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _json_report(capsys, str(folder))
    assert code == 0 and report["summary"]["queries"] == 12
    code, report = _json_report(capsys, str(folder), "--max-queries", "4")
    assert code == 1 and report["thresholds"]["crossed"] == [
        "GET /courses/42/ [web]: 5 queries > 4"
    ]
    code, _ = _json_report(capsys, str(folder), "--max-queries", "5", "--max-duplicates", "3")
    assert code == 0
    code, report = _json_report(capsys, str(folder), "--fail-on-error")
    assert code == 1 and report["failed"]
    code, report = _json_report(capsys, str(folder), "--n-plus-one", "6")
    assert code == 0 and report["n_plus_one"] == [] and report["thresholds"]["n_plus_one"] == 6


def test_ci_command_on_a_gzipped_artifact(folder: Path, tmp_path: Path) -> None:
    """docs/ci.md: the report step with its flags, then `gzip -r` and the report again."""
    plain = _cli("report", str(folder), "--format", "markdown",
                 "--max-queries", "50", "--max-duplicates", "5", "--fail-on-error")  # fmt: skip
    assert plain.returncode == 1, plain.stderr  # the fixture recorded exceptions
    assert plain.stdout.startswith("## debug-monitor report\n\n:x: FAILED:")
    assert "- 4 exceptions recorded (3 distinct)" in plain.stdout
    artifact = tmp_path / "ci-logs"
    shutil.copytree(folder, artifact)
    if shutil.which("gzip"):  # the documented step, as CI runs it
        subprocess.run(["gzip", "-r", str(artifact)], check=True, timeout=60)
    else:
        for path in artifact.glob("*.jsonl"):
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
            path.unlink()
    assert sorted(p.suffix for p in artifact.iterdir()) == [".gz"] * 4
    gzipped = _cli("report", str(artifact), "--format", "markdown",
                   "--max-queries", "50", "--max-duplicates", "5", "--fail-on-error")  # fmt: skip
    assert (gzipped.returncode, gzipped.stdout) == (plain.returncode, plain.stdout)
    text = _cli("report", str(artifact))
    assert text.returncode == 0 and text.stdout.startswith("OK: 2 tests (1 failing), 6 requests")
    # `dm-explore export otlp ./ci-logs -o ci.otlp.jsonl` on the compressed folder.
    out = tmp_path / "ci.otlp.jsonl"
    exported = _cli("export", "otlp", str(artifact), "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_bytes().splitlines()
    assert len(lines) == 7 and all(orjson.loads(line)["resourceSpans"] for line in lines)


def _ci_doc_commands() -> list[list[str]]:
    """Every ``dm-explore`` command docs/ci.md shows, as argv (redirections and comments cut)."""
    text = CI_DOC.read_text()
    found = [" ".join(line.strip() for line in block.splitlines())  # `run: >` folds lines
             for block in re.findall(r"run: >\n((?: {10,}.*\n)+)", text)]  # fmt: skip
    found += re.findall(r"^(dm-explore [^#\n]*)", text, re.MULTILINE)
    return [shlex.split(c.split(">>")[0]) for c in found if c.startswith("dm-explore ")]


def test_every_dm_explore_command_in_ci_doc_runs(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact = tmp_path / "ci-logs"
    shutil.copytree(folder, artifact)
    subprocess.run(["gzip", "-r", str(artifact)], check=True, timeout=60)
    monkeypatch.chdir(tmp_path)
    codes = {}
    for argv in _ci_doc_commands():
        args = [str(artifact) if a in ("$DM_LOG_DIR", "./ci-logs") else a for a in argv[1:]]
        if args == [str(artifact)]:
            continue  # `dm-explore ./ci-logs` opens the interactive explorer
        codes[" ".join(argv)] = main(args)
    assert codes == {
        "dm-explore report $DM_LOG_DIR --format markdown --max-queries 50 --max-duplicates 5"
        " --fail-on-error": 1,  # the fixture recorded exceptions
        "dm-explore report ./ci-logs": 0,
        "dm-explore export otlp ./ci-logs -o ci.otlp.jsonl": 0,
    }
    assert len((tmp_path / "ci.otlp.jsonl").read_bytes().splitlines()) == 7


def test_cli_on_a_missing_folder(tmp_path: Path) -> None:
    result = _cli("report", str(tmp_path / "nope"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == f"dm-explore: not a folder: {tmp_path / 'nope'}"


@pytest.mark.django
def test_report_on_a_real_pytest_django_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_sample("--dm-log-dir", str(tmp_path / "run"))
    code, report = _json_report(capsys, str(tmp_path / "run"), "--max-queries", "3",
                                "--fail-on-error", "--n-plus-one", "3")  # fmt: skip
    assert code == 1
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
    # One SELECT per item, three items: an N+1 suspect at --n-plus-one 3, in each request.
    assert len(report["n_plus_one"]) == 3
    assert all(s["count"] == 3 and s["sites"][0].split(" in ")[0].endswith("views.py:12")
               for s in report["n_plus_one"])  # fmt: skip
    crossed = report["thresholds"]["crossed"]
    assert crossed.count("GET /items/ [pytest]: 4 queries > 3") == 3
    assert any(e["type"] == "KeyError" for e in report["errors"])


def test_report_and_export_end_on_hostile_parent_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two spans naming each other as parent, and a 3000-span chain: both commands finish."""
    trace, head = "c" * 32, {"v": 1, "svc": "web", "host": "h", "pid": 1}
    a, b = "a" * 16, "b" * 16

    def line(n: int, kind: str, **fields: Any) -> bytes:
        ts = f"2026-11-23T09:15:{n // 1000:02d}.{n % 1000:03d}000Z"
        return orjson.dumps({**head, "ts": ts, "event": kind, "trace": trace, **fields}) + b"\n"

    lines = [line(0, "request.start", span=a, parent=b, method="GET", path="/a"),
             line(1, "span.start", span=b, parent=a, name="b"),
             line(2, "sql", span=a, sql="SELECT 1", ms=1.0),
             line(3, "exception", span=b, type="E", fingerprint="e" * 16)]  # fmt: skip
    chain = [f"{n:016x}" for n in range(1, 3001)]
    lines += [line(4 + n, "span.start", span=s, parent=chain[n - 1] if n else None, name="deep")
              for n, s in enumerate(chain)]  # fmt: skip
    lines += [line(3004, "sql", span=chain[-1], sql="SELECT 2", ms=1.0)]
    (tmp_path / "web.jsonl").write_bytes(b"".join(lines))
    code, report = _json_report(capsys, str(tmp_path))
    assert code == 0 and report["summary"]["queries"] == 2 and report["summary"]["exceptions"] == 1
    (request,) = report["requests"]
    assert request["queries"] == 1 and [e["type"] for e in request["errors"]] == ["E"]
    assert main(["export", "otlp", str(tmp_path), "-o", str(tmp_path / "out.otlp")]) == 0
    (exported,) = (tmp_path / "out.otlp").read_bytes().splitlines()
    spans = orjson.loads(exported)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert len(spans) == 3002 + 2  # and a span for each statement, under the span that ran it
    assert {s["parentSpanId"]: s["name"] for s in spans if s["kind"] == 3} == {
        a: "SELECT", chain[-1]: "SELECT"}  # fmt: skip
    rows = trace_rows(
        load_folder(tmp_path, max_traces=ALL_TRACES).model.traces[trace]
    )  # the tree the explorer draws
    # the cycle has no root to hang from: it comes after the tree, marked cyclic
    assert [(r.depth, r.cyclic) for r in rows] == [(d, False) for d in range(3000)] + [
        (0, True),
        (1, True),
    ]


def test_findings_whose_statements_differ_past_the_cut_are_told_apart(log_dir: Path) -> None:
    """Two N+1 statements alike in their first 100 characters (``<`` against ``>`` near the
    end) are shown far enough to see the difference, in text and in markdown."""
    head = (
        'SELECT "shop_order"."id", "shop_order"."total", "shop_order"."customer_id" '
        'FROM "shop_order" WHERE "shop_order"."total"'
    )
    lower, upper = f"{head} < %s", f"{head} > %s"
    assert lower[:100] == upper[:100]
    request = dm_log.start_span("request", method="GET", path="/orders/")
    for sql in (lower, upper):
        for n in range(6):
            dm_log.record("sql", sql=sql, params=[n], ms=0.1, alias="default", vendor="sqlite")
    request.end(status=200)
    report = build_report(load_folder(log_dir, max_traces=ALL_TRACES).model)
    subjects = {f["subject"] for f in report["findings"] if f["kind"] == "n_plus_one"}
    assert subjects == {lower, upper}
    for rendered in (render_text(report), render_markdown(report)):
        assert '"total" <' in rendered and '"total" >' in rendered, rendered
