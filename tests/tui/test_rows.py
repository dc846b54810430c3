"""The incremental request rows agree with the model's own filter and order at every step."""

from __future__ import annotations

import random
from typing import Any

import pytest

from dm_explore.model import Model, RequestFilter, filter_requests
from dm_explore.tui.rows import RequestRows
from tests.explore.applying import apply_event

FILTERS = (
    RequestFilter(),
    RequestFilter(status="5xx"),
    RequestFilter(errors_only=True),
    RequestFilter(in_flight_only=True),
    RequestFilter(slow_ms=50.0),
    RequestFilter(service="api", text="/a"),
)


def _event(kind: str, second: float, span: str, trace: str, **fields: Any) -> dict[str, Any]:
    whole, micros = int(second), round((second - int(second)) * 1_000_000)
    event = {
        "v": 1,
        "ts": f"2026-11-23T09:{whole // 60:02d}:{whole % 60:02d}.{micros:06d}Z",
        "event": kind,
        "svc": "api" if int(span, 16) % 3 else "web",
        "host": "h",
        "pid": 1,
        "trace": trace,
        "span": span,
    }
    event.update(fields)
    return event


def _stream(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Requests that start, sometimes raise, and end (or not) out of order."""
    events: list[tuple[float, int, dict[str, Any]]] = []
    for i in range(count):
        span, trace = f"{i + 1:016x}", f"{i // 2 + 1:032x}"
        start = rng.uniform(0, 600)
        path = rng.choice(["/a/", "/ab/", "/b/"])
        begin = _event("request.start", start, span, trace, method="GET", path=path)
        events.append((start, i, begin))
        if rng.random() < 0.2:
            exc = {"type": "KeyError", "message": "x", "fingerprint": f"f{i % 3}"}
            raised = _event("exception", start + 0.001, span, trace, **exc)
            events.append((start + 0.001, i, raised))
        if rng.random() < 0.8:
            ms = rng.uniform(1, 200)
            status = rng.choice([200, 200, 404, 500])
            end = _event("request.end", start + ms / 1000, span, trace, ms=ms, status=status,
                         outcome="error" if status >= 500 else "ok")  # fmt: skip
            events.append((start + ms / 1000 + rng.uniform(0, 5), i, end))
    events.sort(key=lambda e: (e[0], e[1]))
    return [e for _, _, e in events]


@pytest.mark.parametrize("batch", [40, 400])
@pytest.mark.parametrize("max_traces", [50_000, 40])
@pytest.mark.parametrize("order", ["newest", "slowest", "oldest"])
def test_rows_match_filter_requests_as_the_model_grows(
    order: str, max_traces: int, batch: int
) -> None:
    rng = random.Random(f"{order}{max_traces}{batch}")
    model = Model(max_traces=max_traces)
    file_id = model.add_file("x.jsonl")
    rows = [RequestRows(flt, order) for flt in FILTERS]
    events = _stream(rng, 300 if batch < 100 else 1500)
    step = 0
    while step < len(events):
        for event in events[step : step + rng.randint(1, batch)]:
            apply_event(model, file_id, event)
            step += 1
        for flt, kept in zip(FILTERS, rows, strict=True):
            kept.update(model)
            expected = filter_requests(model, flt, order)
            assert [s.span_id for s in kept] == [s.span_id for s in expected], flt
            for index in (0, len(expected) // 2, len(expected) - 1):
                if expected:
                    assert kept.index_of(expected[index]) == index


@pytest.mark.parametrize("order", ["newest", "slowest"])
def test_a_scan_cut_short_fills_in_over_later_updates(
    order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new filter over many requests is matched a slice per update, newest first."""
    import dm_explore.tui.rows as rows_module

    monkeypatch.setattr(rows_module, "SCAN_BUDGET", 0.0)  # one chunk per update
    monkeypatch.setattr(rows_module, "_SCAN_CHUNK", 50)
    model = Model()
    file_id = model.add_file("x.jsonl")
    for event in _stream(random.Random(order), 1500):
        apply_event(model, file_id, event)
    flt = RequestFilter(text="/a")
    expected = [s.span_id for s in filter_requests(model, flt, order)]
    rows = RequestRows(flt, order)
    updates, seen = 0, []
    while True:
        rows.update(model, exact=False)
        updates += 1
        shown = [s.span_id for s in rows]
        # what is shown so far is in the final order, with nothing the filter refuses
        assert shown == [sid for sid in expected if sid in set(shown)]
        seen.append(len(shown))
        if not rows.pending:
            break
        assert updates < 100
    assert shown == expected
    assert updates >= 10 and seen[0] < len(expected)  # it did fill in over several updates
    # new requests after the scan are taken in by the usual incremental path
    apply_event(model, file_id, _event("request.start", 700.0, f"{9999:016x}", "f" * 32,
                                       method="GET", path="/a/new/"))  # fmt: skip
    rows.update(model, exact=False)
    assert [s.span_id for s in rows] == [s.span_id for s in filter_requests(model, flt, order)]
