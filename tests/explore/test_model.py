"""The model built from a hand-written folder: trees, requests, SQL, issues, commands, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dm_explore.ingest import load_folder
from dm_explore.model import Model, RequestFilter, filter_requests, span_sql, trace_rows
from tests.explore.applying import apply_event
from tests.explore.fixtures import API_REQ, CMD, ORPHAN, T1, TASK, WEB_REQ, three_services


@pytest.fixture
def model(tmp_path: Path) -> Model:
    return load_folder(three_services(tmp_path / "logs")).model


def test_one_trace_across_three_services_and_two_hosts(model: Model) -> None:
    trace = model.trace(T1)
    assert trace is not None and trace.services == {"web", "api", "worker"}
    rows = trace_rows(trace)
    shape = [(r.depth, r.span.kind, r.span.svc) for r in rows]
    assert shape[:4] == [
        (0, "request", "web"),
        (1, "http", "web"),
        (2, "request", "api"),
        (3, "task", "worker"),
    ]
    # The orphan's parent (/api/late/, in another file read later) arrived: it is attached.
    late = model.span("2000000000000008")
    assert late is not None and [c.span_id for c in late.children] == [ORPHAN]
    assert all(not r.waiting for r in rows)
    assert model.span(TASK).process == ("worker", "h2", 303)
    assert rows[2].offset_ms == pytest.approx(50.0, abs=1)


def test_orphan_waits_until_its_parent_arrives() -> None:
    from tests.explore.fixtures import Writer

    model = Model()
    fid = model.add_file("x")
    child = Writer("a", 1).ev(
        "span.start", 1.0, T1, "00000000000000c1", "00000000000000aa", name="child"
    )
    parent = Writer("b", 2).ev(
        "request.start", 0.5, T1, "00000000000000aa", method="GET", path="/p"
    )
    import orjson

    apply_event(model, fid, orjson.loads(child.lines[0]))
    trace = model.trace(T1)
    assert [r.waiting for r in trace_rows(trace)] == [True]
    apply_event(model, fid, orjson.loads(parent.lines[0]))
    rows = trace_rows(trace)
    assert [(r.depth, r.span.name, r.waiting) for r in rows] == [
        (0, "GET /p", False),
        (1, "child", False),
    ]


def test_request_index_filters_and_orders(model: Model) -> None:
    newest = filter_requests(model)
    assert [s.start.get("path") for s in newest][:2] == ["/api/late/", "/api/"]
    slowest = filter_requests(model, order="slowest")
    assert slowest[0].start["path"] == "/courses/" and slowest[0].ms == 400.0
    assert [s.start["path"] for s in filter_requests(model, RequestFilter(status="5xx"))] == [
        "/api/late/"
    ]
    assert [s.start["path"] for s in filter_requests(model, RequestFilter(status="404"))] == [
        "/old/"
    ]
    assert {s.svc for s in filter_requests(model, RequestFilter(service="api"))} == {"api"}
    errors = {s.start["path"] for s in filter_requests(model, RequestFilter(errors_only=True))}
    assert errors == {"/courses/", "/api/", "/api/late/"}  # an error marks its callers too
    assert [s.start["path"] for s in filter_requests(model, RequestFilter(text="COURSES"))] == [
        "/courses/"
    ]
    api = model.span(API_REQ)
    assert api.queries == 8 and api.queries_ms == pytest.approx(12.2)
    assert model.span(WEB_REQ).queries == 1  # the api's SQL belongs to the api


def test_sql_analysis_flags_duplicates_similar_and_n_plus_one(model: Model) -> None:
    statements, report = span_sql(model, model.span(API_REQ))
    assert len(statements) == 8
    assert [(g.sql, g.count) for g in report.duplicates] == [("SELECT 1", 2)]
    assert [(g.sql, g.count, g.distinct_params) for g in report.n_plus_one] == [
        ("SELECT * FROM enrollment WHERE course_id = %s", 6, 6)
    ]
    assert report.n_plus_one[0].sites == ["/srv/api/views.py:40 in detail"]
    assert report.slowest[0].ms == 2.0


def test_issues_group_by_fingerprint_across_processes(model: Model) -> None:
    assert len(model.issues) == 1
    issue = next(iter(model.issues.values()))
    assert issue.count == 2 and issue.services == {"api", "worker"}
    assert set(issue.spans) == {f"{T1}-{API_REQ}", f"{T1}-{TASK}"}  # (trace-span refs)
    assert issue.example["frames"] == [] or issue.example["frames"][0]["func"] == "detail"


def test_command_stopped_reporting_is_system_kill(model: Model) -> None:
    (run,) = model.command_runs[("h1", "import_grades")]
    assert run.span_id == CMD and run.progress == {"done": 40, "total": 100, "message": "rows"}
    assert model.command_status(run) == "SYSTEM_KILL"  # no heartbeat for 19 s, interval 1 s
    assert model.command_status(run, now=run.heartbeat_ts + 1.5) == "RUNNING"
    assert model.commands_by_status()["SYSTEM_KILL"] == 1


def test_files_problems_gz_rotation_and_metrics(model: Model, tmp_path: Path) -> None:
    by_name = {Path(f.path).name: f for f in model.files.values()}
    garbage = by_name["garbage.jsonl"]
    assert garbage.events == 1 and garbage.invalid == 4
    reasons = {p.line: p.reason for p in garbage.problems}
    assert reasons[1].startswith("not JSON") and "pid" in reasons[4] and "newer" in reasons[5]
    assert by_name["api.h1.202.jsonl"].partial  # the truncated last line waits
    assert by_name["web.h1.101.0.jsonl"].capped == "rotate"
    assert by_name["archive.h1.505.jsonl.gz"].events == 2
    assert model.metrics["queue.depth"].all.count == 2
    assert model.metrics["queue.depth"].all.stats()["max"] == 8


def test_eviction_keeps_totals(tmp_path: Path) -> None:
    import orjson

    from tests.explore.fixtures import Writer

    model = Model(max_traces=10)
    fid = model.add_file("x")
    w = Writer("s", 1)
    for i in range(50):
        trace, span = f"{i + 1:032x}", f"{i + 1:016x}"
        w.ev("request.start", 1 + i / 100, trace, span, method="GET", path=f"/{i}")
        w.ev("request.end", 1 + i / 100, trace, span, ms=1.0, outcome="ok", status=200)
    for line in w.lines:
        apply_event(model, fid, orjson.loads(line))
    assert len(model.traces) == 10 and len(model.requests) == 10
    assert model.totals["requests"] == 50 and model.totals["traces"] == 50
    assert filter_requests(model)[0].start["path"] == "/49"


def test_written_by_the_real_writer(tmp_path: Path) -> None:
    import dm_log

    folder = tmp_path / "real"
    dm_log.configure(log_dir=folder, service="web")
    try:
        with dm_log.start_span("request", method="GET", path="/x") as req:
            with dm_log.span("work"):
                dm_log.record("sql", sql="SELECT 1", params=[], ms=1.0)
            req.set(status=201)
    finally:
        dm_log.configure(log_dir=None)
    model = load_folder(folder).model
    (span,) = model.requests.values()
    assert span.status == 201 and span.queries == 1 and span.children[0].name == "work"
