"""The Django integration's kinds and fields, read by the model and the command line:
templates, cache, profiles, template and library SQL sites, plans, transaction
control, 4xx answers that are not errors, and a trace found by its traceresponse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dm_explore.cli import main
from dm_explore.ingest import load_folder
from dm_explore.model import (
    RequestFilter,
    analyze_sql,
    find_trace,
    span_sql,
    trace_id_of,
    trace_rows,
)
from dm_explore.model.profile import read_profile
from dm_explore.model.sqlstats import is_transaction_control
from tests.explore.django_page import (
    PLAN,
    REQ,
    REQ403,
    REQ404,
    STACKS,
    T403,
    T404,
    TD,
    TRACERESPONSE,
    django_page,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return django_page(tmp_path / "logs")


def test_templates_nest_as_spans_and_sql_knows_its_template(folder: Path) -> None:
    model = load_folder(folder).model
    assert sum(info.invalid for info in model.files.values()) == 0
    rows = trace_rows(model.traces[TD])
    assert [(r.depth, r.span.kind, r.span.name) for r in rows] == [
        (0, "request", "GET /courses/42/"),
        (1, "template", "courses/page.html"),
        (2, "template", "base.html"),
        (3, "template", "courses/row.html"),
        (3, "template", "courses/row.html"),
    ]
    assert rows[1].span.start["context"] == {"course": "<Course pk=42>", "rows": "<list of 2>"}
    request = model.span(REQ, TD)
    assert request is not None
    statements = span_sql(model, request)[0]
    by_text = {r.sql: r for r in statements}
    teacher = by_text['SELECT "teacher" WHERE id = %s']
    assert teacher.template == ("courses/row.html", 3) and teacher.plan == PLAN
    assert teacher.place_text() == "courses/row.html:3 <- /srv/web/courses/views.py:52 in detail"
    library = by_text['SELECT "page" WHERE id = %s']
    assert library.in_app is False and library.place_text().endswith("in specific (library)")
    view = by_text['SELECT "course" WHERE id = %s']
    assert view.template is None and view.in_app is None and view.plan is None


def test_transaction_control_is_shown_but_never_a_duplicate_or_n_plus_one(folder: Path) -> None:
    model = load_folder(folder).model
    request = model.span(REQ, TD)
    assert request is not None
    statements, report = span_sql(model, request)
    assert [r.sql for r in statements].count("BEGIN") == 2 and report.count == 10
    assert report.duplicates == [] and report.n_plus_one == []
    assert [g.sql for g in report.similar] == ['SELECT "teacher" WHERE id = %s']
    begins = [r for r in statements if r.sql in ("BEGIN", "COMMIT")] * 5  # 20 in a loop
    assert analyze_sql(begins, n_plus_one=2).duplicates == []
    for sql in ("BEGIN", "commit", 'ROLLBACK TO SAVEPOINT "s2"', 'RELEASE SAVEPOINT "s"'):
        assert is_transaction_control(sql)
    for sql in ("SELECT 1", "BEGINNING", "commit_log()", 'UPDATE "t" SET "end" = 1'):
        assert not is_transaction_control(sql)


def test_cache_calls_are_kept_and_counted(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = load_folder(folder).model
    request = model.span(REQ, TD)
    assert request is not None
    assert [(c.op, c.hit, c.found, c.misses) for c in request.cache] == [
        ("get", False, 0, 1),
        ("set", None, 0, 0),
        ("get", True, 1, 0),
        ("get_many", None, 1, 1),
    ]
    assert request.cache[0].site == ("/srv/web/courses/views.py", 31, "detail")
    assert main(["summary", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cache"] == {"calls": 4, "hits": 2, "misses": 2}
    assert main(["summary", str(folder)]) == 0
    assert "cache       4 calls, 2 hits, 2 misses" in capsys.readouterr().out
    main(["report", str(folder), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    page = next(r for r in report["requests"] if r["trace"] == TD)
    assert page["cache"] == {"calls": 4, "hits": 2, "misses": 2, "ms": 0.18}
    assert report["summary"]["cache_calls"] == 4
    assert page["max_duplicates"] == 0 and page["n_plus_one"] == []


def test_a_4xx_answered_from_an_exception_is_not_an_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = load_folder(folder).model
    for trace, span, status in ((T404, REQ404, 404), (T403, REQ403, 403)):
        request = model.span(span, trace)
        assert request is not None and request.status == status
        assert request.client_error and request.outcome == "ok" and not request.has_error
    assert model.issues == {} and model.totals["errors"] == 0
    assert main(["report", str(folder), "--fail-on-error"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


@pytest.mark.parametrize(
    "given",
    [TRACERESPONSE, f"traceresponse: {TRACERESPONSE}", f"  {TRACERESPONSE.upper()} ", TD, TD[:8]],
)
def test_tree_finds_the_request_from_its_traceresponse_header(
    folder: Path, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    assert main(["tree", str(folder), given]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"trace {TD}") and "GET /courses/42/" in out
    assert "    template base.html" in out


def test_trace_id_of_leaves_other_text_alone(folder: Path) -> None:
    assert trace_id_of(TRACERESPONSE) == TD and trace_id_of(" courses ") == "courses"
    assert trace_id_of("00-xyz-00f067aa0ba902b7-01") == "00-xyz-00f067aa0ba902b7-01"
    model = load_folder(folder).model
    found = find_trace(model, TRACERESPONSE)
    assert found is not None and found.trace_id == TD and find_trace(model, "  ") is None
    page = model.span(REQ, TD)
    assert page is not None
    for text in (TRACERESPONSE, f"traceresponse: {TRACERESPONSE}", TD, TD[:8], "courses/42"):
        assert RequestFilter(text=text).matches(page), text
    for text in ("7d7d", TD[:8] + "x", T404):  # too short to be an id; not hex; another trace
        assert not RequestFilter(text=text).matches(page), text


def test_a_profile_reads_into_a_call_tree_and_top_functions() -> None:
    profile = read_profile({"interval": 0.001, "ms": 121.3, "stacks": STACKS})
    assert profile is not None and profile.samples == 118
    assert [(f.name, f.own, f.total) for f in profile.top("own", 3)] == [
        ("courses.grading:score", 90, 97),
        ("django.shortcuts:render", 21, 21),
        ("courses.grading:weight", 7, 7),
    ]
    assert profile.top("total", 1)[0].name == "courses.views:detail"
    (detail,) = profile.root.children.values()
    assert (detail.total, detail.own) == (118, 0)
    assert [c.name for c in detail.sorted_children()] == [
        "courses.grading:score",
        "django.shortcuts:render",
    ]
    recursive = read_profile({"interval": 0.01, "stacks": {"m:f;m:f;m:g": 4, "m:f": 1}})
    assert recursive is not None
    assert [(f.name, f.own, f.total) for f in recursive.top("total")] == [
        ("m:f", 1, 5),  # counted once per sample, though it is twice on the stack
        ("m:g", 4, 4),
    ]
    hostile = {"interval": "x", "stacks": {"a:b": -1, "": 3, "c:d": True, "e:f": 2}}
    read = read_profile(hostile)
    assert read is not None and read.samples == 2 and read.interval == 0.001
    assert read_profile({"stacks": []}) is None and read_profile({"stacks": {"a:b": 0}}) is None


# speedscope's file format, as its schema (https://www.speedscope.app/file-format-schema.json)
# states it for a file of sampled profiles: the schema's own words, restricted to that type.
_UNITS = ("none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes")
SPEEDSCOPE_SAMPLED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["$schema", "shared", "profiles"],
    "properties": {
        "$schema": {"const": "https://www.speedscope.app/file-format-schema.json"},
        "shared": {
            "type": "object",
            "required": ["frames"],
            "properties": {
                "frames": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "file": {"type": "string"},
                            "line": {"type": "number"},
                            "col": {"type": "number"},
                        },
                    },
                }
            },
        },
        "profiles": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "type",
                    "name",
                    "unit",
                    "startValue",
                    "endValue",
                    "samples",
                    "weights",
                ],
                "properties": {
                    "type": {"const": "sampled"},
                    "name": {"type": "string"},
                    "unit": {
                        "enum": [
                            "none",
                            "nanoseconds",
                            "microseconds",
                            "milliseconds",
                            "seconds",
                            "bytes",
                        ]
                    },
                    "startValue": {"type": "number"},
                    "endValue": {"type": "number"},
                    "samples": {
                        "type": "array",
                        "items": {"type": "array", "items": {"type": "number"}},
                    },
                    "weights": {"type": "array", "items": {"type": "number"}},
                },
            },
        },
        "name": {"type": "string"},
        "activeProfileIndex": {"type": "number"},
        "exporter": {"type": "string"},
    },
}


def test_export_speedscope_writes_the_documented_sampled_format(
    folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "profile.speedscope.json"
    assert main(["export", "speedscope", str(folder), TRACERESPONSE, "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    jsonschema.validate(document, SPEEDSCOPE_SAMPLED_SCHEMA)
    frames = document["shared"]["frames"]
    (profile,) = document["profiles"]
    assert profile["name"] == "web request GET /courses/42/"
    assert len(profile["samples"]) == len(profile["weights"]) == len(STACKS)
    assert all(0 <= i < len(frames) for sample in profile["samples"] for i in sample)
    stacks = {
        ";".join(f"{frames[i]['file']}:{frames[i]['name']}" for i in sample): weight
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True)
    }
    assert stacks == {stack: count * 1.0 for stack, count in STACKS.items()}  # 1 ms a sample
    assert profile["startValue"] == 0 and profile["endValue"] == sum(profile["weights"]) == 118
    assert document["activeProfileIndex"] == 0 and out.stat().st_mode & 0o777 == 0o644


def test_export_speedscope_refuses_a_trace_without_profile(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "none.json"
    assert main(["export", "speedscope", str(folder), T404, "-o", str(out)]) == 1
    assert "has no profile" in capsys.readouterr().err and not out.exists()
    assert main(["export", "speedscope", str(folder), "ffffffff", "-o", str(out)]) == 1
    assert "no single trace matches" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["export", "speedscope", str(folder), "-o", str(out)])
    assert exited.value.code == 2
