"""Hostile files through the model and every command: no crash, no hang, every problem named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dm_explore.ingest import load_folder, parse_line
from dm_explore.ingest.apply import Applier
from dm_explore.model import Model, Problem, filter_requests, span_sql, trace_rows
from tests.explore.applying import apply_event, decode_line
from tests.reliability.figures import record_figure
from tests.reliability.hostile import build_corpus

ROOT = Path(__file__).resolve().parents[2]
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\x00")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, soak: bool):  # type: ignore[no-untyped-def]
    return build_corpus(tmp_path_factory.mktemp("hostile") / "logs", big_line_mb=50)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_model_reads_everything_valid_around_the_damage(corpus) -> None:  # type: ignore[no-untyped-def]
    reader = load_folder(corpus.folder)
    model = reader.model
    by_name = {Path(f.path).name: f for f in model.files.values()}
    for name, valid in corpus.valid_per_file.items():
        if name == "wrong-types.jsonl":
            continue  # right type, wrong value (a negative status) passes the cheap checks
        assert by_name[name].events == valid, name
    assert by_name["big-line.jsonl"].problems[0].reason.startswith("line longer than")
    assert any("newer" in p.reason for p in by_name["newer-version.jsonl"].problems)
    assert by_name["truncated.jsonl"].partial
    wrong = by_name["wrong-types.jsonl"]
    assert wrong.invalid >= 40 and all(p.line > 0 for p in wrong.problems)
    skipped = {Path(p.path).name for p in reader.problems}
    assert {"fifo.jsonl", "self.jsonl"} <= skipped
    # The valid hostile request is in the model, its text intact (display is the view's job).
    (request,) = [s for s in filter_requests(model) if s.svc.startswith("[red]")]
    assert request.status == 500 and "\x1b[31m" in request.start["path"]
    assert span_sql(model, request)[0] and trace_rows(model.traces[request.trace])
    record_figure(
        "hostile",
        files_tried=len(corpus.files) + len(corpus.special),
        invalid_lines=sum(f.invalid for f in model.files.values()),
        crashes=0,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["summary"],
        ["summary", "--json"],
        ["tail", "--no-follow"],
        ["tail", "--no-follow", "--json"],
        ["report"],
        ["report", "--format", "json"],
    ],
)
def test_every_command_survives_and_prints_no_control_characters(
    corpus, command: list[str]
) -> None:  # type: ignore[no-untyped-def]
    result = _cli(command[0], str(corpus.folder), *command[1:])
    if result.returncode == 2 and "invalid choice" in result.stderr:
        pytest.skip(f"{command[0]} is not a command of this build")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for bad in CONTROL:
        assert bad not in result.stdout, (command, repr(bad))
    if command == ["check"]:
        assert result.returncode == 1
        named = {line.split(":")[0] for line in result.stdout.splitlines() if ":" in line}
        for name in (
            "random-bytes.jsonl",
            "invalid-utf8.jsonl",
            "big-line.jsonl",
            "deep.jsonl",
            "wrong-types.jsonl",
            "newer-version.jsonl",
            "fifo.jsonl",
            "self.jsonl",
        ):
            assert any(n.endswith(name) for n in named), name


def test_export_survives(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "otlp.jsonl"
    result = _cli("export", "otlp", str(corpus.folder), "-o", str(out))
    if result.returncode == 2 and "invalid choice" in result.stderr:
        pytest.skip("export is not a command of this build")
    assert result.returncode == 0, result.stderr[-2000:]
    for line in out.read_bytes().splitlines():
        orjson.loads(line)


def test_tree_of_the_hostile_trace(corpus) -> None:  # type: ignore[no-untyped-def]
    result = _cli("tree", str(corpus.folder), "4bf92f3577b34da6a3ce929d0e0e4736")
    assert result.returncode == 0, result.stderr
    assert "[red]x[/red]" in result.stdout
    for bad in CONTROL:
        assert bad not in result.stdout


def test_cyclic_parent_links_do_not_hang() -> None:
    model = Model()
    fid = model.add_file("loop")
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    for span, parent in (
        ("00000000000000a1", "00000000000000b2"),
        ("00000000000000b2", "00000000000000a1"),
    ):
        apply_event(
            model,
            fid,
            {
                "v": 1,
                "ts": "2026-11-23T09:00:00Z",
                "event": "request.start",
                "svc": "s",
                "host": "h",
                "pid": 1,
                "trace": trace,
                "span": span,
                "parent": parent,
                "method": "GET",
                "path": "/",
            },
        )
        apply_event(
            model,
            fid,
            {
                "v": 1,
                "ts": "2026-11-23T09:00:01Z",
                "event": "sql",
                "svc": "s",
                "host": "h",
                "pid": 1,
                "trace": trace,
                "span": span,
                "parent": parent,
                "sql": "x",
                "ms": 1,
            },
        )
    rows = trace_rows(model.traces[trace])
    assert len(rows) <= 2
    for span in model.requests.values():
        span_sql(model, span)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_KINDS = [
    "request.start",
    "request.end",
    "sql",
    "log",
    "exception",
    "panel",
    "metric",
    "runtime",
    "progress",
    "command.start",
    "command.heartbeat",
    "command.end",
    "task.start",
    "span.end",
    "dm.dropped",
    "x.y",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(_KINDS),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "method",
                "path",
                "status",
                "ms",
                "sql",
                "params",
                "msg",
                "level",
                "type",
                "fingerprint",
                "frames",
                "panel",
                "op",
                "content",
                "name",
                "value",
                "interval",
                "done",
                "total",
                "count",
                "headers",
                "site",
                "command",
                "outcome",
                "parent",
                "trace",
                "span",
            ]
        ),
        _json_values,
        max_size=8,
    ),
    span=st.sampled_from([None, "00000000000000a1", "00000000000000b2"]),
)
def test_fuzzed_events_never_break_the_model(kind: str, fields: dict, span: str | None) -> None:
    event = {
        "v": 1,
        "ts": "2026-11-23T09:00:00.5Z",
        "event": kind,
        "svc": "s",
        "host": "h",
        "pid": 1,
    }
    if span:
        event.update(trace="4bf92f3577b34da6a3ce929d0e0e4736", span=span)
    event.update(fields)
    raw = orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS) if _serialisable(event) else b"{}"
    parsed = parse_line(raw)
    assert isinstance(parsed, dict | Problem)
    reason = parsed.reason if isinstance(parsed, Problem) else None
    # The reader's fast path (the typed decoder, then the model's checks) agrees with it.
    decoded, decode_reason = decode_line(raw)
    if decoded is not None:
        checker = Model()
        refused = Applier(checker).apply_batch(checker.add_file("f"), [decoded], [raw])
        decode_reason = refused[0].reason if refused else None
    assert (decode_reason is None) == (reason is None), (reason, decode_reason)
    model = Model()
    fid = model.add_file("fuzz")
    if isinstance(parsed, dict):
        try:
            apply_event(model, fid, parsed)
        except Exception as exc:  # the reader would count it; the model should not need that
            raise AssertionError(f"applying raised {exc!r} on {parsed!r}") from exc
    for request in filter_requests(model):
        span_sql(model, request)
        _ = request.name, request.status, request.outcome, request.has_error
    for trace in model.traces.values():
        trace_rows(trace)
    model.commands_by_status()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzzed_bytes_never_break_the_parser(raw: bytes) -> None:
    parsed = parse_line(raw)
    assert isinstance(parsed, dict | Problem)
    decoded, _ = decode_line(raw)
    assert (decoded is None) == isinstance(parsed, Problem)


def _serialisable(event: dict) -> bool:
    try:
        orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return True
