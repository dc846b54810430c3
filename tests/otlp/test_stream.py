"""The streamed export (``--endpoint``) against the model's export (``-o``): the same spans.

``export otlp --endpoint`` maps each span from its lines as they are read, without
the model; the file export maps the model's spans. Both are decoded with the
official protobuf classes and compared span by span, field by field, on a folder
with every kind of span, statement span and span event, ends without starts, spans
cut short, retries and 4xx.
"""

from __future__ import annotations

import io
from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.ingest.raw_lines import folder_batches
from dm_explore.outputs.otlp import MAX_ITEMS, write_otlp
from dm_explore.outputs.otlp_stream import Stream
from tests.ci_docs.test_otlp import _parse, statement_id
from tests.otlp.receiver import CLASSES, span_count
from tests.otlp.writer import Writer

SITE = {"file": "/srv/app/views.py", "line": 12, "func": "view"}


def write_kinds(folder: Path) -> None:
    w = Writer(folder)
    trace = "ab" * 16
    ids = {"trace": trace, "span": "1" * 16}
    w.add("request.start", **ids, method="POST", path="/pay/", query="a=1", scheme="https",
          remote="10.0.0.1", user="ann")  # fmt: skip
    w.add("cache", **ids, op="get", key="k1", hit=False, backend="redis", ms=0.4, site=SITE)
    w.add("cache", **ids, op="get_many", keys=["a", 2], hits=1, ms=1)
    w.add("sql", **ids, sql="SELECT 1", ms=2, alias="default", vendor="postgresql", site=SITE)
    w.add("sql", **ids, sql="SELECT 2", error="boom", vendor="postgresql")
    w.add("log", **ids, level="error", msg="payment refused", logger="pay", site=SITE)
    w.add("exception", **ids, type="ValueError", message="bad card", frames=[],
          fingerprint="0123456789abcdef", handled=True, mechanism="user")  # fmt: skip
    w.add("exception", **ids, type="celery.exceptions.Retry", message="again", frames=[],
          fingerprint="0123456789abcdee")  # fmt: skip
    tpl = {"trace": trace, "span": "2" * 16, "parent": "1" * 16}
    w.add("template.start", **tpl, name="pay.html", origin="/srv/app/pay.html",
          context_keys=["form"])  # fmt: skip
    w.add("template.end", **tpl, name="pay.html", ms=0.7, outcome="ok")
    w.add("profile", **ids, interval=0.001, samples=3, ms=3.0, stacks={"a:b;c:d": 2, "a:b": 1})
    w.add("request.end", **ids, ms=9.5, outcome="error", status=403,
          client_error="PermissionDenied", route="pay/", view="app.views.pay", bytes=120,
          queries=2, sql_ms=2.0)  # fmt: skip
    task = {"trace": "cd" * 16, "span": "3" * 16}
    w.add("task.start", **task, task="app.tasks.charge", task_id="t-1", queue="billing")
    w.add("task.end", **task, ms=4.0, outcome="error", state="RETRY", retries=1, error="Retry")
    custom = {"trace": "cd" * 16, "span": "4" * 16, "parent": "3" * 16}
    w.add("deploy.start", **custom, name="deploy web")
    w.add("deploy.end", **custom, outcome="ok")  # no ms: from the start
    alone = {"trace": "ef" * 16, "span": "5" * 16}
    w.add("sql", **alone, sql="SELECT 3", ms=1.0)
    w.add("sql", **alone, sql="select 3", ms=-1.0)  # a duration no clock gives
    w.add("span.end", **alone, name="orphan end", ms=3.0, outcome="ok")  # its start never written
    span = {"trace": "ef" * 16, "span": "6" * 16}
    w.add("span.start", **span, name="import", fields={"rows": 10, "dry": True})
    w.add("span.end", **span, name="import", ms=1.25, outcome="ok")
    cmd = {"trace": "12" * 16, "span": "7" * 16}
    w.add("command.start", **cmd, command="rebuild", interval=5.0)
    w.add("sql", **cmd, sql="SELECT 4", ms=0.5)
    w.add("command.heartbeat", **cmd, interval=5.0)  # and then nothing: cut short


def spans_of(requests: list[object]) -> dict[bytes, Span]:
    return {
        s.span_id: s
        for r in requests
        for rs in r.resource_spans  # type: ignore[attr-defined]
        for ss in rs.scope_spans
        for s in ss.spans
    }


def test_the_stream_maps_every_span_as_the_model_does(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_kinds(folder)
    out = io.BytesIO()
    write_otlp(load_folder(folder, max_traces=ALL_TRACES).model, out)
    want = spans_of(_parse(out.getvalue().decode()))
    bodies = [body for signal, body, _ in Stream(folder_batches(folder), ("traces",))]
    got = spans_of([CLASSES["traces"].FromString(body) for body in bodies])
    # 7 spans and 5 statements: two in the request, two in the orphan end, one in the command
    assert len(want) == 12 and set(got) == set(want)
    for span_id, span in want.items():
        assert got[span_id] == span, span.name
    statements = [s for s in want.values() if s.kind == Span.SPAN_KIND_CLIENT]
    assert sorted((s.parent_span_id.hex(), s.span_id.hex()) for s in statements) == sorted(
        (parent, statement_id(trace, parent, i))
        for trace, parent, count in (("ab" * 16, "1" * 16, 2), ("ef" * 16, "5" * 16, 2),
                                     ("12" * 16, "7" * 16, 1))
        for i in range(count)
    )  # fmt: skip
    ok, failed = (got[bytes.fromhex(statement_id("ab" * 16, "1" * 16, i))] for i in (0, 1))
    assert ok.status.code == Status.STATUS_CODE_OK and ok.name == "SELECT"
    assert ok.end_time_unix_nano - ok.start_time_unix_nano == 2_000_000
    assert failed.status.code == Status.STATUS_CODE_ERROR and failed.status.message == "boom"
    assert {a.key: a.value.string_value for a in failed.attributes}["dm.sql.error"] == "boom"
    assert failed.start_time_unix_nano == failed.end_time_unix_nano  # no ms: no length
    negative = got[bytes.fromhex(statement_id("ef" * 16, "5" * 16, 1))]
    assert negative.name == "SELECT"  # the keyword in capitals
    assert negative.start_time_unix_nano == negative.end_time_unix_nano  # never ends first
    cut = got[bytes.fromhex("7" * 16)]  # still open: ends at its last line, marked
    assert any(a.key == "dm.unfinished" for a in cut.attributes)
    assert cut.status.message == "no end: still running or killed"


def test_requests_stay_bounded_and_the_json_form_matches(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 400):
        w.request(n, sql=3)
    stream = Stream(folder_batches(folder), ("traces",), max_items=100)
    bodies = [body for _, body, _ in stream]
    assert len(bodies) >= 16  # 399 spans with 3 statements each: 4 items a span, 100 at most
    sizes = [span_count(CLASSES["traces"].FromString(b)) for b in bodies]
    assert max(sizes) < 100 + 4
    got = spans_of([CLASSES["traces"].FromString(b) for b in bodies])
    json_bodies = [b for _, b, _ in Stream(folder_batches(folder), ("traces",), json=("traces",))]
    from_json = spans_of(_parse(b"\n".join(json_bodies).decode()))
    assert len(got) == 399 * 4 and got == from_json
    assert len(stream.open) == 0 and len(stream.trace_ids) == 399
    assert MAX_ITEMS == 4096


def test_a_span_with_more_statements_than_a_request_holds_is_spread(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    w.request(1, sql=2)
    w.request(2, sql=350)  # a loop of queries: 351 spans, more than a request's 100
    w.request(3, sql=2)
    bodies = [body for _, body, _ in Stream(folder_batches(folder), ("traces",), max_items=100)]
    requests = [CLASSES["traces"].FromString(b) for b in bodies]
    sizes = [span_count(r) for r in requests]
    assert max(sizes) <= 100 and sum(sizes) == 3 + 2 + 350 + 2
    out = io.BytesIO()
    write_otlp(load_folder(folder, max_traces=ALL_TRACES).model, out)
    want = spans_of(_parse(out.getvalue().decode()))
    assert spans_of(requests) == want  # each once, mapped as the model does
