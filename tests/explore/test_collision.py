"""Two traces whose spans share a span id (another writer's collision) stay two traces.

A shell script and a Python service each start a request with the same span id
in different traces; each has a child whose parent link names that shared id,
and point events (sql, log, panel, exception) of each trace. Every view keeps
them apart: the model, ``tree``, ``summary``, ``report``, the OTLP export and
the TUI.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from dm_explore.cli import main
from dm_explore.ingest import load_folder
from dm_explore.model import span_sql, trace_rows
from tests.explore.fixtures import Writer

TA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
TB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
SHARED = "5a5a5a5a5a5a5a5a"  # the span id both writers chose
CHILD_A, CHILD_B = "00000000000000a1", "00000000000000b1"


def collision(folder: Path) -> Path:
    """web (trace A) and shop (trace B), both with request span SHARED and a child under it."""
    web = Writer("web", 11)
    web.ev("request.start", 1.0, TA, SHARED, method="GET", path="/web-page/")
    web.ev("span.start", 1.1, TA, CHILD_A, SHARED, name="render-a")
    web.ev("sql", 1.15, TA, CHILD_A, SHARED, sql="SELECT a", ms=1.0)
    web.ev("span.end", 1.2, TA, CHILD_A, SHARED, ms=100.0, outcome="ok", name="render-a")
    web.ev("sql", 1.25, TA, SHARED, sql="SELECT web", ms=2.0)
    web.ev("log", 1.3, TA, SHARED, level="info", msg="web log")
    web.ev("request.end", 1.5, TA, SHARED, ms=500.0, outcome="ok", status=200)
    web.write(folder / "web.h1.11.jsonl")
    shop = Writer("shop", 22, host="h2")
    shop.ev("request.start", 1.05, TB, SHARED, method="POST", path="/api/cart/")
    shop.ev("span.start", 1.12, TB, CHILD_B, SHARED, name="price-b")
    shop.ev("span.end", 1.22, TB, CHILD_B, SHARED, ms=100.0, outcome="ok", name="price-b")
    for second in (1.26, 1.27, 1.28):
        shop.ev("sql", second, TB, SHARED, sql="SELECT shop", ms=3.0)
    shop.ev("panel", 1.3, TB, SHARED, panel="Cart", type="text", content="3 items")
    shop.ev(
        "exception", 1.35, TB, SHARED, type="KeyError", message="'sku'", fingerprint="f00d",
        frames=[],
    )  # fmt: skip
    shop.ev("request.end", 1.6, TB, SHARED, ms=550.0, outcome="error", status=500)
    shop.write(folder / "shop.h2.22.jsonl")
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return collision(tmp_path / "logs")


def test_the_model_keeps_two_traces_and_resolves_parents_within_each(folder: Path) -> None:
    model = load_folder(folder).model
    assert sum(info.invalid for info in model.files.values()) == 0
    assert set(model.traces) == {TA, TB} and len(model.spans) == 4 and len(model.requests) == 2
    web, shop = model.span(SHARED, TA), model.span(SHARED, TB)
    assert web is not None and shop is not None and web is not shop
    assert (web.svc, web.name, web.status) == ("web", "GET /web-page/", 200)
    assert (shop.svc, shop.name, shop.status) == ("shop", "POST /api/cart/", 500)
    assert [c.name for c in web.children] == ["render-a"]
    assert [c.name for c in shop.children] == ["price-b"]
    assert [r.sql for r in span_sql(model, web)[0]] == ["SELECT a", "SELECT web"]
    assert [r.sql for r in span_sql(model, shop)[0]] == ["SELECT shop"] * 3
    assert [log.msg for log in web.logs] == ["web log"] and not shop.logs
    assert list(shop.panels) == ["Cart"] and not web.panels
    assert len(shop.exceptions) == 1 and not web.exceptions
    assert not web.has_error and shop.has_error
    assert model.issues["f00d"].spans == [shop.ref]
    for trace_id, expected in ((TA, ["web"] * 2), (TB, ["shop"] * 2)):
        trace = model.traces[trace_id]
        rows = trace_rows(trace)
        assert [row.span.svc for row in rows] == expected and trace.services == {expected[0]}
        assert [row.depth for row in rows] == [0, 1] and not any(r.waiting for r in rows)
    assert model.span(web.ref) is web and model.span(shop.key) is shop


def test_tree_summary_report_and_otlp_keep_them_apart(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for trace_id, svc, child in ((TA, "web", "render-a"), (TB, "shop", "price-b")):
        assert main(["tree", str(folder), trace_id]) == 0
        out = capsys.readouterr().out
        assert f"services: {svc}" in out and child in out
        assert "parent not seen" not in out
    assert main(["summary", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["requests"] == 2 and summary["traces"] == 2

    main(["report", str(folder), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    rows = {(r["trace"], r["svc"]): r for r in report["requests"]}
    assert set(rows) == {(TA, "web"), (TB, "shop")}
    assert rows[TA, "web"]["queries"] == 2 and rows[TB, "shop"]["queries"] == 3
    assert rows[TB, "shop"]["errors"] and not rows[TA, "web"]["errors"]
    assert len(report["slowest_requests"]) == 2

    out = tmp_path / "otlp.jsonl"
    assert main(["export", "otlp", str(folder), "-o", str(out)]) == 0
    services: dict[str, set[str]] = {}
    for line in out.read_bytes().splitlines():
        for resource in orjson.loads(line)["resourceSpans"]:
            svc = next(
                a["value"]["stringValue"]
                for a in resource["resource"]["attributes"]
                if a["key"] == "service.name"
            )
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    services.setdefault(span["traceId"], set()).add(svc)
    assert len(services) == 2 and sorted(map(sorted, services.values())) == [["shop"], ["web"]]
