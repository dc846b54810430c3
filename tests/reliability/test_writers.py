"""Many concurrent writers of every kind: zero corrupt lines, zero lost events, correct nesting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from tests.reliability.figures import record_figure

ROOT = Path(__file__).resolve().parents[2]


def _run(total: int, folder: Path) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("stress_writer.py")), str(total)],
        env={**os.environ, "DM_LOG_DIR": str(folder), "DM_VALIDATE": "0", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(1800)
def test_concurrent_writers_lose_nothing(tmp_path: Path, soak: bool) -> None:
    total = 1_000_000 if soak else 100_000
    expected = _run(total, tmp_path)

    corrupt = 0
    seen: dict[str, list[int]] = defaultdict(list)
    spans: dict[str, set[str]] = defaultdict(set)
    starts: dict[str, str] = {}
    files = sorted(tmp_path.glob("*.jsonl"))
    for path in files:
        for line in path.read_bytes().splitlines():
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                corrupt += 1
                continue
            if event["event"] == "x.stress":
                seen[event["writer"]].append(event["i"])
                spans[event["writer"]].add(event["span"])
            elif event["event"] == "span.start":
                starts[event["span"]] = event["name"]
    written = sum(len(v) for v in seen.values())
    lost = sum(expected.values()) - written
    record_figure(
        "writers",
        events_expected=sum(expected.values()),
        events_written=written,
        lost=lost,
        corrupt_lines=corrupt,
        files=len(files),
    )

    assert corrupt == 0
    assert lost == 0
    for writer, n in expected.items():
        assert sorted(seen[writer]) == list(range(n)), writer
        assert seen[writer] == sorted(seen[writer]), f"{writer} out of order within its file"
        assert len(spans[writer]) == 1 and starts[next(iter(spans[writer]))] == writer
    # The parent, 4 forked children and the 2 pool workers each wrote their own file.
    assert len(files) == 7
