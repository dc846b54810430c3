"""The renderer writes a hot event's envelope from prepared bytes instead of merging it into
a dict first: the line is byte for byte the one the merged dict renders to, and every case
the bytes cannot make (a field named like the envelope, a key that is not text, a line
over the maximum) goes through the dict as before."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

import dm_log
from dm_log._context import SpanContext, current_span
from dm_log._processors import Envelope, Render, Validate, merge
from tests.conftest import read_events


def _pipeline(svc: str = "svc", host: str = "host") -> tuple[Envelope, Validate, Render]:
    return Envelope(svc, host, 4321, itertools.count(7).__next__), Validate(False), Render(8000)


def _both(ed: dict[str, Any], ctx: SpanContext | None, **kw: Any) -> tuple[bytes, bytes]:
    """The line as written, and the line of the merged dict for the same stamp."""
    envelope, validate, render = _pipeline(**kw)
    ed = dict(ed, _dm_ctx=ctx) if ctx is not None else dict(ed)
    stamped = validate(None, "msg", envelope(None, "msg", ed))
    stamp = stamped["_dm_env"]
    merged = merge({k: v for k, v in stamped.items() if k != "_dm_env"}, stamp)
    return render(None, "msg", stamped), render(None, "msg", merged)


CTXS = [
    None,
    SpanContext("a" * 32, "b" * 16, None, set()),
    SpanContext("a" * 32, "b" * 16, "c" * 16, set()),
]
EVENTS: list[dict[str, Any]] = [
    {"sql": 'SELECT "x" FROM "t" WHERE "id" = %s', "params": [1], "ms": 0.5, "event": "sql"},
    {"event": "sql"},  # nothing but the envelope
    {"msg": 'é \u2028 "quoted" \\ tab\t', "level": "info", "logger": "x", "event": "log"},
    {"name": "row.html", "context": {"a": "<dict of 2>"}, "event": "template.start"},
    {"big": 2**70, "event": "log"},  # an int past 64 bits: the renderer's fallback
    {"nested": {1: "a", "b": [1.5, None, True]}, "event": "log"},  # a key that is not text
    {"seq": 99, "v": 2, "msg": "mine", "event": "log"},  # fields named like the envelope
    {"trace": "mine", "event": "log"},
]


@pytest.mark.parametrize("ctx", CTXS, ids=["no-span", "root", "child"])
@pytest.mark.parametrize("ed", EVENTS, ids=range(len(EVENTS)))
def test_line_is_the_merged_dicts_line(ed: dict[str, Any], ctx: SpanContext | None) -> None:
    line, expected = _both(ed, ctx)
    assert line == expected
    assert list(orjson.loads(line))[:7] == ["v", "ts", "event", "svc", "host", "pid", "seq"]


def test_service_and_host_names_are_escaped_like_any_text() -> None:
    line, expected = _both(EVENTS[0], CTXS[2], svc='we"ird\\svc', host="hôst\n")
    assert line == expected
    assert orjson.loads(line)["svc"] == 'we"ird\\svc'


def test_ids_changed_on_a_span_are_written_anew() -> None:
    ctx = SpanContext("a" * 32, "b" * 16, None, set())
    first, _ = _both(EVENTS[0], ctx)
    ctx.span, ctx.parent = "d" * 16, "e" * 16
    second, expected = _both(EVENTS[0], ctx)
    assert second == expected
    assert orjson.loads(first)["span"] == "b" * 16
    assert (orjson.loads(second)["span"], orjson.loads(second)["parent"]) == ("d" * 16, "e" * 16)


def test_a_line_over_the_maximum_is_still_cut(log_dir: Path) -> None:
    dm_log.configure(log_dir=log_dir, max_line_bytes=16384, validate_all=False)
    token = current_span.set(SpanContext("a" * 32, "b" * 16, None, set()))
    try:
        dm_log.record("log", level="info", msg="x" * 9000, logger="long", fields={"y": "y" * 9000})
    finally:
        current_span.reset(token)
    (event,) = [e for e in read_events(log_dir) if e["event"] == "log"]
    assert len(event["msg"]) < 9000 and event["trace"] == "a" * 32
    assert list(event)[:9] == ["v", "ts", "event", "svc", "host", "pid", "seq", "trace", "span"]
