"""Sending to a real OTLP/HTTP receiver on loopback: encodings, variables, retries, refusals.

The receiver (:mod:`tests.otlp.receiver`) decodes every request with the official
protobuf classes; what it got is compared with the OTLP/JSON export of the same folder.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from dm_explore.cli import main
from dm_explore.outputs.otlp import MAX_ITEMS
from dm_explore.outputs.otlp_send import Endpoint, Refused, Sender, Unreachable, endpoint_from
from dm_log.contract import parse_time, unix_nanos
from tests.ci_docs import fixture
from tests.ci_docs.test_otlp import _parse, _spans, statement_id
from tests.otlp.conftest import dm_explore
from tests.otlp.receiver import Receiver
from tests.otlp.writer import Writer


def _attrs(item: object) -> dict[str, object]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in item.attributes}  # type: ignore[attr-defined]


def test_protobuf_push_carries_what_the_json_export_says(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    assert main(["export", "otlp", str(folder), "-o", str(tmp_path / "t.jsonl")]) == 0
    expected = _spans(_parse((tmp_path / "t.jsonl").read_text()))
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url + "/"]) == 0
    assert {r.path for r in receiver.requests} == {"/v1/traces", "/v1/logs"}
    assert {r.headers["Content-Type"] for r in receiver.requests} == {"application/x-protobuf"}
    got = receiver.spans()
    assert len(got) == len(expected) == 23  # each span once, and each statement's
    for resource, span in got:
        svc, want = expected[span.span_id.hex()]
        assert span == want and resource["service.name"] == svc
        assert resource["host.name"] == "devbox" and isinstance(resource["process.pid"], int)
        assert len(str(resource["service.instance.id"])) == 36
    kinds = {span.span_id.hex(): span.kind for _, span in got}
    assert kinds["00f067aa0ba902b7"] == Span.SPAN_KIND_SERVER
    assert kinds["b7ad6b7169203331"] == Span.SPAN_KIND_CLIENT
    assert kinds["5fb397be34d26b51"] == Span.SPAN_KIND_CONSUMER
    assert kinds["c1d2e3f4a5b6c7d9"] == Span.SPAN_KIND_INTERNAL
    for index in range(5):  # the page's statements: the ids the file export gives
        statement = statement_id(fixture.TRACE_PAGE, "00f067aa0ba902b7", index)
        assert kinds[statement] == Span.SPAN_KIND_CLIENT


def test_json_protocol_and_the_otel_variables(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_HEADERS": "x-team=shop%20team,authorization=Bearer%20abc",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
    }
    result = dm_explore("export", "otlp", str(folder), env=env)
    assert result.returncode == 0, result.stderr
    assert "sent 7 traces (23 spans" in result.stderr
    (first, *_) = receiver.requests
    assert first.path == "/v1/traces" and first.headers["Content-Type"] == "application/json"
    assert first.headers["x-team"] == "shop team"
    assert first.headers["authorization"] == "Bearer abc"
    assert len({s.span_id for _, s in receiver.spans()}) == len(receiver.spans()) == 23
    # the per-signal variable is the whole URL, used as it is
    endpoint = endpoint_from(None, env={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:1/x"})
    assert endpoint is not None and endpoint.url == "http://h:1/x"
    assert endpoint.protocol == "http/protobuf"


def test_429_and_503_are_retried_as_retry_after_asks(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    receiver.script.extend([
        (429, {"Retry-After": "1"}, b"slow down"),
        (503, {}, b"busy"),
        (502, {}, b""),
    ])  # fmt: skip
    began = time.monotonic()
    result = dm_explore("export", "otlp", str(folder), "--endpoint", receiver.url)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began >= 1.0  # waited as the receiver asked
    assert receiver.answered[:4] == [429, 503, 502, 200]
    assert "3 retries" in result.stderr
    assert len(receiver.spans()) == 23  # none lost, none twice


def test_a_4xx_ends_the_run_with_the_receivers_message(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    receiver.script.append((400, {"Content-Type": "text/plain"}, b"bad span: name too long"))
    result = dm_explore("export", "otlp", str(folder), "--endpoint", receiver.url)
    assert result.returncode == 1
    assert "HTTP 400: bad span: name too long" in result.stderr
    assert receiver.answered == [400]  # not retried, nothing more sent


def test_an_unreachable_receiver_is_retried_then_given_up(tmp_path: Path) -> None:
    sender = Sender(Endpoint("http://127.0.0.1:9/v1/traces"), give_up=1.2)
    began = time.monotonic()
    with pytest.raises(Unreachable, match="cannot reach"):
        sender.post(b"")
    assert time.monotonic() - began >= 0.4 and sender.retries >= 1
    with pytest.raises(ValueError):
        Sender(Endpoint("ftp://example/v1/traces"))
    assert issubclass(Refused, Exception)


def _trace_of(span_count: int, folder: Path) -> None:
    """One trace of ``span_count`` custom spans, each the child of the one before."""
    w = Writer(folder, "batch", 777)
    trace = "ab" * 16
    lines = []
    for i in range(span_count):
        ids = {"trace": trace, "span": f"{i + 1:016x}"}
        parent = {"parent": f"{i:016x}"} if i else {}
        lines.append(w.line("span.start", **ids, **parent, name=f"step-{i}"))
        lines.append(w.line("span.end", **ids, **parent, name=f"step-{i}", ms=0.5, outcome="ok"))
    with w.path.open("ab") as out:
        out.write(b"".join(lines))


def test_a_big_trace_goes_in_bounded_requests(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    _trace_of(10_000, folder)
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url]) == 0
    sizes = receiver.request_sizes()
    assert sum(sizes) == 10_000 and max(sizes) <= MAX_ITEMS and len(sizes) >= 3
    ids = Counter(s.span_id.hex() for _, s in receiver.spans())
    assert len(ids) == 10_000 and set(ids.values()) == {1}
    assert main(["export", "otlp", str(folder), "-o", str(tmp_path / "big.jsonl")]) == 0
    lines = (tmp_path / "big.jsonl").read_bytes().splitlines()
    assert len(lines) == len(sizes)  # the file is split the same way, line by line


def test_a_span_with_many_statements_goes_in_bounded_requests(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    w.request(1, sql=10_000)  # a command's loop of queries: 10,001 spans
    w.request(2)
    result = dm_explore("export", "otlp", str(folder), "--endpoint", receiver.url)
    assert result.returncode == 0, result.stderr
    assert "sent 2 traces (10003 spans" in result.stderr
    sizes = receiver.request_sizes()
    assert max(sizes) <= MAX_ITEMS and sum(sizes) == 10_003
    ids = Counter(s.span_id.hex() for _, s in receiver.spans())
    assert len(ids) == 10_003 and set(ids.values()) == {1}
    parents = Counter(s.parent_span_id.hex() for _, s in receiver.spans())
    assert parents[f"{2:016x}"] == 10_000 and parents[f"{3:016x}"] == 1


def test_no_span_is_exported_as_its_own_ancestor(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    trace = "cd" * 16
    a, b, c = "a" * 16, "b" * 16, "c" * 16
    for span, parent in ((a, a), (b, c), (c, b)):  # a its own parent; b and c each other's
        ids = {"trace": trace, "span": span, "parent": parent}
        w.add("span.start", **ids, name=f"s-{span[0]}")
        w.add("span.end", **ids, name=f"s-{span[0]}", ms=1.0, outcome="ok")
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url]) == 0
    spans = {s.span_id.hex(): s for _, s in receiver.spans()}
    assert len(spans) == 3
    assert spans[a].parent_span_id == b"" and _attrs(spans[a])["dm.cyclic_parent"] == a
    parents = {k: s.parent_span_id.hex() for k, s in spans.items()}
    cut = [k for k in (b, c) if not parents[k]]
    assert len(cut) == 1  # exactly one link of the pair is cut, the other kept
    assert _attrs(spans[cut[0]])["dm.cyclic_parent"] in (b, c)
    for start in spans:  # walking up always ends
        seen, node = set(), start
        while node:
            assert node not in seen
            seen.add(node)
            node = parents.get(node, "")


def test_templates_cache_and_profile_data_travel_with_their_spans(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    trace, span = w.request(1, end=False)
    ids = {"trace": trace, "span": span}
    tpl = {"trace": trace, "span": "7" * 16, "parent": span}
    w.add("template.start", **tpl, name="items/row.html", origin="/srv/items/templates/row.html",
          context_keys=["item"], context={"item": "<Item pk=1>"})  # fmt: skip
    w.add("sql", **tpl, sql="SELECT name FROM authors WHERE id = %s", params=[1], ms=0.3,
          alias="default", vendor="sqlite", many=False,
          site={"file": "/srv/items/views.py", "line": 14, "func": "item",
                "template": {"name": "items/row.html", "line": 3}})  # fmt: skip
    w.add("template.end", **tpl, ms=0.8, outcome="ok")
    w.add("cache", **ids, op="get", key="item:1", hit=False, backend="default", ms=0.04,
          site={"file": "/srv/items/views.py", "line": 9, "func": "item"})  # fmt: skip
    w.add("profile", **ids, interval=0.001, samples=12, ms=12.5,
          stacks={"items.views:item;items.db:load": 9, "items.views:item": 3})  # fmt: skip
    w.finish(1)
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url]) == 0
    spans = {s.span_id.hex(): s for _, s in receiver.spans()}
    template = spans["7" * 16]
    assert template.name == "template items/row.html" and template.parent_span_id.hex() == span
    assert template.kind == Span.SPAN_KIND_INTERNAL
    assert _attrs(template)["code.file.path"] == "/srv/items/templates/row.html"
    events = {e.name: _attrs(e) for e in spans[span].events}
    assert events["cache"]["dm.cache.op"] == "get" and events["cache"]["dm.cache.hit"] is False
    assert events["cache"]["dm.cache.key"] == "item:1"
    assert events["profile"]["dm.profile.samples"] == 12
    heaviest = str(events["profile"]["dm.profile.stacks"]).splitlines()[0]
    assert heaviest == "items.views:item;items.db:load 9"
    assert set(events) == {"cache", "profile"}  # statements are spans, not events
    # the view's statement, under the request; the included row's, under the template
    in_view = spans[statement_id(trace, span, 0)]
    assert in_view.parent_span_id.hex() == span and in_view.kind == Span.SPAN_KIND_CLIENT
    assert _attrs(in_view)["db.query.text"] == "SELECT 0 FROM items WHERE id = %s"
    assert _attrs(in_view)["db.system"] == "sqlite"
    assert _attrs(in_view)["code.line.number"] == 12
    assert "dm.template.name" not in _attrs(in_view)
    in_row = spans[statement_id(trace, "7" * 16, 0)]
    assert in_row.parent_span_id.hex() == "7" * 16 and in_row.name == "SELECT"
    assert _attrs(in_row)["dm.template.name"] == "items/row.html"
    assert _attrs(in_row)["dm.template.line"] == 3
    assert _attrs(in_row)["code.function.name"] == "item"
    assert len(spans) == 4  # request, template, and one statement each


def test_the_export_json_is_unchanged_in_shape(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    Writer(folder).request(3)
    assert main(["export", "otlp", str(folder), "-o", str(tmp_path / "o.jsonl")]) == 0
    (line,) = (tmp_path / "o.jsonl").read_bytes().splitlines()
    request = orjson.loads(line)
    span, statement = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert span["spanId"] == f"{4:016x}" and span["kind"] == 2
    # the sql line's ts (the writer's third line), 1.5 ms after the request's start
    end = str(unix_nanos(parse_time("2026-11-23T09:15:00.004500Z")))  # type: ignore[arg-type]
    assert int(end) - int(span["startTimeUnixNano"]) == 1_500_000
    assert statement == {
        "traceId": f"{3:032x}",
        "spanId": statement_id(f"{3:032x}", f"{4:016x}", 0),
        "parentSpanId": f"{4:016x}",
        "name": "SELECT",
        "kind": 3,
        "startTimeUnixNano": str(int(end) - 250_000),
        "endTimeUnixNano": end,
        "attributes": [
            {"key": "db.system", "value": {"stringValue": "sqlite"}},
            {"key": "db.query.text", "value": {"stringValue": "SELECT 0 FROM items WHERE id = %s"}},
            {"key": "db.operation.name", "value": {"stringValue": "SELECT"}},
            {"key": "dm.db.alias", "value": {"stringValue": "default"}},
            {"key": "code.file.path", "value": {"stringValue": "/srv/items/views.py"}},
            {"key": "code.line.number", "value": {"intValue": "12"}},
            {"key": "code.function.name", "value": {"stringValue": "item"}},
            {"key": "dm.kind", "value": {"stringValue": "sql"}},
        ],
        "events": [],
        "status": {"code": 1},
    }


def test_gzip_compression_when_asked(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url]) == 0
    encodings = {r.path: r.headers.get("Content-Encoding") for r in receiver.requests}
    assert encodings == {"/v1/traces": "gzip", "/v1/logs": None}  # the traces' own variable
    assert len(receiver.spans()) == 23


def test_export_needs_a_file_or_an_endpoint_not_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "logs"
    fixture.write_fixture(folder)
    with pytest.raises(SystemExit) as exc:
        main(["export", "otlp", str(folder)])
    assert exc.value.code == 2 and "give -o FILE, --endpoint URL" in capsys.readouterr().err
    assert main(["export", "otlp", str(folder), "-o", "-", "--endpoint", "http://h:1"]) == 2
    assert "not both" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["export", "otlp", str(folder), "--endpoint", "ftp://h/"])
    assert exc.value.code == 2 and "not an http(s) URL" in capsys.readouterr().err
