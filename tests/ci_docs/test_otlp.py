"""OTLP/JSON export, checked the way the Collector reads it: hex ids, protobuf classes."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from collections import Counter
from hashlib import blake2b
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from dm_explore.cli import main
from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.outputs.otlp import write_otlp
from dm_log.contract import parse_time, unix_nanos
from tests.ci_docs import fixture

ROOT = Path(__file__).resolve().parents[2]


def _hex_ids_to_base64(obj: Any) -> Any:
    """What the Collector's OTLP/JSON reader does with ids, in the form json_format accepts."""
    if isinstance(obj, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId") else _hex_ids_to_base64(v)
            for k, v in obj.items()
        }  # fmt: skip
    if isinstance(obj, list):
        return [_hex_ids_to_base64(v) for v in obj]
    return obj


def _parse(text: str) -> list[ExportTraceServiceRequest]:
    """Every line through the protobuf classes, ids decoded as the Collector does."""
    requests = []
    for line in text.splitlines():
        request = ExportTraceServiceRequest()
        json_format.ParseDict(_hex_ids_to_base64(orjson.loads(line)), request)
        requests.append(request)
    return requests


def _export(tmp_path: Path) -> list[ExportTraceServiceRequest]:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    out = io.BytesIO()
    lines = write_otlp(load_folder(folder, max_traces=ALL_TRACES).model, out)
    text = out.getvalue().decode()
    assert text.count("\n") == lines == 7  # one request per trace in the fixture
    return _parse(text)


def _spans(requests: list[ExportTraceServiceRequest]) -> dict[str, tuple[str, Span]]:
    """span id (hex) -> (service.name, span), over every line."""
    found = {}
    for request in requests:
        for rs in request.resource_spans:
            svc = {a.key: a.value.string_value for a in rs.resource.attributes}["service.name"]
            for scope in rs.scope_spans:
                for span in scope.spans:
                    found[span.span_id.hex()] = (svc, span)
    return found


def _attrs(item: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in item.attributes}


def statement_id(trace: str, span: str, index: int) -> str:
    """The span id of a span's ``index``-th statement (from 0, as read), as docs/format.md says."""
    return blake2b(f"{trace}{span}{index}".encode(), digest_size=8).hexdigest()


def statements(spans: dict[str, tuple[str, Span]], parent: Span) -> list[Span]:
    """The statement spans of ``parent``, in the order its ``sql`` lines were read."""
    trace, span_id = parent.trace_id.hex(), parent.span_id.hex()
    found = []
    for index in range(len(spans)):
        entry = spans.get(statement_id(trace, span_id, index))
        if entry is None:
            break
        found.append(entry[1])
    return found


# the fixture's sql lines: span -> how many it ran
STATEMENTS = {"00f067aa0ba902b7": 5, "e457b5a2e4d86bd1": 1, "5fb397be34d26b51": 1,
              "1111111111111111": 1, "2222222222222222": 1, "4444444444444444": 3}  # fmt: skip


def test_every_line_parses_with_the_protobuf_classes_and_ids_have_otlp_sizes(
    tmp_path: Path,
) -> None:
    requests = _export(tmp_path)
    every = [s for r in requests for rs in r.resource_spans for ss in rs.scope_spans
             for s in ss.spans]  # fmt: skip
    spans = _spans(requests)
    # web 4, api 2, worker 2, pytest 3; and a span for each of the 12 statements
    assert len(every) == len(spans) == 11 + sum(STATEMENTS.values()) == 23
    assert Counter(_attrs(s)["dm.kind"] for s in every)["sql"] == 12
    for span_id, count in STATEMENTS.items():
        _svc, parent = spans[span_id]
        assert len(statements(spans, parent)) == count, span_id
    for _svc, span in spans.values():
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
        assert len(span.parent_span_id) in (0, 8)
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 1_700_000_000 * 10**9


def test_the_cross_service_trace_keeps_its_tree_kinds_and_attributes(tmp_path: Path) -> None:
    spans = _spans(_export(tmp_path))
    page = spans["00f067aa0ba902b7"][1]
    call = spans["b7ad6b7169203331"][1]
    served = spans["e457b5a2e4d86bd1"][1]
    task = spans["5fb397be34d26b51"][1]
    assert {spans[s][0] for s in ("00f067aa0ba902b7", "e457b5a2e4d86bd1", "5fb397be34d26b51")} == {
        "web", "api", "worker"}  # fmt: skip
    assert {s.trace_id.hex() for s in (page, call, served, task)} == {fixture.TRACE_PAGE}
    assert page.parent_span_id == b"" and call.parent_span_id.hex() == "00f067aa0ba902b7"
    assert served.parent_span_id.hex() == "b7ad6b7169203331"
    assert task.parent_span_id.hex() == "e457b5a2e4d86bd1"
    assert (page.kind, call.kind, served.kind, task.kind) == (
        Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_SERVER,
        Span.SPAN_KIND_CONSUMER)  # fmt: skip
    assert page.name == "GET courses/<int:pk>/"
    attrs = _attrs(page)
    assert attrs["http.request.method"] == "GET" and attrs["url.path"] == "/courses/42/"
    assert attrs["http.response.status_code"] == 200 and attrs["http.route"] == "courses/<int:pk>/"
    assert page.start_time_unix_nano == unix_nanos(parse_time("2026-11-23T09:15:02.000000Z"))  # type: ignore[arg-type]
    assert page.end_time_unix_nano - page.start_time_unix_nano == 180_800_000
    assert page.status.code == Status.STATUS_CODE_OK
    (log,) = page.events  # statements are spans of their own, not events
    assert log.name == "log" and _attrs(log)["dm.log.message"] == "enrollment cache miss"
    assert _attrs(call)["url.full"] == "http://api:8001/api/enrollments/?course=42"


def test_each_statement_is_a_client_span_under_the_span_that_ran_it(tmp_path: Path) -> None:
    spans = _spans(_export(tmp_path))
    svc, page = spans["00f067aa0ba902b7"]
    sql = statements(spans, page)
    assert len(sql) == 5 and {spans[s.span_id.hex()][0] for s in sql} == {svc} == {"web"}
    for i, statement in enumerate(sql):
        assert statement.trace_id == page.trace_id and statement.parent_span_id == page.span_id
        assert statement.kind == Span.SPAN_KIND_CLIENT and statement.name == "SELECT"
        assert list(statement.events) == [] and statement.status.code == Status.STATUS_CODE_OK
        # the writer stamps a statement as it returns: 2.001 s, 2.002 s... each 1.5 ms long
        end = unix_nanos(parse_time(f"2026-11-23T09:15:02.{i + 1:03d}000Z"))  # type: ignore[arg-type]
        assert statement.end_time_unix_nano == end
        assert statement.start_time_unix_nano == end - 1_500_000
        assert [(a.key, _attrs(statement)[a.key]) for a in statement.attributes] == [
            ("db.system", "sqlite"),
            ("db.query.text", fixture._SELECT_ENROLL),
            ("db.operation.name", "SELECT"),
            ("dm.db.alias", "default"),
            ("code.file.path", "/srv/web/courses/views.py"),
            ("code.line.number", 31),
            ("code.function.name", "detail"),
            ("dm.kind", "sql"),
        ]  # no error, no template: left out
    _, served = spans["e457b5a2e4d86bd1"]
    (count,) = statements(spans, served)
    assert count.parent_span_id == served.span_id and count.name == "SELECT"
    assert _attrs(count)["db.system"] == "postgresql"
    assert count.end_time_unix_nano - count.start_time_unix_nano == 25_000_000
    _, task = spans["5fb397be34d26b51"]
    (update,) = statements(spans, task)
    assert update.name == "UPDATE" and _attrs(update)["db.operation.name"] == "UPDATE"
    assert _attrs(update)["code.function.name"] == "recount"
    assert spans[update.span_id.hex()][0] == "worker"  # under the process that ran it


def test_statement_ids_are_the_same_on_every_export_and_unique_in_a_trace(
    tmp_path: Path,
) -> None:
    first = _spans(_export(tmp_path / "one"))
    again = _spans(_export(tmp_path / "two"))
    assert first == again  # the same folder written again: the same spans, ids and all
    ids = Counter((s.trace_id, s.span_id) for _, s in first.values())
    assert set(ids.values()) == {1}
    # the same statement, same site, run three times in one span: three spans, three ids
    _, request = first["4444444444444444"]
    sql = statements(first, request)
    assert len({s.span_id for s in sql}) == 3 and {s.name for s in sql} == {"SELECT"}
    # the checkouts run the same statement at the same place: ids differ by trace and span
    _, one = first["1111111111111111"]
    _, two = first["2222222222222222"]
    assert statements(first, one)[0].span_id != statements(first, two)[0].span_id


def test_errors_unfinished_spans_and_tests(tmp_path: Path) -> None:
    spans = _spans(_export(tmp_path))
    _, checkout = spans["1111111111111111"]
    assert checkout.status.code == Status.STATUS_CODE_ERROR
    (exc,) = [e for e in checkout.events if e.name == "exception"]
    attrs = _attrs(exc)
    assert attrs["exception.type"] == "KeyError" and attrs["exception.message"] == "'usd'"
    assert 'File "/srv/web/shop/views.py", line 48, in checkout' in attrs["exception.stacktrace"]
    assert attrs["dm.fingerprint"] == "8c1f0e2d3b4a5968"
    _, killed = spans["6666666666666666"]
    assert killed.status.code == Status.STATUS_CODE_ERROR and _attrs(killed)["dm.unfinished"]
    assert killed.end_time_unix_nano > killed.start_time_unix_nano  # ends at its last event
    _, test = spans["c1d2e3f4a5b6c7d9"]
    assert test.kind == Span.SPAN_KIND_INTERNAL and test.name == "tests/test_shop.py::test_checkout"
    assert _attrs(test)["test.case.result.status"] == "failed"


def test_cli_writes_a_file_or_stdout(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    target = tmp_path / "ci.otlp.jsonl"
    assert main(["export", "otlp", str(folder), "-o", str(target)]) == 0
    assert "wrote 7 traces (23 spans, 7 requests)" in capsysbinary.readouterr().err.decode()
    from_file = target.read_text()
    assert len(_spans(_parse(from_file))) == 23
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    result = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", "export", "otlp", str(folder), "-o", "-"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == from_file


def test_cli_refuses_an_unknown_format_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", "zipkin", str(tmp_path), "-o", "-"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["export", "otlp", str(tmp_path / "nope"), "-o", "-"])
    assert exc.value.code == 2


def test_a_statement_is_named_by_its_first_keyword_past_comments() -> None:
    from dm_explore.outputs.otlp_events import sql_operation

    assert sql_operation('SELECT "a" FROM t') == "SELECT"
    assert sql_operation("  (select 1) UNION (select 2)") == "SELECT"
    assert sql_operation("/* controller='books' */ UPDATE t SET n = 1") == "UPDATE"
    assert sql_operation("-- warm the cache\n  with x as (select 1) select * from x") == "WITH"
    assert sql_operation("savepoint \"s1_x1\"") == "SAVEPOINT"
    assert sql_operation("/* never closed SELECT") is None
    assert sql_operation("") is None and sql_operation(5) is None
    assert sql_operation(" " * 100_000 + "!") is None  # no backtracking without end
    assert sql_operation("/*" * 50_000) is None
