"""A real Django page's statements as OTLP spans: the project of tests/django_project served.

``/books/`` lists books through an included row template (``shop/row.html``) whose
``{{ book.author.name }}`` runs a query per book. Exported with ``export otlp``, each
``sql`` line the project wrote is a CLIENT span under the span that ran it, and the
row's statements name the template and its line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from dm_explore.cli import main
from dm_log.contract import parse_time, unix_nanos
from tests.ci_docs.test_otlp import _attrs, _parse, _spans, statement_id
from tests.integrations.test_django_project import _serve

pytestmark = [pytest.mark.django, pytest.mark.xdist_group("django_project")]


def test_a_pages_statements_are_spans_and_the_included_rows_name_their_template(
    tmp_path: Path,
) -> None:
    run = _serve(tmp_path)
    evs, start, end = run.request("/books/")
    assert end["status"] == 200
    assert main(["export", "otlp", str(run.logs), "-o", str(tmp_path / "t.jsonl")]) == 0
    spans = {k: span for k, (_, span) in _spans(_parse((tmp_path / "t.jsonl").read_text())).items()}
    lines = [e for e in evs if e["event"] == "sql" and e.get("trace") == start["trace"]]
    assert len(lines) == end["queries"] >= 10
    assert Counter(s.trace_id.hex() for s in spans.values())[start["trace"]] > len(lines)
    seen: Counter[str] = Counter()  # statements read so far, per span
    for line in lines:
        index = seen[line["span"]]
        seen[line["span"]] += 1
        statement = spans[statement_id(line["trace"], line["span"], index)]
        attrs = _attrs(statement)
        assert statement.kind == Span.SPAN_KIND_CLIENT and attrs["dm.kind"] == "sql"
        assert statement.parent_span_id.hex() == line["span"] and line["span"] in spans
        assert attrs["db.query.text"] == line["sql"] and attrs["db.system"] == "sqlite"
        assert statement.name == attrs["db.operation.name"] == line["sql"].split()[0].upper()
        ended = unix_nanos(parse_time(line["ts"]))  # type: ignore[arg-type]
        assert statement.end_time_unix_nano == ended
        assert statement.start_time_unix_nano == ended - round(line["ms"] * 1_000_000)
        assert statement.status.code == Status.STATUS_CODE_OK and not statement.events
        assert attrs["code.file.path"] == line["site"]["file"]
        assert attrs["code.line.number"] == line["site"]["line"]
        template = line["site"].get("template")
        if template is None:
            assert "dm.template.name" not in attrs and "dm.template.line" not in attrs
        else:
            assert (attrs["dm.template.name"], attrs["dm.template.line"]) == (
                template["name"], template["line"])  # fmt: skip
    page = [s for s in spans.values()
            if s.trace_id.hex() == start["trace"] and _attrs(s)["dm.kind"] == "sql"]  # fmt: skip
    rows = [s for s in page if _attrs(s).get("dm.template.name") == "shop/row.html"]
    assert len(rows) == 8, "{{ book.author.name }} in the included row, once per book"
    for row in rows:
        attrs = _attrs(row)
        assert attrs["dm.template.line"] == 3 and attrs["code.function.name"] == "book_list"
        assert '"shop_author"' in attrs["db.query.text"] and row.name == "SELECT"
        assert spans[row.parent_span_id.hex()].name == "template shop/row.html"  # its include
    begin = [s for s in page if s.name == "BEGIN"]
    assert begin and all(
        str(_attrs(s)["code.file.path"]).endswith("django/contrib/sessions/backends/db.py")
        for s in begin
    )  # the session saved by SessionMiddleware: the library's function
