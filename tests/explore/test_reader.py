"""The reader on files that misbehave, and model rules not covered by the three-service folder."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator

from dm_explore.cli.check import check_line
from dm_explore.ingest import FolderReader
from dm_explore.ingest.tail import Tail
from dm_explore.model import Model
from tests.explore.applying import apply_event
from tests.explore.fixtures import Writer

T = "4bf92f3577b34da6a3ce929d0e0e4736"


def _log(second: float, msg: str, pid: int = 1) -> bytes:
    return Writer("web", pid).ev("log", second, level="info", msg=msg).lines[0]


def test_over_long_line_is_skipped_in_bounded_memory_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(_log(1, "before"))
    tail = Tail(path, max_line=1000)
    assert [line.number for line in tail.read()[0]] == [1]
    with open(path, "ab") as f:  # a 50 kB line arrives in pieces, like a slow writer's
        for _ in range(50):
            f.write(b"x" * 1000)
            f.flush()
            assert tail.read() == ([], [])
            assert len(tail.pending) <= 1000  # never held whole
        f.write(b"\n" + _log(2, "after"))
    lines, problems = tail.read()
    assert [(p.line, p.reason) for p in problems] == [(2, "line longer than 1000 bytes: skipped")]
    assert [(line.number, orjson.loads(line.raw)["msg"]) for line in lines] == [(3, "after")]


def test_files_are_read_in_turns_and_progress_reaches_every_byte(tmp_path: Path) -> None:
    # Each file is several batches long: the reader takes a batch of each in turn, so
    # a request written to two files at once is applied together, and every line of
    # every file is read in the end, the progress counting every byte.
    for name, pid in (("web.jsonl", 1), ("api.jsonl", 2)):
        writer = Writer(name.split(".")[0], pid)
        for i in range(6000):
            writer.ev("log", i / 100, level="info", msg=f"{name} line {i} " + "x" * 40)
        writer.write(tmp_path / name)
    reader = FolderReader(tmp_path)
    reader.discover()
    files = reader.model.files
    seen: list[tuple[int, ...]] = []
    for _ in reader.read_in_turns():
        seen.append(tuple(info.events for info in files.values()))
    assert seen[-1] == (6000, 6000)
    # the second file was begun while the first still had lines to read
    assert any(counts[0] < 6000 and counts[1] > 0 for counts in seen)
    total = sum(p.stat().st_size for p in tmp_path.glob("*.jsonl"))
    assert reader.bytes_read == total


def test_a_line_of_exactly_the_limit_is_kept_one_byte_more_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "edge.jsonl"
    path.write_bytes(b"a" * 100 + b"\n" + b"b" * 101 + b"\r\n" + b"c" * 99 + b"\r\n" + b"d" * 5)
    tail = Tail(path, max_line=100)
    lines, problems = tail.read()
    assert [(line.number, len(line.raw)) for line in lines] == [(1, 100), (3, 100)]
    assert lines[1].raw.endswith(b"c\r")  # the line as written, less its newline
    assert [(p.line, p.reason) for p in problems] == [(2, "line longer than 100 bytes: skipped")]
    assert tail.partial and tail.pending == b"d" * 5


def test_a_reader_stands_aside_between_batches_and_counts_gz_by_its_own_bytes(
    tmp_path: Path,
) -> None:
    writer = Writer("web", 1)
    for i in range(6000):
        writer.ev("log", i / 100, level="info", msg=f"line {i} " + "x" * 40)
    writer.write(tmp_path / "web.jsonl")
    old = Writer("web", 2)  # another process: the same first line would be the same file
    for i in range(3000):
        old.ev("log", i / 100, level="info", msg=f"line {i} " + "x" * 40)
    with gzip.open(tmp_path / "old.jsonl.gz", "wb") as f:
        f.write(b"".join(old.lines))
    reader = FolderReader(tmp_path)
    calls: list[int] = []
    assert reader.read(on_slice=lambda: calls.append(reader.bytes_read)) == 9000
    # batches of a few thousand lines each: the caller got the lock back between them
    assert len(calls) >= 4 and calls == sorted(calls)
    assert reader.bytes_read == reader.bytes_total  # compressed bytes, as the size says
    with gzip.open(tmp_path / "old.jsonl.gz", "wb") as f:  # recompressed, same lines
        f.write(b"".join(old.lines))
    before = reader.bytes_read
    reader.read()
    assert reader.model.totals["events"] == 9000
    assert reader.bytes_read - before <= (tmp_path / "old.jsonl.gz").stat().st_size


def test_a_byte_order_mark_written_in_pieces_is_still_removed(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb")  # the writer's first write got this far
    tail = Tail(path)
    assert tail.read() == ([], [])
    with open(path, "ab") as f:
        f.write(b"\xbf" + _log(1, "first"))
    lines, problems = tail.read()
    assert problems == [] and [(line.number, orjson.loads(line.raw)["msg"]) for line in lines] == [
        (1, "first")
    ]


def test_truncated_and_replaced_files_are_read_again(tmp_path: Path) -> None:
    path = tmp_path / "web.jsonl"
    path.write_bytes(_log(1, "a") + _log(2, "b"))
    reader = FolderReader(tmp_path)
    reader.read()
    path.write_bytes(_log(3, "c"))  # truncated in place (copytruncate), then written
    reader.read()
    info = next(iter(reader.model.files.values()))
    assert reader.model.totals["events"] == 3 and info.events == 3
    reason = "file was truncated or replaced: read again from the start"
    assert [(p.line, p.kind, p.reason) for p in info.problems] == [(0, "file", reason)]
    assert reader.bytes_read == reader.bytes_total == path.stat().st_size  # not counted twice
    replacement = tmp_path / "web.jsonl.new"
    replacement.write_bytes(_log(4, "d") + _log(5, "e") + _log(6, "f"))
    os.replace(replacement, path)  # same size or larger, another inode
    reader.read()
    assert reader.model.totals["events"] == 6


def test_gz_file_rewritten_longer_gives_only_its_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "ci.jsonl.gz"
    path.write_bytes(gzip.compress(_log(1, "a") + _log(2, "b")))
    reader = FolderReader(tmp_path)
    assert reader.read() == 2
    path.write_bytes(gzip.compress(_log(1, "a") + _log(2, "b") + _log(3, "c")))
    assert reader.read() == 1
    assert reader.model.totals["events"] == 3


def test_bom_crlf_blank_lines_and_nul_bytes(tmp_path: Path) -> None:
    (tmp_path / "odd.jsonl").write_bytes(
        b"\xef\xbb\xbf"
        + _log(1, "bom").replace(b"\n", b"\r\n")
        + b"\n   \n"
        + b"\x00\x00\x00\n"
        + _log(2, "crlf").replace(b"\n", b"\r\n")
    )
    reader = FolderReader(tmp_path)
    reader.read()
    (info,) = reader.model.files.values()
    assert info.events == 2
    assert [p.line for p in info.problems] == [4]  # blank lines are no events, NULs are


def test_fifo_is_reported_and_never_blocks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "web.jsonl").write_bytes(_log(1, "ok"))
    reader = FolderReader(tmp_path)
    done = threading.Event()

    def read() -> None:
        reader.read()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(5), "reading a folder with a FIFO blocked"
    assert reader.model.totals["events"] == 1
    assert [Path(p.path).name for p in reader.problems] == ["pipe.jsonl"]


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "sub" / "web.jsonl").write_bytes(_log(1, "once"))
    reader = FolderReader(tmp_path)
    reader.read()
    assert reader.model.totals["events"] == 1


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"v": 2}, False),
        ({"ts": "2026-11-23 09:00:00Z"}, False),
        ({"pid": "12"}, False),
        ({"pid": True}, False),
        ({"trace": T.upper(), "span": "1000000000000001"}, False),
        ({"trace": T, "span": "1000000000000001"}, True),
        ({"trace": T, "span": "100000000000001"}, False),
        ({"level": 3}, False),
        ({"msg": None}, False),
    ],
)
def test_check_agrees_with_jsonschema(
    change: dict[str, object], valid: bool, event_validator: Draft202012Validator
) -> None:
    event = orjson.loads(_log(1, "m"))
    event.update(change)
    assert (not list(event_validator.iter_errors(event))) is valid
    assert (check_line(orjson.dumps(event)) is None) is valid


def _command(w: Writer, second: float, span: str) -> None:
    w.ev("command.start", second, T, span, command="sync", params={"full": True}, interval=1.0)


def test_newer_run_of_the_same_command_marks_the_running_one_killed() -> None:
    w = Writer("cron", 5)
    _command(w, 1.0, "4000000000000001")
    w.ev("command.heartbeat", 1.5, T, "4000000000000001", interval=1.0)
    _command(w, 2.0, "4000000000000002")
    model = Model()
    fid = model.add_file("cron.jsonl")
    for line in w.lines:
        apply_event(model, fid, orjson.loads(line))
    old, new = model.command_runs[("h1", "sync")]
    assert model.command_status(old, now=2.1) == "SYSTEM_KILL"  # superseded, not timed out
    assert model.command_status(new, now=2.1) == "STARTED"
    assert new.start["params"] == {"full": True}


def test_command_history_keeps_the_last_runs() -> None:
    model = Model(history=3)
    fid = model.add_file("cron.jsonl")
    w = Writer("cron", 5)
    for i in range(5):
        span = f"40000000000000{i:02d}"
        _command(w, float(i), span)
        w.ev("command.end", i + 0.5, T, span, ms=500.0, status="FAILED" if i == 4 else "FINISHED")
    for line in w.lines:
        apply_event(model, fid, orjson.loads(line))
    runs = model.command_runs[("h1", "sync")]
    assert [r.span_id[-2:] for r in runs] == ["02", "03", "04"]
    assert [model.command_status(r) for r in runs] == ["FINISHED", "FINISHED", "FAILED"]
    assert model.totals["commands"] == 5


def test_panels_append_replace_in_order_per_span_and_per_process() -> None:
    w = Writer("web", 1)
    span = "1000000000000001"
    w.ev("request.start", 1.0, T, span, method="GET", path="/")
    w.ev("panel", 1.1, T, span, panel="Cache", op="append", type="text", content="miss a")
    w.ev("panel", 1.2, T, span, panel="Cache", op="append", type="text", content="miss b")
    w.ev("panel", 1.3, T, span, panel="Flags", op="replace", type="kv", content=[["x", "1"]])
    w.ev("panel", 1.4, T, span, panel="Flags", op="replace", type="kv", content=[["x", "2"]])
    w.ev("panel", 1.5, panel="Build", op="append", type="code", lang="sh", content="make")
    model = Model()
    fid = model.add_file("web.jsonl")
    for line in w.lines:
        apply_event(model, fid, orjson.loads(line))
    panels = model.span(span).panels
    assert [e["content"] for e in panels["Cache"]] == ["miss a", "miss b"]
    assert [e["content"] for e in panels["Flags"]] == [[["x", "2"]]]
    assert model.processes[("web", "h1", 1)].panels["Build"][0]["lang"] == "sh"


def test_metric_series_per_second_and_minute() -> None:
    w = Writer("web", 1)
    for i, value in enumerate([1, 2, 3, 4, 100]):
        w.ev("metric", 1.0 + i * 0.1, name="queue", value=value)
    w.ev("metric", 2.5, name="queue", value=10)
    model = Model()
    fid = model.add_file("web.jsonl")
    for line in w.lines:
        apply_event(model, fid, orjson.loads(line))
    series = model.metrics["queue"]
    first, second = series.recent("second")
    assert first.stats() == {
        "count": 5, "min": 1, "max": 100, "mean": 22.0, "p50": 3, "p95": 100, "p99": 100,
    }  # fmt: skip
    assert second.count == 1
    (minute,) = series.recent("minute")
    assert minute.count == 6 and minute.max == 100
