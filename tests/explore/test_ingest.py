"""The typed ingest path: spans keep their lines, clean and damaged batches, ids, SQL totals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from dm_explore.ingest import load_folder
from dm_explore.ingest.decode import decode_batch
from dm_explore.ingest.events import Other, RequestStart, Sql
from dm_explore.model import Model
from tests.explore.applying import apply_event
from tests.explore.fixtures import T1, Writer

REQ, CHILD = "00000000000000a1", "00000000000000b2"


def test_span_fields_beyond_the_typed_ones_come_back_from_its_lines(tmp_path: Path) -> None:
    w = Writer("web", 1)
    w.ev("request.start", 1.0, T1, REQ, method="GET", path="/p", remote="10.0.0.7",
         headers={"Accept": "text/html"}, form={"q": "a"})  # fmt: skip
    w.ev("request.end", 1.2, T1, REQ, ms=200.0, outcome="ok", status=201,
         user="17", bytes=18233, queries=3, route="p/", view="shop.views.p")  # fmt: skip
    w.write(tmp_path / "web.jsonl")
    span = load_folder(tmp_path).model.span(REQ)
    assert span is not None and span.start_raw is not None
    assert span.start == {"method": "GET", "path": "/p", "remote": "10.0.0.7",
                          "headers": {"Accept": "text/html"}, "form": {"q": "a"}}  # fmt: skip
    assert span.end is not None and span.end["user"] == "17" and span.end["bytes"] == 18233
    assert span.field("remote") == "10.0.0.7" and span.field("status") == 201
    # What lists and filters read is held on the span itself.
    assert (span.name, span.status, span.route, span.view, span.outcome) == (
        "GET /p",
        201,
        "p/",
        "shop.views.p",
        "ok",
    )


def test_a_bad_line_in_a_batch_costs_only_itself() -> None:
    w = Writer("web", 1)
    w.ev("request.start", 1.0, T1, REQ, method="GET", path="/p")
    w.ev("sql", 1.1, T1, REQ, sql="SELECT 1", ms=0.5, params=[1])
    w.ev("x.deploy", 1.2, version="1.2.3")  # a kind without a class of its own
    w.ev("sql", 1.3, T1, REQ, sql="SELECT 2", ms="slow")  # mistyped field
    w.ev("request.end", 1.4, T1, REQ, ms=400.0, outcome="ok", status=200)
    raws = [line.rstrip(b"\n") for line in w.lines]
    clean, problems = decode_batch(raws[:2] + raws[4:])
    assert problems == [] and [type(e) for e in clean][:2] == [RequestStart, Sql]
    events, problems = decode_batch([*raws[:3], b"", b"{not json", *raws[3:]])
    assert [type(e).__name__ for e in events] == [
        "RequestStart", "Sql", "Other", "NoneType", "NoneType", "NoneType", "RequestEnd"
    ]  # fmt: skip
    assert isinstance(events[2], Other) and events[2].data["version"] == "1.2.3"
    assert [p.line for p in problems] == [5, 6]  # line i + 1; the blank line is no problem
    assert problems[0].reason.startswith("not JSON") and "ms" in problems[1].reason


def test_ids_not_in_lowercase_hex_are_refused_before_anything_is_made(tmp_path: Path) -> None:
    w = Writer("web", 1)
    w.ev("request.start", 1.0, T1.upper(), REQ, method="GET", path="/upper")
    w.ev("request.start", 1.1, T1, "00000000000000G1", method="GET", path="/g")
    w.ev("request.start", 1.2, T1, REQ, "zzzzzzzzzzzzzzzz", method="GET", path="/parent")
    w.ev("request.start", 1.3, T1, CHILD, method="GET", path="/fine")
    w.write(tmp_path / "web.jsonl")
    model = load_folder(tmp_path).model
    info = next(iter(model.files.values()))
    assert info.invalid == 3 and [p.line for p in info.problems] == [1, 2, 3]
    assert "lowercase hex" in info.problems[0].reason and "parent" in info.problems[2].reason
    assert list(model.spans) == [(T1, CHILD)] and len(model.traces) == 1


def test_point_events_of_a_known_span_are_refused_for_ids_not_in_lowercase_hex(
    tmp_path: Path,
) -> None:
    w = Writer("web", 1)
    w.ev("request.start", 1.0, T1, REQ, method="GET", path="/p")
    w.ev("sql", 1.1, T1.upper(), REQ, sql="SELECT 1", ms=1.0)  # the span is known by now
    w.ev("log", 1.2, T1, REQ, "ABCDEF0123456789", msg="parent in capitals")
    w.ev("sql", 1.3, T1, REQ, sql="SELECT 2", ms=2.0)
    w.ev("request.end", 1.4, T1, REQ, ms=400.0, outcome="ok", status=200)
    w.write(tmp_path / "web.jsonl")
    model = load_folder(tmp_path).model
    info = next(iter(model.files.values()))
    assert [p.line for p in info.problems] == [2, 3] and info.invalid == 2
    assert "lowercase hex" in info.problems[0].reason and "parent" in info.problems[1].reason
    span = model.span(REQ)
    assert span is not None and [q.sql for q in span.sql] == ["SELECT 2"] and not span.logs
    assert (model.totals["events"], model.totals["sql"], info.events) == (3, 1, 3)


def test_a_file_two_processes_wrote_gives_each_line_to_its_writer(tmp_path: Path) -> None:
    # Lines of two processes merged into one file (a concatenated artifact, say): spans,
    # lines of no span and exceptions each belong to the process that wrote them.
    web, worker = Writer("web", 1), Writer("worker", 2, host="h2")
    web.ev("request.start", 1.0, T1, REQ, method="GET", path="/p")
    worker.ev("log", 1.1, level="info", msg="worker idle")
    worker.ev("span.start", 1.2, T1, CHILD, REQ, name="job")
    web.ev("sql", 1.3, T1, REQ, sql="SELECT 1", ms=1.0)
    worker.ev("exception", 1.4, T1, CHILD, REQ, type="KeyError", message="k",
              fingerprint="fp1", frames=[])  # fmt: skip
    web.ev("log", 1.5, level="info", msg="web idle")
    web.ev("request.end", 1.6, T1, REQ, ms=600.0, outcome="ok", status=200)
    merged = sorted(web.lines + worker.lines, key=lambda line: orjson.loads(line)["ts"])
    (tmp_path / "merged.jsonl").write_bytes(b"".join(merged))
    model = load_folder(tmp_path).model
    web_key, worker_key = ("web", "h1", 1), ("worker", "h2", 2)
    assert set(model.processes) == {web_key, worker_key}
    assert [r.msg for r in model.processes[web_key].logs] == ["web idle"]
    assert [r.msg for r in model.processes[worker_key].logs] == ["worker idle"]
    request, job = model.span(REQ), model.span(CHILD)
    assert request is not None and job is not None
    assert (request.process, job.process) == (web_key, worker_key)
    assert model.issues["fp1"].services == {"worker"}
    assert next(iter(model.files.values())).process == web_key  # the first line's writer


def test_a_spans_statements_come_back_with_every_field_as_written(tmp_path: Path) -> None:
    w = Writer("web", 1)
    w.ev("request.start", 1.0, T1, REQ, method="GET", path="/p")
    w.ev("sql", 1.1, T1, REQ, sql="SELECT 1 WHERE id = %s", params=[7], ms=1.5,
         alias="replica", vendor="postgresql", many=True, error="deadlock",
         site={"file": "/app/views.py", "line": 12, "func": "page"})  # fmt: skip
    w.ev("sql", 1.2, T1, REQ, sql="SELECT 2", params={"a": 1}, ms=2.25)
    w.ev("sql", 1.3, T1, REQ, sql="SELECT 3")  # no time given
    w.ev("log", 1.4, level="info", msg="outside any span")
    w.ev("sql", 1.5, sql="SELECT 4", ms=4.0)  # a statement of no span: kept by its process
    w.ev("request.end", 1.6, T1, REQ, ms=600.0, outcome="ok", status=200)
    w.write(tmp_path / "web.jsonl")
    model = load_folder(tmp_path).model
    span = model.span(REQ)
    assert span is not None
    assert (len(span.sql), span.sql_ms, span.queries, span.queries_ms) == (3, 3.75, 3, 3.75)
    first, second, third = span.sql
    assert (first.sql, first.args, first.params, first.ms) == (
        "SELECT 1 WHERE id = %s", (7,), "[7]", 1.5
    )  # fmt: skip
    assert (first.alias, first.vendor, first.many, first.error) == (
        "replica", "postgresql", True, "deadlock"
    )  # fmt: skip
    assert first.site_text() == "/app/views.py:12 in page"
    written = datetime(2026, 11, 23, 9, 0, 1, 100000, tzinfo=UTC)  # second 1.1
    assert first.at == written and first.ts == pytest.approx(written.timestamp())
    assert (second.params, third.ms, third.many, third.site) == ('{"a":1}', 0.0, False, None)
    assert [q.sql for q in span.sql[1:]] == ["SELECT 2", "SELECT 3"] and span.sql[-1] == third
    process = model.processes[("web", "h1", 1)]
    assert [(q.sql, q.ms) for q in process.sql] == [("SELECT 4", 4.0)]
    assert model.totals["sql"] == 4


def test_an_error_read_before_its_callers_still_marks_them(tmp_path: Path) -> None:
    # The api's file is read first: its exception is counted on spans whose callers in
    # the web's file are not known yet. When they arrive, the request is marked too.
    api, web = Writer("api", 2), Writer("web", 1)
    api.ev("request.start", 1.1, T1, CHILD, "00000000000000c3", method="GET", path="/api/")
    api.ev("exception", 1.2, T1, CHILD, "00000000000000c3", type="KeyError", message="k",
           fingerprint="fp1", frames=[])  # fmt: skip
    api.ev("request.end", 1.3, T1, CHILD, "00000000000000c3", ms=200.0, outcome="error",
           status=500)  # fmt: skip
    web.ev("request.start", 1.0, T1, REQ, method="GET", path="/p")
    web.ev("http.start", 1.05, T1, "00000000000000c3", REQ, method="GET", url="http://api/")
    web.ev("http.end", 1.4, T1, "00000000000000c3", REQ, ms=350.0, outcome="ok", status=200)
    web.ev("request.end", 1.5, T1, REQ, ms=500.0, outcome="ok", status=200)
    api.write(tmp_path / "a-api.jsonl")
    web.write(tmp_path / "b-web.jsonl")
    model = load_folder(tmp_path).model
    request, call, served = (model.span(i) for i in (REQ, "00000000000000c3", CHILD))
    assert request is not None and call is not None and served is not None
    assert [c.span_id for c in call.children] == [CHILD]
    assert (served.errors, call.errors, request.errors) == (1, 1, 1)
    assert request.has_error and request.outcome == "ok"


def test_every_process_of_a_merged_file_is_known(tmp_path: Path) -> None:
    web, other = Writer("web", 1), Writer("web", 2)
    web.ev("request.start", 1.0, T1, REQ, method="GET", path="/p")
    other.ev("sql", 1.1, T1, REQ, sql="SELECT 1", ms=1.0)  # on a span pid 1 made
    other.ev("log", 1.2, T1, REQ, level="info", msg="from pid 2")
    web.ev("request.end", 1.3, T1, REQ, ms=300.0, outcome="ok", status=200)
    lines = [web.lines[0], *other.lines, web.lines[1]]
    (tmp_path / "merged.jsonl").write_bytes(b"".join(lines))
    model = load_folder(tmp_path).model
    assert set(model.processes) == {("web", "h1", 1), ("web", "h1", 2)}
    span = model.span(REQ)
    assert span is not None and len(span.sql) == 1 and len(span.logs) == 1


def test_a_request_counts_sql_of_children_whose_parent_came_later() -> None:
    model = Model()
    fid = model.add_file("x")
    w = Writer("api", 2)
    w.ev("span.start", 1.1, T1, CHILD, REQ, name="work")  # its parent is not known yet
    w.ev("sql", 1.2, T1, CHILD, sql="SELECT 1", ms=2.0)
    w.ev("sql", 1.3, T1, CHILD, sql="SELECT 2", ms=3.0)
    w.ev("request.start", 1.0, T1, REQ, method="GET", path="/api/")
    w.ev("sql", 1.4, T1, REQ, sql="SELECT 3", ms=1.0)
    for line in w.lines:
        apply_event(model, fid, orjson.loads(line))
    request = model.span(REQ)
    assert request is not None and [c.span_id for c in request.children] == [CHILD]
    assert (request.queries, request.queries_ms, request.sql_ms) == (3, 6.0, 1.0)
    assert model.totals["sql"] == 3


def test_model_apply_of_a_dict_refuses_mistyped_fields_without_raising() -> None:
    model = Model()
    fid = model.add_file("x")
    event = orjson.loads(Writer("s", 1).ev("sql", 1.0, T1, REQ, sql="SELECT 1", ms=1.0).lines[0])
    apply_event(model, fid, {**event, "ms": "fast"})
    assert model.spans == {} and model.files[fid].problems
    apply_event(model, fid, event)
    assert model.span(REQ) is not None and model.totals["sql"] == 1
