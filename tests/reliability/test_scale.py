"""Huge and hostile folders: deep, wide and cyclic traces, a decompression bomb,
files moved, compressed and deleted while followed, the folder itself replaced.

CI runs small versions of each attack; ``--soak`` runs the sizes of the targets
(a million spans, 100k levels, a bomb of a gigabyte). Speed is measured in
``bench/bench_scale.py``, not here.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dm_explore.ingest import FolderReader, load_folder
from dm_explore.ingest.follow import FOLDER_GONE, follow
from dm_explore.model.queries import Folds, cycles, trace_rows, trace_view
from tests.reliability.figures import record_figure
from tests.reliability.shapes import (
    TRACE,
    event,
    span_id,
    write_bomb,
    write_chain,
    write_cycles,
    write_wide,
)

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "dm_explore.cli"]


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False
    )


def _until(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- deep, wide and cyclic traces ------------------------------------------------------


def test_a_deep_chain_prints_every_level_on_short_lines(tmp_path: Path, soak: bool) -> None:
    depth = 100_000 if soak else 5_000
    write_chain(tmp_path / "web.jsonl", depth)
    done = _cli("tree", str(tmp_path), TRACE[:8])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()[1:]
    assert len(lines) == depth
    assert lines[-1].lstrip().startswith(f"[depth {depth - 1}] span level {depth - 1}")
    assert max(map(len, lines)) < 200  # the indentation stops growing
    record_figure("scale", deep_chain_levels=depth)


def test_a_deep_chain_folds_past_the_view_depth(tmp_path: Path) -> None:
    write_chain(tmp_path / "web.jsonl", 3_000)
    trace = load_folder(tmp_path).model.traces[TRACE]
    rows = trace_view(trace, Folds(depth=60))
    assert len(rows) == 61 and [r.depth for r in rows[:60]] == list(range(60))
    fold = rows[-1]
    assert (fold.fold, fold.more, fold.span.name) == ("depth", 1, "level 59")
    deeper = trace_view(trace, Folds(depth=60, base=fold.span))
    assert deeper[0].span is fold.span and deeper[-1].fold == "depth"
    assert deeper[-1].span.name == "level 118"


def test_a_huge_trace_is_folded_to_what_a_view_draws(tmp_path: Path, soak: bool) -> None:
    spans = 1_000_000 if soak else 30_000
    write_wide(tmp_path / "web.jsonl", spans, fanout=10)
    trace = load_folder(tmp_path).model.traces[TRACE]
    assert len(trace.spans) == spans and cycles(trace) == []
    rows = trace_view(trace, Folds(children=5, depth=100, rows=500))
    drawn = [r for r in rows if not r.more]
    assert len(rows) == 501 and rows[-1].fold == "rows"  # 500 rows, then how many more
    assert rows[-1].more == spans - len(drawn)
    assert {r.more for r in rows if r.fold == "width"} == {5}  # 10 children, 5 drawn
    root = rows[0].span
    whole = trace_view(trace, Folds(children=5, depth=100, rows=spans))
    assert [r.more for r in whole if r.fold == "width" and r.span is root] == [4]  # of 9
    opened = trace_view(trace, Folds(children=5, depth=100, rows=spans, opened={root.span_id: 9}))
    assert not [r for r in opened if r.fold == "width" and r.span is root]
    assert sum(1 for r in opened if r.depth == 1 and not r.more) == 9
    record_figure("scale", huge_trace_spans=spans, rows_drawn=len(rows))


def test_cycles_of_parent_links_are_shown_and_marked(tmp_path: Path) -> None:
    ids = write_cycles(tmp_path / "web.jsonl")
    trace = load_folder(tmp_path).model.traces[TRACE]
    rows = trace_rows(trace)
    shown = [(r.span.span_id, r.depth, r.cyclic) for r in rows]
    assert shown == [
        (ids["root"], 0, False),
        (ids["self"], 0, True),
        (ids["b"], 0, True),
        (ids["c"], 1, True),
        (ids["below"], 2, False),
    ]
    assert trace_view(trace, Folds()) == rows
    done = _cli("tree", str(tmp_path), TRACE)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert len(out) == 6 and sum("cyclic" in line for line in out) == 3
    assert "self-parent" in out[2] and "below-c" in out[5] and "cyclic" not in out[5]


# -- a decompression bomb and bare newlines ------------------------------------------------

_UNDER_LIMIT = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
from dm_explore.ingest import load_folder
from dm_explore.outputs.summary import summarize
reader = load_folder(__import__("pathlib").Path(sys.argv[1]))
data = summarize(reader.model, reader.problems)
# The peak of this process's own memory (ru_maxrss would include its parent's, from before exec).
status = open("/proc/self/status").read()
rss = int(status.split("VmHWM:")[1].split()[0]) * 1024
print(json.dumps({"invalid": data["invalid_lines"], "problems": data["problems"][:3], "rss": rss}))
"""


def _summary_under_limit(folder: Path, limit: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_LIMIT, str(folder), str(limit)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def test_a_decompression_bomb_is_read_in_bounded_memory(tmp_path: Path, soak: bool) -> None:
    # Lines of 1 KiB: 512 MiB once inflated (2 GiB with --soak), in a file of a few hundred KiB,
    # read by a process whose whole address space is 512 MiB.
    lines = (2 << 20) if soak else (512 << 10)
    write_bomb(tmp_path / "bomb.jsonl.gz", lines, b"x" * 1023 + b"\n")
    packed = (tmp_path / "bomb.jsonl.gz").stat().st_size
    result = _summary_under_limit(tmp_path, 512 << 20)
    assert result["invalid"] == lines
    assert int(str(result["rss"])) <= 256 << 20
    record_figure(
        "bomb", packed_kib=packed >> 10, inflated_mib=lines >> 10,
        peak_rss_mib=int(str(result["rss"])) >> 20,
    )  # fmt: skip


def test_bare_newlines_and_repeated_garbage_are_quick_to_skip(tmp_path: Path) -> None:
    write_bomb(tmp_path / "blank.jsonl.gz", 2_000_000, b"\n")
    write_bomb(tmp_path / "xs.jsonl.gz", 1_000_000, b"x\n")
    reader = load_folder(tmp_path)
    files = {Path(f.path).name: f for f in reader.model.files.values()}
    assert files["blank.jsonl.gz"].invalid == 0 and not files["blank.jsonl.gz"].problems
    assert files["xs.jsonl.gz"].invalid == 1_000_000
    assert files["xs.jsonl.gz"].problems[0].line == 1
    assert reader.bytes_read == reader.bytes_total


# -- files that move, are compressed or deleted while followed ----------------------------


class _Following:
    """A reader following ``folder`` in a thread, as the TUI does."""

    def __init__(self, folder: Path, poll: bool) -> None:
        self.reader = FolderReader(folder)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.states: list[str | None] = []
        self.thread = threading.Thread(
            target=follow,
            args=(folder, self._read, self.stop),
            kwargs={"poll": poll, "poll_seconds": 0.05, "on_state": self.states.append},
        )

    def _read(self) -> None:
        with self.lock:
            self.reader.read()

    def count(self, total: str) -> int:
        with self.lock:
            return self.reader.model.totals[total]

    def __enter__(self) -> _Following:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def _requests(first: int, count: int, pid: int = 7) -> bytes:
    """Requests ``first`` to ``first + count - 1`` of process ``pid``, one line each."""
    return b"".join(
        event(i, "request.start", span_id(i + 1), None, i / 1000, pid=pid,
              method="GET", path=f"/{i}")
        for i in range(first, first + count)
    )  # fmt: skip


@pytest.mark.parametrize("poll", [False, True])
def test_a_file_moved_then_compressed_while_followed_is_one_file(
    tmp_path: Path, poll: bool
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    path = folder / "web.jsonl"
    path.write_bytes(event(0, "process.start", pid=7, argv=["web"]) + _requests(1, 100))
    with _Following(folder, poll) as following:
        _until(lambda: following.count("requests") == 100, "the first requests")
        (folder / "archive").mkdir()
        moved = folder / "archive" / "web.jsonl"
        os.rename(path, moved)  # mv f.jsonl archive/
        with open(moved, "ab") as out:  # the writer still holds the file
            out.write(_requests(101, 20))
        _until(lambda: following.count("requests") == 120, "the lines added after the move")
        with open(moved, "ab") as out:
            out.write(_requests(121, 3) + b'{"v":1,"ts"')  # and an unfinished line
        _until(lambda: following.count("requests") == 123, "the lines before the compression")
        subprocess.run(["gzip", str(moved)], check=True)  # gzip old.jsonl
        Path(str(moved) + ".gz").touch()
        time.sleep(1.0)  # enough for a second count, were there one
        model = following.reader.model
        with following.lock:
            assert model.totals["requests"] == 123 and len(model.requests) == 123
            assert [Path(f.path).name for f in model.files.values()] == ["web.jsonl.gz"]
            assert following.reader.moved == 2
    record_figure("follow-moves", requests_written=123, requests_counted=123, files_listed=1)


def test_a_compressed_copy_waits_for_its_original_and_a_deleted_file_keeps_its_lines(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    lines = event(0, "process.start", pid=8, argv=["api"]) + _requests(1, 10, pid=8)
    (folder / "api.jsonl").write_bytes(lines)
    (folder / "api.jsonl.gz").write_bytes(gzip.compress(lines))  # gzip -k: both there
    with _Following(folder, poll=True) as following:
        _until(lambda: following.count("requests") == 10, "the requests")
        os.unlink(folder / "api.jsonl")
        _until(lambda: following.reader.moved == 1, "the copy taking over")
        time.sleep(0.3)
        assert following.count("requests") == 10
        with following.lock:
            assert len(following.reader.model.files) == 1
        os.unlink(folder / "api.jsonl.gz")
        _until(lambda: all(f.gone for f in following.reader.model.files.values()), "the file gone")
        assert following.count("requests") == 10


@pytest.mark.parametrize("poll", [False, True])
def test_the_folder_removed_and_made_again_is_followed_and_said(tmp_path: Path, poll: bool) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "web.jsonl").write_bytes(_requests(1, 5))
    with _Following(folder, poll) as following:
        _until(lambda: following.count("requests") == 5, "the requests")
        shutil.rmtree(folder)
        _until(lambda: FOLDER_GONE in following.states, "following said to stop")
        folder.mkdir()
        (folder / "api.jsonl").write_bytes(_requests(1, 3, pid=9))
        _until(lambda: following.count("requests") == 8, "the new folder's requests")
        assert following.states[-1] is None
        with open(folder / "api.jsonl", "ab") as out:
            out.write(_requests(4, 2, pid=9))
        _until(lambda: following.count("requests") == 10, "lines added in the new folder")


# -- tail ----------------------------------------------------------------------------------


def _tail_lines(proc: subprocess.Popen[str], needle: str, timeout: float = 20.0) -> list[str]:
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never printed: {lines}")


def test_tail_prints_each_line_once_across_moves_and_says_when_following_stopped(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    path = folder / "web.jsonl"
    path.write_bytes(event(0, "process.start", pid=7, argv=["web"]) + _requests(1, 40))
    proc = subprocess.Popen(
        [*CLI, "tail", str(folder), "--poll", "-n", "5"], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        seen = _tail_lines(proc, "GET /40")
        (folder / "archive").mkdir()
        os.rename(path, folder / "archive" / "web.jsonl")
        subprocess.run(["gzip", str(folder / "archive" / "web.jsonl")], check=True)
        (folder / "next.jsonl").write_bytes(_requests(1000, 1, pid=3))
        seen += _tail_lines(proc, "GET /1000")
        assert sum("GET /" in line for line in seen) == 6  # the last 5, the new one: once
        shutil.rmtree(folder)
        time.sleep(1.5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "dm-explore: following stopped: the folder is gone" in err


def test_tail_orders_by_instant_and_starts_from_the_end(tmp_path: Path) -> None:
    def log(ts: str, msg: str) -> bytes:
        line = {"v": 1, "ts": ts, "event": "log", "svc": "a", "host": "h", "pid": 1,
                "level": "info", "msg": msg}  # fmt: skip
        return json.dumps(line).encode() + b"\n"

    # A gigabyte of NUL bytes (a sparse hole) before the lines: only the end is read.
    with open(tmp_path / "a.jsonl", "wb") as out:
        out.truncate(1 << 30)
        out.seek(1 << 30)
        out.write(
            b"\n"
            + log("2026-11-23T09:00:00Z", "whole second")
            + log("2026-11-23T11:00:00.2+02:00", "offset")
            + log("2026-11-23T09:00:00.2999999Z", "rounded")
            + log("2026-11-23T04:00:00.7-05:00", "behind")
            + log("2026-11-23T09:00:00.5Z", "plain")
        )
    done = _cli("tail", str(tmp_path), "--no-follow", "-n", "4", timeout=120)
    assert done.returncode == 0, done.stderr
    assert [
        line.split(" ")[0] + " " + line.split(": ")[-1] for line in done.stdout.splitlines()
    ] == [
        "09:00:00.200 offset",
        "09:00:00.300 rounded",
        "09:00:00.500 plain",
        "09:00:00.700 behind",
    ]


# -- problems that must be said ---------------------------------------------------------------


def _unlistable(folder: Path) -> Path:
    """A folder under ``folder`` that cannot be listed: no permission, or, for root, a path
    longer than the system takes."""
    if os.geteuid() != 0:
        locked = folder / "locked"
        locked.mkdir()
        (locked / "hidden.jsonl").write_bytes(_requests(1, 1))
        locked.chmod(0)
        return locked
    here = os.open(folder, os.O_RDONLY)
    name = "d" * 250
    try:
        for _ in range(20):  # 20 levels of 250 characters: past PATH_MAX
            os.mkdir(name, dir_fd=here)
            deeper = os.open(name, os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = deeper
    finally:
        os.close(here)
    return folder / name


def test_summary_says_what_it_could_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "ok.jsonl").write_bytes(_requests(1, 2))
    with open(folder / "zeros.jsonl", "wb") as out:
        out.truncate(64 << 20)  # NUL bytes and no newline
    locked = _unlistable(folder)
    try:
        done = _cli("summary", str(folder))
        assert done.returncode == 0, done.stderr
        assert "requests    2 in 1 traces" in done.stdout
        assert f"{folder / 'zeros.jsonl'}:0: unfinished last line" in done.stdout
        assert "1 unfinished files" in done.stdout
        assert "cannot read folder" in done.stdout and "1 unreadable paths" in done.stdout
        data = json.loads(_cli("summary", str(folder), "--json").stdout)
        assert data["unfinished_files"] == [str(folder / "zeros.jsonl")]
    finally:
        if locked.name == "locked":
            locked.chmod(0o700)
