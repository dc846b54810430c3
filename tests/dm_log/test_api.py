"""The public API writes lines that validate, nest, and continue traces."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import structlog

import dm_log
from tests.conftest import assert_all_valid, read_events


def _by_kind(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


def test_every_api_call_writes_lines_that_validate(log_dir: Path, event_validator) -> None:
    logger = logging.getLogger("app.test")
    logger.setLevel(logging.DEBUG)
    handler = dm_log.LogHandler()
    logger.addHandler(handler)
    try:
        with dm_log.span("import", source="s3") as outer:
            dm_log.metric("rows", 12, unit="rows", table="prices")
            for kind, content, options in [
                ("text", "plain", {}),
                ("markdown", "# Title\n*em*", {}),
                ("code", "print(1)", {"lang": "python"}),
                ("kv", {"course": "demo", "seats": 3}, {}),
                ("table", [["a", 1], ["b", 2]], {"columns": ["name", "n"]}),
                ("json", {"nested": [1, {"x": None}]}, {}),
            ]:
                dm_log.panel("Enrollment", kind, content, **options)
            dm_log.panel("Enrollment", "text", "again", op="replace")
            dm_log.progress(3, 10, "rows")
            logger.info("imported %d rows", 12, extra={"table": "prices"})
            try:
                raise ValueError("bad price")
            except ValueError:
                logger.exception("failed")
                dm_log.capture_exception()
            dm_log.record(
                "sql", sql="SELECT 1", params=[], ms=0.5, alias="default", vendor="sqlite"
            )
            dm_log.record("x.custom", anything={"goes": True})
            child = dm_log.start_span("http", method="GET", url="http://localhost/x")
            child.end(status=200, bytes=10)
            assert dm_log.traceparent() == outer.traceparent()
        sl = structlog.wrap_logger(
            structlog.ReturnLogger(), processors=[dm_log.structlog_processor, lambda *a: "x"]
        )
        sl.warning("from structlog", user="bob")
    finally:
        logger.removeHandler(handler)

    events = assert_all_valid(log_dir, event_validator)
    kinds = [e["event"] for e in events]
    for kind in (
        "process.start",
        "span.start",
        "metric",
        "panel",
        "progress",
        "log",
        "exception",
        "sql",
        "x.custom",
        "http.start",
        "http.end",
        "span.end",
    ):
        assert kind in kinds, kind
    # The file opens with process.start, numbered first: the file's order is the count's.
    assert kinds[0] == "process.start"
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert len(_by_kind(events, "panel")) == 7
    # logger.exception wrote a log line and the exception; capturing it again adds nothing.
    assert len(_by_kind(events, "exception")) == 1
    log = next(e for e in events if e["event"] == "log" and e["msg"] == "imported 12 rows")
    assert log["fields"] == {"table": "prices"} and log["level"] == "info"
    assert any(e["event"] == "log" and e["msg"] == "from structlog" for e in events)


def test_spans_nest_and_events_hang_under_the_current_span(log_dir: Path) -> None:
    with dm_log.span("outer") as outer:
        with dm_log.span("inner") as inner:
            dm_log.metric("m", 1)
        dm_log.metric("m", 2)
    dm_log.metric("m", 3)
    events = read_events(log_dir)
    metrics = _by_kind(events, "metric")
    assert metrics[0]["span"] == inner.span_id and metrics[0]["parent"] == outer.span_id
    assert metrics[1]["span"] == outer.span_id and "parent" not in metrics[1]
    assert "trace" not in metrics[2]  # process level once the spans closed
    starts = {e["span"]: e for e in _by_kind(events, "span.start")}
    assert starts[inner.span_id]["trace"] == starts[outer.span_id]["trace"]
    ends = _by_kind(events, "span.end")
    assert [e["name"] for e in ends] == ["inner", "outer"]
    assert all(e["outcome"] == "ok" and e["ms"] >= 0 for e in ends)


def test_a_root_span_inside_another_span_has_its_own_trace_until_it_ends(log_dir: Path) -> None:
    with dm_log.span("outer") as outer:
        dm_log.metric("m", 1)
        setup = dm_log.start_span("span", root=True, name="fixture db", fields={"scope": "session"})
        dm_log.metric("m", 2)
        assert dm_log.traceparent() == setup.traceparent()
        setup.end(name="fixture db")
        dm_log.metric("m", 3)
        with dm_log.span("inner") as inner:
            pass
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    detached = dm_log.start_span("span", root=True, traceparent=header, name="detached")
    detached.end(name="detached")
    assert detached.trace_id not in (None, "4bf92f3577b34da6a3ce929d0e0e4736")
    events = read_events(log_dir)
    assert setup.trace_id not in (None, outer.trace_id)
    starts = {e["name"]: e for e in _by_kind(events, "span.start")}
    assert starts["fixture db"]["trace"] == setup.trace_id
    assert "parent" not in starts["fixture db"] and "parent" not in starts["detached"]
    assert starts["fixture db"]["fields"] == {"scope": "session"}
    ends = {e["name"]: e for e in _by_kind(events, "span.end")}
    assert ends["fixture db"]["trace"] == setup.trace_id and ends["fixture db"]["outcome"] == "ok"
    metrics = _by_kind(events, "metric")
    assert [(m["value"], m["trace"], m["span"]) for m in metrics] == [
        (1, outer.trace_id, outer.span_id),
        (2, setup.trace_id, setup.span_id),
        (3, outer.trace_id, outer.span_id),
    ]
    assert "parent" not in metrics[1]
    assert starts["inner"]["span"] == inner.span_id and starts["inner"]["trace"] == outer.trace_id
    assert starts["inner"]["parent"] == outer.span_id


def test_span_decorator_sync_and_async_and_error_outcome(log_dir: Path) -> None:
    @dm_log.span("sync-work", kind_of="sync")
    def work(x: int) -> int:
        return x * 2

    @dm_log.span("async-work")
    async def awork(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @dm_log.span("failing")
    def fail() -> None:
        raise KeyError("missing")

    assert work(2) == 4
    assert asyncio.run(awork(1)) == 2
    try:
        fail()
    except KeyError:
        pass
    else:
        raise AssertionError("the decorator swallowed the exception")
    ends = {e["name"]: e for e in read_events(log_dir) if e["event"] == "span.end"}
    assert ends["sync-work"]["outcome"] == "ok"
    assert ends["async-work"]["outcome"] == "ok"
    assert ends["failing"]["outcome"] == "error" and "KeyError" in ends["failing"]["error"]
    starts = {e["name"]: e for e in read_events(log_dir) if e["event"] == "span.start"}
    assert starts["sync-work"]["fields"] == {"kind_of": "sync"}


def test_traceparent_continues_a_trace_and_a_bad_one_starts_a_new_one(log_dir: Path) -> None:
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with dm_log.span("continued", traceparent=header) as s:
        assert s.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert dm_log.traceparent() == f"00-{s.trace_id}-{s.span_id}-01"
    for bad in (
        "garbage",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
        "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
    ):
        with dm_log.span("fresh", traceparent=bad) as s2:
            assert s2.trace_id not in (None, "4bf92f3577b34da6a3ce929d0e0e4736", "0" * 32)
    start = next(e for e in read_events(log_dir) if e["event"] == "span.start")
    assert start["parent"] == "00f067aa0ba902b7"
    assert dm_log.traceparent() is None


def test_invalid_user_events_become_dm_invalid_naming_the_caller(log_dir: Path) -> None:
    dm_log.panel("P", "table", [[1, 2]])  # no columns
    dm_log.panel("P", "chart", "x")  # type: ignore[call-overload]  # unknown type
    dm_log.metric("m", float("nan"))
    dm_log.record("made.up.kind", x=1)
    invalid = [e for e in read_events(log_dir) if e["event"] == "dm.invalid"]
    assert [e["kind"] for e in invalid] == ["panel", "panel", "metric", "made.up.kind"]
    for e in invalid:
        assert e["call"]["file"] == __file__, e
        assert e["errors"]
    assert "columns" in invalid[0]["errors"][0]


def test_off_when_no_folder_is_configured(tmp_path: Path) -> None:
    from dm_log import _config

    before = _config.current()
    dm_log.configure(log_dir=None)
    try:
        assert not dm_log.enabled()
        with dm_log.span("nothing") as s:
            dm_log.metric("m", 1)
            dm_log.panel("P", "text", "x")
            dm_log.capture_exception(ValueError("x"))
        assert s.span_id is None and dm_log.traceparent() is None
        assert dm_log.log_file() is None
    finally:
        dm_log.configure(log_dir=before.log_dir)
    assert not list(tmp_path.iterdir())


def test_same_bug_in_two_places_has_one_fingerprint(log_dir: Path) -> None:
    def lookup(d: dict) -> int:
        return d["missing"]

    for _ in range(2):
        try:
            lookup({})
        except KeyError as exc:
            dm_log.capture_exception(exc)
    try:
        {}["other"]
    except KeyError as exc:
        dm_log.capture_exception(exc)
    prints = [e["fingerprint"] for e in read_events(log_dir) if e["event"] == "exception"]
    assert prints[0] == prints[1] != prints[2]
    frame = next(e for e in read_events(log_dir) if e["event"] == "exception")["frames"][-1]
    assert frame["func"] == "lookup" and frame["in_app"] and frame["src"] == 'return d["missing"]'


def test_validation_policy_hot_path_only_under_dm_validate(log_dir: Path) -> None:
    dm_log.configure(validate_all=False)
    dm_log.record("sql", sql=123, ms="slow")  # our own hot-path kind: written as given
    dm_log.metric("m", "not a number")  # type: ignore[arg-type]  # user input: always checked
    dm_log.configure(validate_all=True)
    dm_log.record("sql", sql=123, ms="slow")
    kinds = [e["event"] for e in read_events(log_dir) if e["event"] != "process.start"]
    assert kinds == ["sql", "dm.invalid", "dm.invalid"]


def test_runtime_sampler_writes_resource_samples(log_dir: Path, event_validator) -> None:
    import time

    sampler = dm_log.start_runtime_sampler(interval=0.05)
    time.sleep(0.3)
    sampler.stop()
    samples = [e for e in read_events(log_dir) if e["event"] == "runtime"]
    assert len(samples) >= 3
    assert all(s["rss"] > 1_000_000 and s["threads"] >= 2 and len(s["gc"]) == 3 for s in samples)
    assert_all_valid(log_dir, event_validator)
