"""Live following: appended lines, new files and deletions reach the model (watch and poll)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dm_explore.ingest import FolderReader
from dm_explore.ingest.follow import follow
from tests.explore.fixtures import Writer


def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.mark.parametrize("poll", [False, True])
def test_follow_appends_new_files_partial_lines_and_deletions(tmp_path: Path, poll: bool) -> None:
    first = Writer("web", 1).ev("log", 1.0, level="info", msg="one")
    first.write(tmp_path / "web.jsonl")
    reader = FolderReader(tmp_path)
    stop = threading.Event()
    lock = threading.Lock()  # the model is read here while the follower applies

    def read() -> None:
        with lock:
            reader.read()

    def events() -> int:
        with lock:
            return reader.model.totals["events"]

    thread = threading.Thread(
        target=follow, args=(tmp_path, read, stop), kwargs={"poll": poll, "poll_seconds": 0.05}
    )
    thread.start()
    try:
        model = reader.model
        _until(lambda: events() == 1)
        line = Writer("web", 1).ev("log", 2.0, level="info", msg="two").lines[0]
        with open(tmp_path / "web.jsonl", "ab") as f:
            f.write(line[:20])  # half a line: must wait for its newline
            f.flush()
            time.sleep(0.3)
            assert events() == 1
            f.write(line[20:])
        _until(lambda: events() == 2)
        Writer("api", 2).ev("log", 3.0, level="info", msg="new").write(
            tmp_path / "nested" / "api.jsonl"
        )
        _until(lambda: events() == 3)
        os.unlink(tmp_path / "nested" / "api.jsonl")
        Writer("web", 1).ev("log", 4.0, level="info", msg="nudge").write(tmp_path / "other.jsonl")
        _until(lambda: any(f.gone for f in model.files.values()))
        assert events() == 4  # a deleted file keeps what it gave
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_follow_returns_at_once_when_stopped_before_it_began(tmp_path: Path) -> None:
    calls: list[int] = []
    stop = threading.Event()
    stop.set()
    follow(tmp_path, lambda: calls.append(1), stop)
    assert calls == []
