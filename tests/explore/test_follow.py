"""Live following: appended lines, new files and deletions reach the model (watch and poll)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from dm_explore.reader import FolderReader
from dm_explore.reader.folder import follow
from tests.explore.fixtures import Writer


async def _until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("poll", [False, True])
def test_follow_appends_new_files_partial_lines_and_deletions(tmp_path: Path, poll: bool) -> None:
    first = Writer("web", 1).ev("log", 1.0, level="info", msg="one")
    first.write(tmp_path / "web.jsonl")
    reader = FolderReader(tmp_path)
    stop = asyncio.Event()

    async def scenario() -> None:
        async def consume() -> None:
            async for _ in follow(reader, poll=poll, poll_ms=50, stop=stop):
                pass

        task = asyncio.create_task(consume())
        model = reader.model
        await _until(lambda: model.totals["events"] == 1)
        line = Writer("web", 1).ev("log", 2.0, level="info", msg="two").lines[0]
        with open(tmp_path / "web.jsonl", "ab") as f:
            f.write(line[:20])  # half a line: must wait for its newline
            f.flush()
            await asyncio.sleep(0.3)
            assert model.totals["events"] == 1
            f.write(line[20:])
        await _until(lambda: model.totals["events"] == 2)
        Writer("api", 2).ev("log", 3.0, level="info", msg="new").write(
            tmp_path / "nested" / "api.jsonl"
        )
        await _until(lambda: model.totals["events"] == 3)
        os.unlink(tmp_path / "nested" / "api.jsonl")
        Writer("web", 1).ev("log", 4.0, level="info", msg="nudge").write(tmp_path / "other.jsonl")
        await _until(lambda: any(f.gone for f in model.files.values()))
        assert model.totals["events"] == 4  # a deleted file keeps what it gave
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
