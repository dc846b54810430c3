"""A line's time is one instant whatever its offset, in every view: TUI, tail, tree, report, OTLP.

Three services write one trace, each stamping its lines with another offset
(``+02:00``, ``-05:30``, ``Z``). Read as instants, the web request starts at
05:25:37.100 UTC, the api request 100 ms later and the task 200 ms later; any
view that dropped or misread an offset would put them hours apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.outputs.otlp import export_requests
from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.widgets.request_list import RequestList
from dm_log.contract import epoch_seconds, format_time, parse_time, unix_nanos

ROOT = Path(__file__).resolve().parents[2]
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
WEB, API, TASK = "1000000000000001", "2000000000000001", "3000000000000001"
START = datetime(2026, 11, 23, 5, 25, 37, 100000, tzinfo=UTC)  # the web request, in UTC
PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE_THIRTY = timezone(-timedelta(hours=5, minutes=30))

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


def _stamp(at_ms: float, tz: timezone) -> str:
    """START + at_ms, written in zone ``tz`` with microseconds and its offset (``Z`` for UTC)."""
    text = (START + timedelta(milliseconds=at_ms)).astimezone(tz).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def _line(svc: str, pid: int, tz: timezone, at_ms: float, kind: str, **fields: Any) -> bytes:
    event = {"v": 1, "ts": _stamp(at_ms, tz), "event": kind, "svc": svc, "host": "h1", "pid": pid}
    event.update(fields)
    return orjson.dumps(event) + b"\n"


def _folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    web = dict(trace=TRACE, span=WEB)
    api = dict(trace=TRACE, span=API, parent=WEB)
    task = dict(trace=TRACE, span=TASK, parent=API)
    exc = dict(type="ValueError", message="first", fingerprint="00000000000000aa", frames=[])
    (folder / "web.jsonl").write_bytes(
        _line("web", 1, PLUS_TWO, 0, "request.start", method="GET", path="/page/", **web)
        + _line("web", 1, PLUS_TWO, 50, "log", level="info", msg="from web", **web)
        + _line("web", 1, PLUS_TWO, 400, "exception", **exc, **web)
        # the same file, another offset: as text this line sorts first, as an instant last
        + _line("web", 1, MINUS_FIVE_THIRTY, 450, "exception", **{**exc, "message": "later"}, **web)
        + _line("web", 1, PLUS_TWO, 500, "request.end", ms=500.0, outcome="ok", status=200, **web)
    )
    (folder / "api.jsonl").write_bytes(
        _line("api", 2, MINUS_FIVE_THIRTY, 100, "request.start", method="GET", path="/api/", **api)
        + _line("api", 2, MINUS_FIVE_THIRTY, 150, "sql", sql="SELECT 1", ms=1.0, **api)
        + _line("api", 2, MINUS_FIVE_THIRTY, 300, "exception", **exc, **api)
        + _line("api", 2, MINUS_FIVE_THIRTY, 350, "request.end", ms=250.0, outcome="ok", **api)
    )
    (folder / "worker.jsonl").write_bytes(
        _line("worker", 3, UTC, 200, "task.start", task="send", **task)
        + _line("worker", 3, UTC, 250, "task.end", ms=50.0, outcome="ok", **task)
    )
    return folder


def _cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_contract_reads_every_offset_to_one_instant() -> None:
    stamps = [_stamp(0, PLUS_TWO), _stamp(0, MINUS_FIVE_THIRTY), _stamp(0, UTC)]
    assert stamps == [
        "2026-11-23T07:25:37.100000+02:00",
        "2026-11-22T23:55:37.100000-05:30",
        "2026-11-23T05:25:37.100000Z",
    ]
    assert {parse_time(s) for s in stamps} == {START}
    assert {epoch_seconds(s) for s in stamps} == {START.timestamp()}
    assert {unix_nanos(parse_time(s)) for s in stamps} == {1_795_411_537_100_000_000}
    # displayed rounded to the millisecond, not cut: .0496 is .050, and a carry reaches the second
    assert format_time(START.timestamp() + 0.9496) == "05:25:38.050"
    assert format_time(START.timestamp() + 0.8999996) == "05:25:38.000"


async def test_every_view_shows_the_same_instant_for_any_offset(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "logs")
    model = load_folder(folder, max_traces=ALL_TRACES).model
    assert sum(info.invalid for info in model.files.values()) == 0
    web, api, task = (model.span(s) for s in (WEB, API, TASK))
    assert [web.start_ts, api.start_ts, task.start_ts] == [
        (START + timedelta(milliseconds=d)).timestamp() for d in (0, 100, 200)
    ]

    # TUI: the request list's time column
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause(0.2)
        listing = app.query_one(RequestList)
        lines = ["".join(seg.text for seg in listing.render_line(y)) for y in (1, 2)]
    assert lines[0].startswith("05:25:37.200") and "/api/" in lines[0]  # newest first
    assert lines[1].startswith("05:25:37.100") and "/page/" in lines[1]

    # tail: every event in instant order, each at its UTC time
    tail = _cli("tail", str(folder), "--no-follow").splitlines()
    assert [line.split()[0] for line in tail] == [
        "05:25:37.100", "05:25:37.150", "05:25:37.200", "05:25:37.250", "05:25:37.300",
        "05:25:37.350", "05:25:37.400", "05:25:37.450", "05:25:37.500", "05:25:37.550",
        "05:25:37.600",
    ]  # fmt: skip
    assert [line.split()[1] for line in tail][:3] == ["web[1]", "web[1]", "api[2]"]

    # tree: offsets from the trace's first start
    tree = _cli("tree", str(folder), TRACE[:8]).splitlines()
    assert "+0.0 ms" in tree[1] and "/page/" in tree[1]
    assert "+100.0 ms" in tree[2] and "/api/" in tree[2]
    assert "+200.0 ms" in tree[3] and "send" in tree[3]

    # report: a request's errors in the order they happened, not in the order of their text
    report = json.loads(_cli("report", str(folder), "--format", "json"))
    (page,) = [r for r in report["requests"] if r["name"] == "GET /page/"]
    assert [e["message"] for e in page["errors"]] == ["first", "later"]

    # OTLP: span starts, exception events and statements in unix nanoseconds
    (request,) = export_requests(model)
    spans = {
        s["spanId"]: s
        for resource in request["resourceSpans"]
        for scope in resource["scopeSpans"]
        for s in scope["spans"]
    }
    start_ns = unix_nanos(START)
    assert [int(spans[s]["startTimeUnixNano"]) - start_ns for s in (WEB, API, TASK)] == [
        0, 100_000_000, 200_000_000,
    ]  # fmt: skip
    web_events = [(e["name"], int(e["timeUnixNano"]) - start_ns) for e in spans[WEB]["events"]]
    api_events = [(e["name"], int(e["timeUnixNano"]) - start_ns) for e in spans[API]["events"]]
    assert web_events == [
        ("log", 50_000_000),
        ("exception", 400_000_000),
        ("exception", 450_000_000),
    ]
    assert api_events == [("exception", 300_000_000)]
    (statement,) = [s for s in spans.values() if s.get("parentSpanId") == API and s["kind"] == 3]
    assert statement["name"] == "SELECT"  # ends at its line's instant, 1 ms long
    assert int(statement["endTimeUnixNano"]) - start_ns == 150_000_000
    assert int(statement["startTimeUnixNano"]) - start_ns == 149_000_000
    assert int(spans[API]["endTimeUnixNano"]) - start_ns == 350_000_000
