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


# The writer runs the processors as one call (``_Writer.line``): the same line as the
# processors in turn, for every case above and for redaction's own.
WRITER_EVENTS: list[dict[str, Any]] = [
    *EVENTS,
    {"msg": "login", "password": "hunter2hunter2", "note": "hunter2hunter2 again", "event": "log"},
    {"sql": "SELECT 1 FROM u WHERE password = %s", "params": ["s3cr3t-value"], "event": "sql"},
    {"argv": ["manage.py", "--password", "pw-on-the-line"], "event": "command.start"},
    {"name": "p.html", "context_keys": ["a", "token"], "context": {"token": "t0k3n-value"},
     "event": "template.start"},
    {"event": "log", "msg": "x", "level": "info", "logger": "l", "fields": {"event": "mine"}},
    {"ms": 1.5, "outcome": "ok", "event": "template.end"},
    {"panel": "Settings", "op": "replace", "type": "kv", "content": {"SECRET_KEY": "abc123abc123"},
     "event": "panel"},
]  # fmt: skip


def _writer_and_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Any, Any]:
    from dm_log import _processors, _writer
    from dm_log._config import Config

    monkeypatch.setattr(_processors, "_time", lambda: 1_700_000_000.25)
    writer = _writer._Writer(Config(log_dir=tmp_path, service="svc", host="host"))
    writer.envelope = Envelope("svc", "host", 4321, itertools.count(7).__next__)
    chain = (
        _processors.redact,
        Envelope("svc", "host", 4321, itertools.count(7).__next__),
        Validate(writer.validate.validate_all),
        Render(writer.render.max_line),
    )
    return writer, chain


@pytest.mark.parametrize("ctx", CTXS, ids=["no-span", "root", "child"])
@pytest.mark.parametrize("ed", WRITER_EVENTS, ids=range(len(WRITER_EVENTS)))
def test_the_writers_one_call_is_the_processors_in_turn(
    ed: dict[str, Any], ctx: SpanContext | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import copy

    writer, chain = _writer_and_chain(monkeypatch, tmp_path)
    kind = ed["event"]
    fields = {k: v for k, v in copy.deepcopy(ed).items() if k != "event"}
    expected: Any = dict(copy.deepcopy(fields), event=kind)
    if ctx is not None:
        fields["_dm_ctx"] = SpanContext(ctx.trace, ctx.span, ctx.parent, set())
        expected["_dm_ctx"] = SpanContext(ctx.trace, ctx.span, ctx.parent, set())
    for processor in chain:
        expected = processor(None, "msg", expected)
    assert writer.line(kind, fields) == expected
    assert b"hunter2hunter2" not in expected and b"s3cr3t" not in expected
    assert b"pw-on-the-line" not in expected and b"t0k3n" not in expected
    assert b"abc123abc123" not in expected and b"dm.invalid" not in expected


def test_a_field_named_event_gives_way_to_the_kind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    writer, chain = _writer_and_chain(monkeypatch, tmp_path)
    expected: Any = {"event": "log", "msg": "x", "level": "info", "logger": "l"}
    for processor in chain:
        expected = processor(None, "msg", expected)
    line = writer.line("log", {"event": "mine", "msg": "x", "level": "info", "logger": "l"})
    assert line == expected
    assert orjson.loads(line)["event"] == "log" and line.count(b'"event"') == 1
